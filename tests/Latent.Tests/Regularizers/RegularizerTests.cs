using Latent.Tests.TestSupport;

namespace Latent.Tests.Regularization;

public class RegularizerTests
{
    [Theory]
    [InlineData(0.01, 0)]
    [InlineData(0, 0.02)]
    [InlineData(0.03, 0.05)]
    public void GradientMatchesFiniteDifferences(double l1, double l2)
    {
        var reg = Latent.Regularizers.L1L2(l1, l2);
        var x = Synthetic.Uniform(50, 8).Select(v => v + (v >= 0 ? 0.05f : -0.05f)).ToArray(); // away from the L1 kink
        var g = new float[x.Length];
        reg.AddGradient(x, g);
        var report = GradientChecker.Compare("reg", x, g, () => reg.Penalty(x), atol: 1e-5, rtol: 1e-2);
        Assert.True(report.Passed, report.Message);
    }

    [Fact]
    public void PenaltyMatchesItsFormula()
    {
        float[] x = [1, -2, 0.5f];
        Assert.Equal(0.1 * 3.5 + 0.2 * 5.25, new L1L2(0.1, 0.2).Penalty(x), 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => new L1L2(-1));
    }
}
