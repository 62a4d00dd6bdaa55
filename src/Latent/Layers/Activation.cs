using Latent.Activations;

namespace Latent.Layers;

/// <summary>Applies an activation function element-wise: <c>y = f(x)</c>, same shape; <c>dx += dy ⊙ f'(x)</c>.</summary>
public sealed class Activation : Layer
{
    /// <summary>Creates the layer from a Keras activation name.</summary>
    public Activation(string activation, string? name = null) : base(name)
    {
        Function = ActivationFunction.Get(activation);
    }

    /// <summary>f.</summary>
    public ActivationFunction Function { get; }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    /// <inheritdoc />
    protected internal override bool HasSigmoidOutput => Function is Sigmoid;

    /// <inheritdoc />
    protected internal override void Forward(NodeContext ctx)
    {
        int features = ctx.Output.SampleShape[^1];
        if (ctx.KeepLogits) ctx.Input(0).CopyTo(ctx.Logits);
        if (ctx.KeepLogits && !ctx.OutputNeeded) return; // training on logits: nothing reads y
        Function.Forward(ctx.Input(0), ctx.OutputValues, features);
    }

    /// <inheritdoc />
    protected internal override void Backward(NodeContext ctx)
    {
        if (!ctx.NeedsInputGrad(0)) return;
        int features = ctx.Output.SampleShape[^1];
        var dz = ctx.OutputGrad;
        if (!ctx.OutputGradIsLogitGrad) Function.Backward(ctx.OutputValues, dz, dz, features);
        System.Numerics.Tensors.TensorPrimitives.Add(ctx.InputGrad(0), dz, ctx.InputGrad(0));
    }
}
