using Latent.Serialization;

namespace Latent.Layers;

/// <summary>Flattens each sample to one axis: (B, d₁, …, dₙ) → (B, d₁·…·dₙ); the values keep their row-major order. <c>dx += dy</c>.</summary>
public sealed class Flatten(string? name = null) : Layer(name), IConfigurableLayer<Flatten>
{
    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => [ShapeUtil.Product(inputShapes[0])];

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
    public static Flatten FromConfig(LayerConfig c) => new(c.Name);
}
