using Latent.Losses;
using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>The VAE's sampling layer: its gradients, its KL term, its draws, its seeding, its warm-up, its errors.</summary>
public class SamplingTests
{
    [Theory]
    [InlineData(0.7)]
    [InlineData(0.0)]
    public void GradientsMatchFiniteDifferences(double klWeight)
    {
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Sampling(klWeight), [[4], [4]], batch: 3, seed: 41, training: true));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Sampling(klWeight), [[2, 3], [2, 3]], batch: 2, seed: 42, training: true));
    }

    /// <summary>μ and log σ² as two model inputs, z the output; MSE against zeros keeps the data loss simple.</summary>
    private static (Model Model, Sampling Layer) Direct(int d, double klWeight)
    {
        var mean = Input.Create(d);
        var logVar = Input.Create(d);
        var layer = new Sampling(klWeight);
        var model = new Model([mean, logVar], [layer.Apply(mean, logVar)]);
        model.Compile("sgd", "mse");
        return (model, layer);
    }

    [Fact]
    public void TheKlTermIsSummedOverTheLatentAndAveragedOverTheBatch()
    {
        var (model, layer) = Direct(3, klWeight: 0.5);
        float[] m = [0.5f, -1, 0, 2, 0.1f, -0.3f], v = [0, -1, 0.5f, 1, -2, 0.2f];
        double expected = 0;
        for (int i = 0; i < 6; i++) expected += -0.5 * (1 + v[i] - m[i] * m[i] - Math.Exp(v[i]));
        expected = 0.5 * expected / 2;   // β · (1/B) Σ
        var e = model.EvaluateAll([Tensor.FromArray(m, 2, 3), Tensor.FromArray(v, 2, 3)], [new Tensor([2, 3])], batchSize: 2);
        Assert.Equal(expected, e.AddedLoss, 5);
        layer.KlWeight = 0;
        Assert.Equal(0, model.EvaluateAll([Tensor.FromArray(m, 2, 3), Tensor.FromArray(v, 2, 3)], [new Tensor([2, 3])], batchSize: 2).AddedLoss);
    }

    [Fact]
    public void DrawsFollowTheGaussianTheEncoderGives()
    {
        // μ = 1, log σ² = ln 4: z ~ N(1, 2²), over 4000 samples × 5 dimensions.
        var (model, _) = Direct(5, 1);
        int n = 4000;
        var m = new Tensor([n, 5]); m.Span.Fill(1);
        var v = new Tensor([n, 5]); v.Span.Fill(MathF.Log(4));
        var z = model.PredictAll([m, v], batchSize: 500)[0].Span.ToArray();
        double mean = z.Average(), std = Math.Sqrt(z.Select(t => (t - mean) * (t - mean)).Average());
        Assert.InRange(mean, 1 - 0.05, 1 + 0.05);      // 5 standard errors of 2/√20000
        Assert.InRange(std, 2 - 0.05, 2 + 0.05);
        // Fresh draws per sample: two rows with the same μ, σ are not the same.
        Assert.NotEqual(z[0], z[5]);
    }

    [Fact]
    public void TrainingIsReproducibleFromFitsSeedAndDiffersAcrossSeeds()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(64, 12, 3, seed: 9));
        double[] Run(int seed)
        {
            var model = SmallVae(seed: 4);
            return model.Fit(x, x, epochs: 2, batchSize: 16, verbose: 0, seed: seed).Loss.ToArray();
        }
        Assert.Equal(Run(1), Run(1));
        Assert.NotEqual(Run(1), Run(2));
    }

    [Fact]
    public void KlWarmupRaisesTheWeightLinearlyAndHistoryShowsTheParts()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(64, 12, 3, seed: 10));
        var model = SmallVae(seed: 5, klWeight: 2);
        var sampling = model.Layers.OfType<Sampling>().Single();
        var seen = new List<double>();
        var history = model.Fit(x, x, epochs: 4, batchSize: 16, verbose: 0, seed: 1,
                                callbacks: [new KlWarmup(epochs: 2), new Watch(() => seen.Add(sampling.KlWeight))]);
        Assert.Equal([0.0, 1.0, 2.0, 2.0], seen);
        Assert.Equal(0, history.AddedLoss[0]);                   // epoch 0 trains the reconstruction alone
        Assert.All(history.AddedLoss.Skip(1), kl => Assert.True(kl > 0));
        // total = reconstruction + KL, per epoch
        var reconstruction = history.OutputLosses.Single().Value;
        for (int e = 0; e < 4; e++) Assert.Equal(history.Loss[e], reconstruction[e] + history.AddedLoss[e], 4);

        // Resumed mid-ramp with an explicit β, the ramp continues where it was.
        var resumed = SmallVae(seed: 5, klWeight: 0.1);
        seen.Clear();
        var layer = resumed.Layers.OfType<Sampling>().Single();
        resumed.Fit(x, x, epochs: 3, initialEpoch: 1, batchSize: 16, verbose: 0, seed: 1,
                    callbacks: [new KlWarmup(epochs: 4, klWeight: 4), new Watch(() => seen.Add(layer.KlWeight))]);
        Assert.Equal([1.0, 2.0], seen);
    }

    [Fact]
    public void TheEpochLineShowsReconstructionAndKl()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(32, 12, 3, seed: 11));
        var model = SmallVae(seed: 9);
        var writer = new StringWriter();
        var history = model.Fit(x, x, epochs: 1, batchSize: 16, verbose: 2, seed: 1, output: writer);
        string line = writer.ToString();
        Assert.Contains(FormattableString.Invariant($"reconstruction: {history.Loss[0] - history.AddedLoss[0]:F4} - kl: {history.AddedLoss[0]:F4}"), line);
        Assert.Equal("kl", model.AddedLossName);
    }

    private sealed class Watch(Action onEpochBegin) : Callback
    {
        public override void OnEpochBegin(int epoch) => onEpochBegin();
    }

    [Fact]
    public void BadSettingsGetClearErrors()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sampling(klWeight: -1));
        Assert.Contains("klWeight=-1", e.Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentOutOfRangeException>(() => new Sampling(double.NaN)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampling().KlWeight = double.PositiveInfinity);
        Assert.Contains("epochs=0", Assert.Throws<ArgumentOutOfRangeException>(() => new KlWarmup(0)).Message);
        Assert.Contains("klWeight=-2", Assert.Throws<ArgumentOutOfRangeException>(() => new KlWarmup(3, -2)).Message);
        var shapes = Assert.Throws<ArgumentException>(() => new Sampling().Apply(Input.Create(2), Input.Create(3)));
        Assert.Contains("(2)", shapes.Message);
        Assert.Contains("(3)", shapes.Message);
        // Warm-up on a model with nothing to warm up.
        var input = Input.Create(3);
        var plain = new Model(input, new Dense(3).Apply(input));
        plain.Compile("sgd", "mse");
        var x = new Tensor([4, 3]);
        var none = Assert.Throws<InvalidOperationException>(() => plain.Fit(x, x, epochs: 1, verbose: 0, callbacks: [new KlWarmup(2)]));
        Assert.Contains("no Sampling layer", none.Message);
    }

    [Fact]
    public void SavesAndLoadsWithItsWeightAndResumesIdentically()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(40, 12, 3, seed: 6));
        var model = SmallVae(seed: 6, klWeight: 0.25);
        model.Fit(x, x, epochs: 1, batchSize: 8, verbose: 0, seed: 2);
        ModelChecker.AssertSavesLoadsAndResumes(model, x, loaded => Assert.Equal(0.25, loaded.Layers.OfType<Sampling>().Single().KlWeight));
    }

    [Fact]
    public void AVaeHasTheRightGradients()
    {
        var model = SmallVae(seed: 8, activation: "tanh");
        ModelChecker.CheckGradients(model, batch: 4, seed: 3, scale: 100);
    }

    /// <summary>12 → Dense 8 → (μ, log σ²) 2 → Sampling → Dense 8 → Dense 12 sigmoid, BCE summed over features, Adam.</summary>
    internal static Model SmallVae(int seed, double klWeight = 1, string activation = "relu")
    {
        Randomness.SetSeed(seed);
        var input = Input.Create(12);
        var h = new Dense(8, activation).Apply(input);
        var z = new Sampling(klWeight, name: "z").Apply(new Dense(2, name: "z_mean").Apply(h), new Dense(2, name: "z_log_var").Apply(h));
        var model = new Model(input, new Dense(12, "sigmoid").Apply(new Dense(8, activation).Apply(z)));
        model.Compile("adam", new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
        return model;
    }
}
