using Latent.Losses;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Losses;

public class LossTests
{
    public static TheoryData<string> Names() => new(["binary_crossentropy", "mean_squared_error", "mean_absolute_error"]);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var loss = Loss.Get(name);
        var p = Synthetic.Uniform(60, 1, 0.05f, 0.95f);
        var t = Synthetic.Uniform(60, 2, 0f, 1f);
        var g = new float[p.Length];
        loss.Compute(p, t, g);
        // Scale by n so gradients are O(1): the loss is a mean.
        var scaled = g.Select(v => v * p.Length).ToArray();
        var report = GradientChecker.Compare(name, p, scaled, () => loss.Compute(p, t, Span<float>.Empty) * p.Length, h: 1e-3);
        Assert.True(report.Passed, report.Message);
    }

    private static Loss Summed(string name) => name switch
    {
        "binary_crossentropy" => new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures),
        "mean_squared_error" => new MeanSquaredError(LossReduction.SumOverFeatures),
        _ => new MeanAbsoluteError(LossReduction.SumOverFeatures),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void SumOverFeaturesIsTheMeanTimesTheFeaturesWithItsGradient(string name)
    {
        // 5 samples of 12 features: summed over each sample's 12, averaged over the 5 = 12 × the mean over all 60.
        var mean = Loss.Get(name);
        var summed = Summed(name);
        var p = Synthetic.Uniform(60, 5, 0.05f, 0.95f);
        var t = Synthetic.Uniform(60, 6, 0f, 1f);
        var gMean = new float[60];
        var gSum = new float[60];
        double m = mean.Compute(p, t, gMean, samples: 5);
        double s = summed.Compute(p, t, gSum, samples: 5);
        Assert.Equal(12 * m, s, 9);
        for (int i = 0; i < 60; i++) Assert.True(Math.Abs(12 * gMean[i] - gSum[i]) <= 1e-5 * (1 + Math.Abs(gSum[i])), $"[{i}]: {12 * gMean[i]} vs {gSum[i]}");
        var report = GradientChecker.Compare(name + " summed", p, gSum, () => summed.Compute(p, t, Span<float>.Empty, samples: 5), h: 1e-3);
        Assert.True(report.Passed, report.Message);
        Assert.Throws<ArgumentException>(() => summed.Compute(p, t, Span<float>.Empty, samples: 7)); // 60 values are not 7 equal samples
    }

    [Fact]
    public void TheReductionIsSavedWithTheModel()
    {
        Randomness.SetSeed(4);
        var input = Latent.Layers.Input.Create(6);
        var model = new Model(input, new Latent.Layers.Dense(6, "sigmoid").Apply(input));
        model.Compile("adam", new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
        string path = Path.Combine(Path.GetTempPath(), $"reduction-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loss = Model.Load(path).Loss!;
            Assert.IsType<BinaryCrossentropy>(loss);
            Assert.Equal(LossReduction.SumOverFeatures, loss.Reduction);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BinaryCrossentropyFromLogitsMatchesFiniteDifferencesAndTheProbabilityForm()
    {
        var bce = new BinaryCrossentropy();
        var z = Synthetic.Uniform(80, 3, -6f, 6f);
        var t = Synthetic.Uniform(80, 4, 0f, 1f);
        var g = new float[z.Length];
        double fromLogits = bce.ComputeFromLogits(z, t, g);
        var p = z.Select(v => (float)(1 / (1 + Math.Exp(-v)))).ToArray();
        Assert.Equal(bce.Compute(p, t, Span<float>.Empty), fromLogits, 5);
        var scaled = g.Select(v => v * z.Length).ToArray();
        var report = GradientChecker.Compare("bce logits", z, scaled, () => bce.ComputeFromLogits(z, t, Span<float>.Empty) * z.Length);
        Assert.True(report.Passed, report.Message);
    }

    [Fact]
    public void BinaryCrossentropyFromLogitsMatchesADoubleReferenceAtEveryLength()
    {
        var bce = new BinaryCrossentropy();
        double limit = bce.LogitLimit;
        for (int n = 1; n <= 70; n++)
        {
            var z = Synthetic.Uniform(n, n, -20f, 20f);
            var t = Synthetic.Uniform(n, n + 100, 0f, 1f);
            var g = new float[n];
            double loss = bce.ComputeFromLogits(z, t, g);
            double expected = 0;
            for (int i = 0; i < n; i++)
            {
                double zc = Math.Clamp(z[i], -limit, limit);
                expected += Math.Max(zc, 0) - zc * t[i] + Math.Log(1 + Math.Exp(-Math.Abs(zc)));
                double grad = Math.Abs(z[i]) < limit ? (1 / (1 + Math.Exp(-z[i])) - t[i]) / n : 0;
                Assert.True(Math.Abs(grad - g[i]) <= 1e-6 / n + 1e-6 * Math.Abs(grad), $"n={n} i={i}: {g[i]} vs {grad}");
            }
            Assert.Equal(expected / n, loss, 5);
        }
    }

    [Theory]
    [InlineData(-16f, 16f)]    // past the clip on both sides
    [InlineData(-16f, -9f)]    // a trained model's background pixels: e = e^{-|z|} tiny, ln(1 + e) ≈ e
    [InlineData(-2f, 2f)]
    public void BothVectorWidthsMatchADoubleReferenceAcrossProductBlocks(float lo, float hi)
    {
        // The vector loops take one logarithm per block of products (64 vectors a lane): lengths across several blocks
        // and a partial one, both widths (the 512-bit one emulated where the CPU has no AVX-512), against sums in
        // double; gradients element by element.
        var bce = new BinaryCrossentropy();
        double limit = bce.LogitLimit;
        foreach (int n in new[] { 16, 1024, 16 * 64 * 3 + 48 })
        {
            var z = Synthetic.Uniform(n, 21, lo, hi);
            var t = Synthetic.Uniform(n, 22, 0f, 1f);
            for (int i = 0; i < n; i += 3) t[i] = 0f;   // background pixels
            double expected = 0;
            for (int i = 0; i < n; i++)
            {
                double zc = Math.Clamp(z[i], -limit, limit);
                expected += Math.Max(zc, 0) - zc * t[i] + Math.Log(1 + Math.Exp(-Math.Abs(zc)));
            }
            foreach (bool wide in new[] { false, true })
            {
                var g = new float[n];
                double sum = wide ? BinaryCrossentropy.SumFromLogits512(z, t, g, (float)limit, 1f / n)
                                  : BinaryCrossentropy.SumFromLogits256(z, t, g, (float)limit, 1f / n);
                Assert.True(Math.Abs(sum - expected) <= 2e-7 * Math.Abs(expected) + 1e-9 * n, $"n={n} wide={wide}: {sum:R} vs {expected:R}");
                for (int i = 0; i < n; i++)
                {
                    double grad = Math.Abs(z[i]) < limit ? (1 / (1 + Math.Exp(-z[i])) - t[i]) / n : 0;
                    Assert.True(Math.Abs(grad - g[i]) <= 1e-6 / n + 1e-6 * Math.Abs(grad), $"n={n} wide={wide} i={i}: {g[i]} vs {grad}");
                }
            }
        }
    }

    [Fact]
    public void ANaNLogitMakesTheLossNaNInTheVectorBodyAndTheTail()
    {
        // The vector loop clips with the native min/max, which drop NaNs; a diverged model must still report NaN.
        var bce = new BinaryCrossentropy();
        foreach (int at in new[] { 0, 15, 16, 31, 40 })   // first and last lane of a vector, and the scalar tail (n = 41)
        {
            var z = Synthetic.Uniform(41, 3, -5f, 5f);
            var t = Synthetic.Uniform(41, 4, 0f, 1f);
            z[at] = float.NaN;
            Assert.True(double.IsNaN(bce.ComputeFromLogits(z, t, new float[41])), $"NaN at {at}");
            z[at] = float.PositiveInfinity;                 // ±∞ are clipped like any large logit: finite
            Assert.True(double.IsFinite(bce.ComputeFromLogits(z, t, new float[41])), $"+∞ at {at}");
        }
    }

    [Fact]
    public void BinaryCrossentropyClipsLikeKeras()
    {
        var bce = new BinaryCrossentropy();
        // p = 0 for t = 1 is clipped to 1e-7: loss = -ln(1e-7) ≈ 16.118, and no gradient flows through the clip.
        var g = new float[1];
        Assert.Equal(-Math.Log(1e-7), bce.Compute([0f], [1f], g), 6);
        Assert.Equal(0f, g[0]);
        Assert.Equal(-Math.Log(1e-7), bce.ComputeFromLogits([-40f], [1f], g), 3);
        Assert.Equal(0f, g[0]);
        // Saturated logits give the same clipped value from either side.
        Assert.Equal(bce.Compute([1f], [0f], Span<float>.Empty), bce.ComputeFromLogits([30f], [0f], Span<float>.Empty), 3);
    }

    [Fact]
    public void ValuesMatchTheirFormulas()
    {
        float[] p = [0.2f, 0.9f], t = [0f, 1f];
        Assert.Equal(-(Math.Log(0.8) + Math.Log(0.9)) / 2, new BinaryCrossentropy().Compute(p, t, Span<float>.Empty), 6);
        Assert.Equal((0.04 + 0.01) / 2, new MeanSquaredError().Compute(p, t, Span<float>.Empty), 6);
        Assert.Equal((0.2 + 0.1) / 2, new MeanAbsoluteError().Compute(p, t, Span<float>.Empty), 6);
    }

    [Fact]
    public void MismatchedLengthsAndUnknownNamesAreClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute(new float[3], new float[4], Span<float>.Empty));
        Assert.Contains("3", e.Message);
        Assert.Contains("4", e.Message);
        Assert.Contains("huber2", Assert.Throws<ArgumentException>(() => Loss.Get("huber2")).Message);
    }
}
