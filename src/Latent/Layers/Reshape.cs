using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Gives each sample a new shape of the same size, Keras's <c>Reshape(target_shape)</c>: (B, …) → (B, target);
/// one dimension may be −1 (inferred). The values keep their row-major order; <c>dx += dy</c>.
/// </summary>
public sealed class Reshape : Layer, IConfigurableLayer<Reshape>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">An empty shape, a dimension that is 0 or below −1, or more than one −1.</exception>
    public Reshape(int[] targetShape, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(targetShape);
        if (targetShape.Length == 0 || targetShape.Any(d => d == 0 || d < -1) || targetShape.Count(d => d == -1) > 1)
            throw new ArgumentException($"Expected positive dimensions and at most one -1. Received: target_shape={ShapeUtil.Format(targetShape)}.", nameof(targetShape));
        TargetShape = (int[])targetShape.Clone();
    }

    /// <summary>The per-sample shape asked for (−1 where inferred).</summary>
    public IReadOnlyList<int> TargetShape { get; }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes)
    {
        long size = ShapeUtil.Product(inputShapes[0]), known = 1;
        foreach (int d in TargetShape) if (d > 0) known *= d;
        var shape = TargetShape.ToArray();
        int infer = Array.IndexOf(shape, -1);
        if (infer >= 0 && known > 0 && size % known == 0) shape[infer] = (int)(size / known);
        if (infer >= 0 ? size % known != 0 : known != size)
            throw new ArgumentException($"Reshape '{Name}' cannot turn {ShapeUtil.FormatBatch(inputShapes[0])} ({size} values per sample) into {ShapeUtil.FormatBatch([.. TargetShape])}.");
        return shape;
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx) => ctx.Input(0).CopyTo(ctx.OutputValues);

    internal override bool CanWriteInputGrads => true;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (ctx.NeedsInputGrad(0)) ctx.PassInputGrad(0, ctx.OutputGrad);
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("target_shape", TargetShape);

    /// <inheritdoc />
    public static Reshape FromConfig(LayerConfig c) => new(c.GetInts("target_shape"), c.Name);
}
