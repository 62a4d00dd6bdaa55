using System.Numerics.Tensors;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Inverted dropout (Srivastava et al., 2014): in training each element is kept with probability 1 − rate and
/// scaled by 1/(1 − rate), <c>y = x ⊙ m</c>, <c>dx += dy ⊙ m</c>; at inference <c>y = x</c>.
/// </summary>
public sealed class Dropout : Layer, IConfigurableLayer<Dropout>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
    public Dropout(double rate, string? name = null) : base(name)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Expected a rate in [0, 1). Received: rate={rate}.");
        Rate = rate;
    }

    /// <summary>Probability of dropping an element.</summary>
    public double Rate { get; }

    /// <summary>True: it acts on each step alone, so a sequence keeps its mask.</summary>
    protected internal override bool PropagatesMask => true;

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    /// <inheritdoc />
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) => ShapeUtil.Product(outputShape);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        if (!ctx.Training || Rate == 0)
        {
            x.CopyTo(y);
            return;
        }
        var mask = ctx.Workspace;
        float scale = (float)(1 / (1 - Rate)), rate = (float)Rate;
        ctx.Random.FillUniform(mask);                       // u ~ U[0, 1); dropped when u < rate
        for (int i = 0; i < mask.Length; i++) mask[i] = mask[i] < rate ? 0f : scale;
        TensorPrimitives.Multiply(x, mask, y);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (!ctx.NeedsInputGrad(0)) return;
        var dx = ctx.InputGrad(0);
        if (!ctx.Training || Rate == 0) TensorPrimitives.Add(dx, ctx.OutputGrad, dx);
        else TensorPrimitives.MultiplyAdd(ctx.OutputGrad, ctx.Workspace, dx, dx);
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("rate", Rate);

    /// <inheritdoc />
    public static Dropout FromConfig(LayerConfig c) => new(c.GetDouble("rate"), c.Name);
}
