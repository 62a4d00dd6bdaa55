using Latent.Layers;
using Latent.Losses;
using Latent.Serialization;
using Latent.Tests.TestSupport;
using Latent.UserLayers;

namespace Latent.Tests.Layers;

/// <summary>
/// Layers written outside the library, against its public API only (tests/Latent.UserLayers has no access to
/// internals): one with weights and a declared activation, one that draws random numbers and adds a loss.
/// They are gradient-checked, trained on two cores, reproducible, equal on one and two cores, saved and loaded.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Model.ParallelStepMinRows
public class UserLayerTests
{
    [Fact]
    public void FeatureScaleGradientsMatchFiniteDifferences()
    {
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new FeatureScale("tanh"), [7], batch: 3, seed: 31));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new FeatureScale(), [2, 5], batch: 2, seed: 32));
    }

    [Fact]
    public void GaussianSamplingGradientsMatchFiniteDifferences()
    {
        // The KL term enters through ctx.AddLoss; its gradient is the layer's own Backward.
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new GaussianSampling(klWeight: 0.7), [[4], [4]], batch: 3, seed: 33, training: true));
    }

    [Fact]
    public void TheDocsGaussianSamplingTrainsLikeTheLibrarysSampling()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(64, 12, 3, seed: 12));
        double[] Train(Func<Layer> sampling)
        {
            Randomness.SetSeed(21);
            var input = Input.Create(12);
            var h = new Dense(8, "relu").Apply(input);
            var z = sampling().Apply(new Dense(2).Apply(h), new Dense(2).Apply(h));
            var model = new Model(input, new Dense(12, "sigmoid").Apply(new Dense(8, "relu").Apply(z)));
            model.Compile("adam", new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
            return model.Fit(x, x, epochs: 3, batchSize: 16, verbose: 0, seed: 4).Loss.ToArray();
        }
        var user = Train(() => new GaussianSampling(0.5));
        var library = Train(() => new Sampling(0.5));
        for (int e = 0; e < 3; e++) Assert.True(Math.Abs(user[e] - library[e]) <= 1e-4 * library[e], $"epoch {e}: {user[e]} vs {library[e]}");
    }

    [Fact]
    public void AWrongGradientInAUserLayerIsCaught()
    {
        // The checker must fail on a layer whose Backward forgets the KL term.
        var reports = GradientChecker.CheckLayer(new ForgetfulSampling(), [[4], [4]], batch: 3, seed: 34, training: true);
        Assert.Contains(reports, r => !r.Passed);
    }

    [Fact]
    public void AModelOfUserLayersHasTheRightGradients()
    {
        var model = Build(seed: 3);
        ModelChecker.CheckGradients(model, batch: 5, seed: 7, scale: 100);
    }

    [Fact]
    public void TrainsOnTwoCoresReproduciblyAndLikeOneCore()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(96, 12, 3, seed: 5));
        (History History, float[][] Weights, bool Parallel) Train(bool parallel)
        {
            int saved = Model.ParallelStepMinRows;
            Model.ParallelStepMinRows = parallel ? 8 : int.MaxValue;
            try
            {
                var model = Build(seed: 4);
                var history = model.Fit(x, x, epochs: 3, batchSize: 32, verbose: 0, seed: 11);
                return (history, model.GetWeights(), model.StepIsParallel);
            }
            finally
            {
                Model.ParallelStepMinRows = saved;
            }
        }
        var a = Train(parallel: true);
        var b = Train(parallel: true);
        var one = Train(parallel: false);
        if (Latent.Kernels.ComputePool.Shared.Threads >= 2) Assert.True(a.Parallel, "user layers must run on the data-parallel path");
        Assert.False(one.Parallel);

        // Bit-identical with the same seed.
        Assert.Equal(a.History.Loss, b.History.Loss);
        for (int w = 0; w < a.Weights.Length; w++) Assert.Equal(a.Weights[w], b.Weights[w]);

        // One core and two agree to float rounding: the same noise per sample, the KL scaled by the whole batch.
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(one.History.Loss[e], a.History.Loss[e], 4);
            Assert.Equal(one.History.AddedLoss[e], a.History.AddedLoss[e], 4);
        }
        for (int w = 0; w < a.Weights.Length; w++)
            for (int i = 0; i < a.Weights[w].Length; i++)
                Assert.True(Math.Abs(one.Weights[w][i] - a.Weights[w][i]) <= 1e-4f * (1 + Math.Abs(one.Weights[w][i])),
                            $"weight {w}[{i}]: one core {one.Weights[w][i]}, two cores {a.Weights[w][i]}");

        // The added loss is recorded apart and is part of the total.
        Assert.All(a.History.AddedLoss, v => Assert.True(v > 0));
        var data = a.History.OutputLosses.Values.Single();
        for (int e = 0; e < 3; e++)
            Assert.Equal(a.History.Loss[e], data[e] + a.History.Penalty[e] + a.History.AddedLoss[e], 9);
    }

    [Fact]
    public void RegisteredUserLayersSaveAndLoad()
    {
        LayerRegistry.Register<FeatureScale>();
        LayerRegistry.Register<GaussianSampling>();
        var model = Build(seed: 6);
        var x = Tensor.FromArray(Synthetic.LowRank(40, 12, 3, seed: 6));
        model.Fit(x, x, epochs: 1, batchSize: 8, verbose: 0, seed: 2);
        ModelChecker.AssertSavesLoadsAndResumes(model, x, loaded =>
        {
            Assert.Equal(model.Layers.Select(l => l.GetType()), loaded.Layers.Select(l => l.GetType()));
            Assert.Equal(0.5, loaded.Layers.OfType<GaussianSampling>().Single().KlWeight);
            Assert.Equal("tanh", loaded.Layers.OfType<FeatureScale>().Single().Activation.Name);
            Assert.NotNull(loaded.Layers.OfType<FeatureScale>().Single().GammaRegularizer);
            // The sampling layer draws at inference too; Predict reseeds, so both give the same numbers.
            Assert.Equal(model.Predict(x).Span.ToArray(), loaded.Predict(x).Span.ToArray());
        });
    }

    [Fact]
    public void AnUnregisteredLayerCannotBeSavedAndSaysHowToFixIt()
    {
        var input = Input.Create(3);
        var model = new Model(input, new ForgetfulSampling().Apply(input, input));
        var e = Assert.Throws<NotSupportedException>(() => model.Save(Path.Combine(Path.GetTempPath(), "never-written.safetensors")));
        Assert.Contains("ForgetfulSampling", e.Message);
        Assert.Contains("LayerRegistry.Register", e.Message);
    }

    /// <summary>input(12) → Dense 8 relu → (μ, log σ²) 3 → GaussianSampling → FeatureScale tanh → Dense 12 sigmoid, BCE summed over features.</summary>
    internal static Model Build(int seed)
    {
        Randomness.SetSeed(seed);
        var input = Input.Create(12);
        var h = new Dense(8, "relu").Apply(input);
        var mean = new Dense(3).Apply(h);
        var logVar = new Dense(3).Apply(h);
        var z = new GaussianSampling(klWeight: 0.5).Apply(mean, logVar);
        var s = new FeatureScale("tanh", gammaRegularizer: Regularizers.L2(1e-3)).Apply(z);
        var model = new Model(input, new Dense(12, "sigmoid").Apply(s));
        model.Compile("adam", new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
        return model;
    }

    /// <summary>GaussianSampling's forward with a Backward that drops the KL gradient: a wrong gradient. (Declared in
    /// this assembly, which sees the library's internals, so its overrides say "protected internal".)</summary>
    private sealed class ForgetfulSampling() : Layer(null)
    {
        protected override int InputArity => 2;
        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];
        protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) => outputShape[0];

        protected internal override void Forward(NodeContext ctx)
        {
            var m = ctx.Input(0);
            var v = ctx.Input(1);
            var z = ctx.OutputValues;
            var eps = ctx.Workspace;
            ctx.Random.FillNormal(eps);
            double kl = 0;
            for (int i = 0; i < z.Length; i++)
            {
                z[i] = m[i] + MathF.Exp(v[i] / 2) * eps[i];
                kl += -0.5 * (1 + v[i] - m[i] * m[i] - Math.Exp(v[i]));
            }
            ctx.AddLoss(kl / ctx.Batch);
        }

        protected internal override void Backward(NodeContext ctx)
        {
            var v = ctx.Input(1);
            var dz = ctx.OutputGrad;
            var eps = ctx.Workspace;
            var dm = ctx.InputGrad(0);
            var dv = ctx.InputGrad(1);
            for (int i = 0; i < dz.Length; i++) { dm[i] += dz[i]; dv[i] += dz[i] * eps[i] * 0.5f * MathF.Exp(v[i] / 2); }
        }
    }
}
