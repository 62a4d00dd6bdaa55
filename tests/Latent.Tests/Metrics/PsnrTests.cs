namespace Latent.Tests.MetricChecks;

/// <summary>PSNR against its closed form: an image off by d everywhere has MSE d², so PSNR = −20·log10(d / peak).</summary>
public class PsnrTests
{
    [Fact]
    public void ConstantErrorsGiveTheClosedFormAcrossChunks()
    {
        int n = 300, size = 17;    // more samples than one chunk of 256
        var clean = new Tensor([n, size]);
        var images = new Tensor([n, size]);
        var rng = new Random(4);
        double expectedSum = 0;
        for (int s = 0; s < n; s++)
        {
            float d = (s + 1) / 1024f;          // binary fractions: c ± d is exact in float
            for (int i = 0; i < size; i++)
            {
                float c = rng.Next(1, 5) / 8f;
                clean.Span[s * size + i] = c;
                images.Span[s * size + i] = i % 2 == 0 ? c + d : c - d;   // the sign does not matter
            }
        }
        var (mean, perSample) = Metrics.Psnr(images, clean);
        for (int s = 0; s < n; s++)
        {
            double d = (double)images.Span[s * size] - clean.Span[s * size];
            double expected = -20 * Math.Log10(Math.Abs(d));
            Assert.Equal(expected, perSample[s], 1e-9);
            expectedSum += expected;
        }
        Assert.Equal(expectedSum / n, mean, 1e-9);
        Assert.Equal(60.206, perSample[0], 0.001);         // d = 1/1024
        Assert.True(perSample[0] > perSample[^1]);        // larger error, lower PSNR
    }

    [Fact]
    public void PeakScalesWithTheData()
    {
        var clean = Tensor.FromArray(new float[] { 0.2f, 0.4f, 0.6f, 0.8f }, 2, 2);
        var noisy = Tensor.FromArray(new float[] { 0.3f, 0.4f, 0.6f, 0.5f }, 2, 2);
        var bytesClean = Tensor.FromArray(clean.Span.ToArray().Select(v => v * 255).ToArray(), 2, 2);
        var bytesNoisy = Tensor.FromArray(noisy.Span.ToArray().Select(v => v * 255).ToArray(), 2, 2);
        var unit = Metrics.Psnr(noisy, clean);
        var bytes = Metrics.Psnr(bytesNoisy, bytesClean, peak: 255);
        Assert.Equal(unit.Mean, bytes.Mean, 1e-4);
        Assert.Equal(10 * Math.Log10(1 / (0.01 / 2)), unit.PerSample[0], 1e-4);   // one pixel off by 0.1 of two
        Assert.Equal(10 * Math.Log10(1 / (0.09 / 2)), unit.PerSample[1], 1e-4);
    }

    [Fact]
    public void AnExactCopyIsInfinite()
    {
        var clean = Tensor.FromArray(new float[] { 0.2f, 0.4f }, 1, 2);
        Assert.Equal(double.PositiveInfinity, Metrics.Psnr(clean, clean).Mean);
    }

    [Fact]
    public void BadInputNamesTheValue()
    {
        var a = new Tensor([2, 4]);
        var b = new Tensor([2, 5]);
        var shape = Assert.Throws<ArgumentException>(() => Metrics.Psnr(a, b));
        Assert.Contains("(2, 4)", shape.Message);
        Assert.Contains("(2, 5)", shape.Message);
        var peak = Assert.Throws<ArgumentOutOfRangeException>(() => Metrics.Psnr(a, a, peak: double.NaN));
        Assert.Contains("NaN", peak.Message);
        Assert.Throws<ArgumentException>(() => Metrics.Psnr(new Tensor([0, 4]), new Tensor([0, 4])));
    }
}
