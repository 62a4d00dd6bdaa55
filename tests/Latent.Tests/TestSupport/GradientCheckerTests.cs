using Latent.Layers;

namespace Latent.Tests.TestSupport;

/// <summary>The checker itself: it must reject a gradient that is wrong.</summary>
public class GradientCheckerTests
{
    /// <summary>y = x², with a backward that returns 1.8·x instead of 2·x.</summary>
    private sealed class WrongSquare : Layer
    {
        public WrongSquare() : base(null) { }
        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];
        protected internal override void Forward(NodeContext ctx)
        {
            var x = ctx.Input(0); var y = ctx.OutputValues;
            for (int i = 0; i < x.Length; i++) y[i] = x[i] * x[i];
        }
        protected internal override void Backward(NodeContext ctx)
        {
            var x = ctx.Input(0); var dy = ctx.OutputGrad; var dx = ctx.InputGrad(0);
            for (int i = 0; i < x.Length; i++) dx[i] += 1.8f * x[i] * dy[i];
        }
    }

    [Fact]
    public void RejectsAWrongGradient()
    {
        var reports = GradientChecker.CheckLayer(new WrongSquare(), [6], batch: 3, seed: 1);
        Assert.Contains(reports, r => !r.Passed);
    }

    [Fact]
    public void RejectsAGradientWrongInOneElement()
    {
        float[] x = [0.3f, -0.7f, 1.1f, 0.5f];
        var g = x.Select(v => 2 * v).ToArray();
        g[2] += 0.1f;
        var report = GradientChecker.Compare("x²", x, g, () => x.Sum(v => (double)v * v));
        Assert.False(report.Passed);
        Assert.Contains("[2]", report.Message);
    }
}
