using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

/// <summary>Whole-model gradients through the executor: shared layers, penalties, the logit path of the loss.</summary>
public class ModelGradientTests
{
    private static void CheckModel(Model model, int batch, int seed, string loss = "binary_crossentropy", double h = 1e-2)
    {
        model.Compile("sgd", loss);
        var ex = model.CreateTrainingExecutor(batch, (ulong)seed);
        var x = Synthetic.Uniform(batch * model.Inputs[0].Size, seed, 0, 1);
        var y = Synthetic.Uniform(batch * model.Outputs[0].Size, seed + 1, 0, 1);
        x.CopyTo(ex.Input(0, batch));
        y.CopyTo(ex.Targets(0), 0);
        model.ComputeStepGradients(ex, batch);
        var analytic = model.Weights.Select(w => w.Grads.ToArray()).ToArray();
        double Loss()
        {
            ex.Reseed((ulong)seed);
            return model.ComputeTotalLoss(ex, batch) * 1000; // scaled so gradients are O(1) for the absolute tolerance
        }
        for (int i = 0; i < model.Weights.Count; i++)
        {
            var w = model.Weights[i];
            var report = GradientChecker.Compare(w.Name, w.Values, analytic[i].Select(v => v * 1000).ToArray(), Loss, h: h, atol: 5e-3);
            Assert.True(report.Passed, report.Message);
        }
    }

    /// <summary>
    /// Layers that write their input gradient (the executor then skips clearing it), one read by two layers (the first
    /// to run backward writes, the other adds), and one read twice by the same layer (cleared, then added twice).
    /// </summary>
    private static Model WritersAndAdders(string activation, bool pool)
    {
        var input = Input.Create(6, 6, 2);
        var x = new Conv2D(8, (3, 3), padding: "same", activation: activation).Apply(input);
        if (pool) x = new MaxPooling2D((2, 2)).Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2DTranspose(3, (3, 3), padding: "same", activation: activation).Apply(x);
        var flat = new Flatten().Apply(x);
        var sum = new Add().Apply(new Dense(12, "tanh").Apply(flat), new Dense(12).Apply(flat));
        var twice = new Add().Apply(sum, sum);
        var output = new Dense(5, "sigmoid").Apply(new Reshape([12]).Apply(twice));
        return new Model(input, output);
    }

    [Fact]
    public void GradientsMatchWhereLayersWriteTheirInputGradients()
    {
        // Smooth: ReLUs and max pooling (its layer checks and the step test below cover it) put enough kinks within
        // a step of h that the differences move by several percent.
        Randomness.SetSeed(21);
        CheckModel(WritersAndAdders("tanh", pool: false), batch: 3, seed: 8);
    }

    [Fact]
    public void AStepsGradientsDoNotDependOnTheStepBefore()
    {
        // Gradient buffers (inputs' and weights') are not cleared where a layer writes them: a layer that added instead
        // would pick up the previous step's values, and a reused executor would disagree with a fresh one.
        Randomness.SetSeed(22);
        var model = WritersAndAdders("relu", pool: true);
        model.Compile("sgd", "binary_crossentropy");
        const int Batch = 3;
        float[][] Gradients(GraphExecutor ex, int seed)
        {
            Synthetic.Uniform(Batch * model.Inputs[0].Size, seed, 0, 1).CopyTo(ex.Input(0, Batch));
            Synthetic.Uniform(Batch * model.Outputs[0].Size, seed + 1, 0, 1).CopyTo(ex.Targets(0), 0);
            model.ComputeStepGradients(ex, Batch);
            return [.. model.Weights.Select(w => w.Grads.ToArray())];
        }
        var reused = model.CreateTrainingExecutor(Batch, 1);
        var first = Gradients(reused, 30);
        var again = Gradients(reused, 40);
        var fresh = Gradients(model.CreateTrainingExecutor(Batch, 1), 40);
        for (int i = 0; i < fresh.Length; i++)
        {
            Assert.Equal(fresh[i], again[i]);
            Assert.NotEqual(first[i], again[i]);
        }
    }

