using Latent.Layers;
using Latent.Losses;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

/// <summary>Models with several inputs and outputs: Keras's semantics of weighted losses, and every new path's gradient.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Model.ParallelStepMinRows
public class MultiOutputTests
{
    private static (Model Model, SymbolicTensor Code) TwoHeads(int seed)
    {
        Randomness.SetSeed(seed);
        var input = Input.Create(10);
        var code = new Dense(4, "tanh", name: "code").Apply(input);
        var a = new Dense(10, "sigmoid", name: "recon").Apply(code);
        var b = new Dense(3, "softplus", name: "side").Apply(code);
        return (new Model([input], [a, b]), code);
    }

    [Fact]
    public void TwoOutputsWithTheirOwnLossesAndWeightsHaveTheRightGradient()
    {
        var (model, _) = TwoHeads(1);
        model.Compile("sgd", [new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures), new MeanSquaredError()], [1.0, 3.0]);
        ModelChecker.CheckGradients(model, batch: 4, seed: 2, scale: 100);
    }

    [Fact]
    public void AnOutputThatAlsoFeedsALayerGetsBothGradients()
    {
        // "code" is an output (its loss's gradient) and the input of "recon" (its gradient too): they add.
        var (twoHeads, code) = TwoHeads(3);
        var model = new Model(twoHeads.Inputs, [twoHeads.Outputs[0], code]);
        model.Compile("sgd", [new BinaryCrossentropy(), new MeanAbsoluteError(LossReduction.SumOverFeatures)], [1.0, 0.5]);
        ModelChecker.CheckGradients(model, batch: 3, seed: 4);
    }

    [Fact]
    public void TheSameTensorListedTwiceAddsBothLosses()
    {
        var (twoHeads, _) = TwoHeads(5);
        var recon = twoHeads.Outputs[0];
        var model = new Model(twoHeads.Inputs, [recon, recon]);
        model.Compile("sgd", [new BinaryCrossentropy(), new MeanSquaredError()], [2.0, 1.0]);
        ModelChecker.CheckGradients(model, batch: 3, seed: 6);
    }

    [Fact]
    public void TwoInputsTrainThroughAnAdd()
    {
        Randomness.SetSeed(7);
        var left = Input.Create(6);
        var right = Input.Create(6);
        var merged = new Add().Apply(new Dense(5, "relu").Apply(left), new Dense(5, "elu").Apply(right));
        var model = new Model([left, right], [new Dense(6, "sigmoid").Apply(merged)]);
        model.Compile("sgd", "binary_crossentropy");
        ModelChecker.CheckGradients(model, batch: 4, seed: 8);
    }

    [Fact]
    public void EvaluateGivesTheWeightedTotalAndEachOutputsLoss()
    {
        var (model, _) = TwoHeads(9);
        model.Compile("adam", [new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures), new MeanSquaredError()], [1.0, 100.0]);
        var x = Tensor.FromArray(Synthetic.LowRank(50, 10, 2, seed: 9));
        var side = Tensor.FromArray(Synthetic.Uniform(50 * 3, 10, 0, 1), 50, 3);
        model.Fit([x], [x, side], epochs: 2, batchSize: 16, verbose: 0, seed: 1);
        var e = model.EvaluateAll([x], [x, side], batchSize: 16);
        Assert.Equal(e.OutputLosses[0] + 100 * e.OutputLosses[1], e.Loss, 9);

        // Each output's loss from the predictions, by its formula.
        var predictions = model.PredictAll(x);
        Assert.Equal(2, predictions.Count);
        Assert.Equal([50, 10], predictions[0].Shape);
        Assert.Equal([50, 3], predictions[1].Shape);
        double bce = 0, mse = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double p = Math.Clamp(predictions[0].Span[i], 1e-7, 1 - 1e-7), t = x.Span[i];
            bce -= t * Math.Log(p) + (1 - t) * Math.Log(1 - p);
        }
        for (int i = 0; i < side.Length; i++) mse += Math.Pow(predictions[1].Span[i] - side.Span[i], 2);
        Assert.Equal(bce / 50, e.OutputLosses[0], 3);   // summed over the 10 features, mean over samples
        Assert.Equal(mse / side.Length, e.OutputLosses[1], 5);
    }

    [Fact]
    public void HistoryRecordsEachOutputUnderKerasNames()
    {
        var (model, _) = TwoHeads(11);
        model.Compile("adam", [new BinaryCrossentropy(), new MeanSquaredError()], [1.0, 2.0]);
        var x = Tensor.FromArray(Synthetic.LowRank(40, 10, 2, seed: 11));
        var side = Tensor.FromArray(Synthetic.Uniform(40 * 3, 12, 0, 1), 40, 3);
        var output = new StringWriter();
        var h = model.Fit([x], [x, side], epochs: 2, batchSize: 8, validationData: ([x], [x, side]), verbose: 2, seed: 3, output: output);
        Assert.Equal(["recon_loss", "side_loss"], h.OutputLosses.Keys.Order());
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(h.Loss[e], h.OutputLosses["recon_loss"][e] + 2 * h.OutputLosses["side_loss"][e], 9);
            Assert.Equal(h.ValLoss[e], h.ValOutputLosses["recon_loss"][e] + 2 * h.ValOutputLosses["side_loss"][e], 9);
        }
        Assert.Contains("recon_loss:", output.ToString());
    }

    [Theory]
    [InlineData(32)]
    [InlineData(17)]
    public void OneCoreAndTwoAgreeOnASummedLossAndTwoOutputs(int batch)
    {
        var x = Tensor.FromArray(Synthetic.LowRank(batch, 10, 2, seed: batch));
        var side = Tensor.FromArray(Synthetic.Uniform(batch * 3, batch, 0, 1), batch, 3);
        (double Loss, float[][] Weights, bool Parallel) Run(bool parallel)
        {
            int saved = Model.ParallelStepMinRows;
            Model.ParallelStepMinRows = parallel ? 1 : int.MaxValue;
            try
            {
                var (model, _) = TwoHeads(13);
                model.Compile(new Latent.Optimizers.Sgd(learningRate: 0.1),
                              [new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures), new MeanSquaredError(LossReduction.SumOverFeatures)], [1.0, 5.0]);
                double loss = model.TrainOnBatch([x], [x, side]);
                return (loss, model.GetWeights(), model.StepIsParallel);
            }
            finally
            {
                Model.ParallelStepMinRows = saved;
            }
        }
        var one = Run(false);
        var two = Run(true);
        if (Latent.Kernels.ComputePool.Shared.Threads >= 2) Assert.True(two.Parallel);
        Assert.Equal(one.Loss, two.Loss, 5);
        for (int w = 0; w < one.Weights.Length; w++)
            for (int i = 0; i < one.Weights[w].Length; i++)
                Assert.True(Math.Abs(one.Weights[w][i] - two.Weights[w][i]) <= 1e-5f * (1 + Math.Abs(one.Weights[w][i])),
                            $"weight {w}[{i}]: one core {one.Weights[w][i]}, two {two.Weights[w][i]}");
    }

    [Fact]
    public void ApplyAllCallsAMultiOutputModelOnNewTensors()
    {
        var (model, _) = TwoHeads(15);
        var again = model.ApplyAll(Input.Create(10));
        Assert.Equal(2, again.Count);
        Assert.Equal([10], again[0].Shape);
        Assert.Equal([3], again[1].Shape);
        Assert.Throws<InvalidOperationException>(() => model.Apply(Input.Create(10)));
    }

    [Fact]
    public void WrongCountsOfLossesOrDataAreClearErrors()
    {
        var (model, _) = TwoHeads(17);
        var e = Assert.Throws<ArgumentException>(() => model.Compile("adam", [new MeanSquaredError()]));
        Assert.Contains("2 output(s)", e.Message);
        Assert.Contains("received 1 loss", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Compile("adam", [new MeanSquaredError(), new MeanSquaredError()], [1.0, double.NaN]));
        model.Compile("adam", "mse"); // one loss for every output
        Assert.Equal(2, model.Losses.Count);
        var x = Tensor.FromArray(Synthetic.Uniform(20, 1, 0, 1), 2, 10);
        var t = Assert.Throws<ArgumentException>(() => model.Fit([x], [x], verbose: 0));
        Assert.Contains("received 1 target set", t.Message);
        var n = Assert.Throws<NotSupportedException>(() => model.Predict(x));
        Assert.Contains("PredictAll", n.Message);
        var wrong = Tensor.FromArray(Synthetic.Uniform(8, 1, 0, 1), 2, 4);
        var s = Assert.Throws<ArgumentException>(() => model.Fit([x], [x, wrong], verbose: 0));
        Assert.Contains("y[1]", s.Message);
        Assert.Contains("has 3 values per sample", s.Message);
    }
}
