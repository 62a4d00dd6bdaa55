using System.Numerics.Tensors;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>Element-wise sum of several inputs of one shape: <c>y = Σᵢ xᵢ</c>, <c>dxᵢ += dy</c> (Keras's <c>Add</c>).</summary>
public sealed class Add(string? name = null) : Layer(name), IConfigurableLayer<Add>
{
    /// <inheritdoc />
    protected override int InputArity => -1;

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        foreach (var s in inputShapes)
            if (!s.SequenceEqual(inputShapes[0]))
                throw new ArgumentException(
                    $"Add '{Name}' needs inputs of one shape, received {string.Join(" and ", inputShapes.Select(s => ShapeUtil.FormatBatch(s)))}.");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var y = ctx.OutputValues;
        ctx.Input(0).CopyTo(y);
        for (int i = 1; i < ctx.InputCount; i++) TensorPrimitives.Add(y, ctx.Input(i), y);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        for (int i = 0; i < ctx.InputCount; i++)
            if (ctx.NeedsInputGrad(i)) TensorPrimitives.Add(ctx.InputGrad(i), ctx.OutputGrad, ctx.InputGrad(i));
    }

    /// <inheritdoc />
    public static Add FromConfig(LayerConfig c) => new(c.Name);
}
