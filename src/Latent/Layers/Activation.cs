using Latent.Activations;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>Applies an activation function element-wise: <c>y = f(x)</c>, same shape; <c>dx += dy ⊙ f'(x)</c>.</summary>
/// <remarks>Forward copies x; the executor applies f as this layer's <see cref="Layer.OutputActivation"/> (so a final
/// <c>Activation("sigmoid")</c> fuses with binary cross-entropy like a Dense's sigmoid).</remarks>
public sealed class Activation : Layer, IConfigurableLayer<Activation>
{
    /// <summary>Creates the layer from a Keras activation name.</summary>
    public Activation(string activation, string? name = null) : base(name)
    {
        Function = ActivationFunction.Get(activation);
    }

    /// <summary>f.</summary>
    public ActivationFunction Function { get; }

    /// <inheritdoc />
    public override ActivationFunction? OutputActivation => Function;

    /// <summary>True: it acts on each step alone, so a sequence keeps its mask.</summary>
    protected internal override bool PropagatesMask => true;

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx) => ctx.Input(0).CopyTo(ctx.OutputValues);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (ctx.NeedsInputGrad(0)) Kernels.Simd.Add(ctx.InputGrad(0), ctx.OutputGrad, ctx.InputGrad(0));
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("activation", Function);

    /// <inheritdoc />
    public static Activation FromConfig(LayerConfig c) => new(c.GetActivation("activation").Name, c.Name);
}