    [Fact]
    public void ALayerFrozenAfterAStepHasZeroGradients()
    {
        // A frozen layer writes no gradient; its ranges hold the last step's values unless the executor clears them.
        Randomness.SetSeed(23);
        var input = Input.Create(5);
        var first = new Dense(4, "tanh");
        var second = new Dense(5, "sigmoid");
        var model = new Model(input, second.Apply(first.Apply(input)));
        model.Compile("sgd", "binary_crossentropy");
        const int Batch = 3;
        void Step(GraphExecutor ex)
        {
            Synthetic.Uniform(Batch * 5, 50, 0, 1).CopyTo(ex.Input(0, Batch));
            Synthetic.Uniform(Batch * 5, 51, 0, 1).CopyTo(ex.Targets(0), 0);
            model.ComputeStepGradients(ex, Batch);
        }
        var ex = model.CreateTrainingExecutor(Batch, 1);
        Step(ex);
        Assert.Contains(first.Kernel!.Grads.ToArray(), g => g != 0);
        var secondBefore = second.Kernel!.Grads.ToArray();
        first.Trainable = false;
        Step(ex);
        Assert.All(first.Kernel.Grads.ToArray(), g => Assert.Equal(0f, g));
        Assert.All(first.Bias!.Grads.ToArray(), g => Assert.Equal(0f, g));
        Assert.Equal(secondBefore, second.Kernel.Grads.ToArray());
    }

    [Fact]
    public void DeepAutoencoderWithSigmoidOutputUsesLogitsAndMatches()
    {
        Randomness.SetSeed(12);
        var input = Input.Create(10);
        var h = new Dense(6, "relu").Apply(input);
        h = new Dense(3, "tanh").Apply(h);
        var output = new Dense(10, "sigmoid").Apply(h);
        CheckModel(new Model(input, output), batch: 5, seed: 3);
    }

    [Fact]
    public void SharedLayerAppliedTwiceSumsItsGradients()
    {
        Randomness.SetSeed(13);
        var input = Input.Create(6);
        var shared = new Dense(6, "tanh");
        var output = new Dense(4, "sigmoid").Apply(shared.Apply(shared.Apply(input)));
        var model = new Model(input, output);
        Assert.Equal(3, model.Nodes.Length);
        CheckModel(model, batch: 4, seed: 4, loss: "mean_squared_error");
    }

    [Fact]
    public void ActivityAndWeightPenaltiesAreInTheGradient()
    {
        Randomness.SetSeed(14);
        var input = Input.Create(8);
        var code = new Dense(4, "sigmoid", activityRegularizer: Latent.Regularizers.L1(1e-2),
                             kernelRegularizer: Latent.Regularizers.L2(1e-2)).Apply(input);
        var output = new Dense(8, "sigmoid", biasRegularizer: Latent.Regularizers.L1L2(1e-2, 1e-2)).Apply(code);
        CheckModel(new Model(input, output), batch: 3, seed: 5);
    }

    [Fact]
    public void TensorUsedByTwoLayersGetsBothGradients()
    {
        Randomness.SetSeed(15);
        var input = Input.Create(5);
        var trunk = new Dense(4, "tanh").Apply(input);            // feeds two layers: its gradient is the sum
        var left = new Dense(4, "selu").Apply(trunk);
        var right = new Dense(4, "softplus").Apply(trunk);
        var merged = new Add().Apply(left, right);
        var output = new Activation("sigmoid").Apply(new Dense(3).Apply(merged));
        CheckModel(new Model(input, output), 3, 6);
        CheckModel(new Model(input, new Dense(3, "elu").Apply(merged)), 3, 7, "mean_absolute_error");
    }

    [Fact]
    public void DropoutInsideTheModelMatchesWithAFixedMask()
    {
        Randomness.SetSeed(16);
        var input = Input.Create(12);
        var h = new Dropout(0.4).Apply(new Dense(10, "relu").Apply(input));
        CheckModel(new Model(input, new Dense(12, "sigmoid").Apply(h)), batch: 4, seed: 8);
    }
}
