using Latent;
using Latent.Layers;
using Latent.Serialization;

namespace Latent.UserLayers;

// --8<-- [start:batch-centering]
/// <summary>
/// Subtracts each feature's mean over the batch: <c>y = x − μ_B</c>, <c>μ_B = (1/N) Σ_b x_b</c>, a statistic over the
/// whole batch even when Fit splits it across cores (<see cref="NodeContext.SumOverShares"/>).
/// Shapes: x (B, d) → y (B, d). Backward: <c>dx += dy − (1/N) Σ_b dy_b</c>.
/// </summary>
public sealed class BatchCentering : Layer, IConfigurableLayer<BatchCentering>
{
    public BatchCentering(string? name = null) : base(name) { }

    /// <summary>Meets the other shares of a data-parallel step to add its sums.</summary>
    protected override bool SumsOverShares => true;

    protected override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    protected override void Forward(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        var mean = ColumnMeans(ctx, x, ctx.InputShape(0)[^1]);
        for (int i = 0; i < x.Length; i++) y[i] = x[i] - (float)mean[i % mean.Length];
    }

    protected override void Backward(NodeContext ctx)
    {
        if (!ctx.NeedsInputGrad(0)) return;        // every share takes the same branch, so none waits in vain
        var dy = ctx.OutputGrad;
        var dx = ctx.InputGrad(0);
        var mean = ColumnMeans(ctx, dy, ctx.InputShape(0)[^1]);
        for (int i = 0; i < dy.Length; i++) dx[i] += dy[i] - (float)mean[i % mean.Length];
    }

    /// <summary>Each feature's mean over the whole batch; the last slot carries the count of rows.</summary>
    private static double[] ColumnMeans(NodeContext ctx, ReadOnlySpan<float> values, int d)
    {
        var sums = new double[d + 1];
        for (int i = 0; i < values.Length; i++) sums[i % d] += values[i];
        sums[d] = values.Length / d;
        ctx.SumOverShares(sums);                    // this share's sums in, the whole batch's out
        var mean = new double[d];
        for (int k = 0; k < d; k++) mean[k] = sums[k] / sums[d];
        return mean;
    }

    protected override void GetConfig(LayerConfig config) { }

    public static BatchCentering FromConfig(LayerConfig config) => new(config.Name);
}
// --8<-- [end:batch-centering]
