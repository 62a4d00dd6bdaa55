using Latent.Initializers;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Transposed 2-D convolution (a "deconvolution"), channels last: the gradient of a convolution with respect to its
/// input, used to up-sample in a decoder. Each input pixel's channels times the kernel give a kh × kw × filters
/// window, added into the output at (stride × position) − padding. Shapes: x (B, H, W, C), K (kh, kw, filters, C)
/// as in Keras, bias (filters,), y (B, OH, OW, filters) with Keras's sizes: "valid" <c>OH = H·sh + max(kh − sh, 0)</c>,
/// "same" <c>OH = H·sh</c>. With Kₘ the (kh·kw·filters, C) matrix of K: <c>z = col2im(x·Kₘᵀ) + bias</c>; backward
/// <c>Q = im2col(dz)</c>, <c>dK += Qᵀ·x</c>, <c>dbias += Σ dz</c>, <c>dx += Q·Kₘ</c> (<see cref="Conv"/>, roles swapped).
/// </summary>
public sealed class Conv2DTranspose : Conv2DBase, IConfigurableLayer<Conv2DTranspose>
{
    /// <summary>Creates the layer (weights are made when it is first applied).</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">(kh, kw).</param>
    /// <param name="strides">(sh, sw); (1, 1) when null.</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="activation">A Keras activation name; null for linear.</param>
    /// <exception cref="ArgumentOutOfRangeException">filters, a kernel size or a stride that is not positive.</exception>
    public Conv2DTranspose(int filters, (int, int) kernelSize, (int, int)? strides = null, string padding = "valid", string? activation = null,
                           bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
                           Regularizer? kernelRegularizer = null, Regularizer? biasRegularizer = null, Regularizer? activityRegularizer = null,
                           string? name = null) : base(filters, kernelSize, strides, padding, activation, useBias, kernelInitializer, biasInitializer,
                                    kernelRegularizer, biasRegularizer, activityRegularizer, name) { }

    private protected override int[] KernelShape(int channels) => [KernelSize.Item1, KernelSize.Item2, Filters, channels];

    private protected override int InputChannelAxis => 3;

    /// <summary>Keras's transposed output length along one axis and the padding of the matching forward convolution.</summary>
    private static (int Out, int PadBefore) Axis(int n, int k, int s, bool same)
    {
        if (!same) return (n * s + Math.Max(k - s, 0), 0);
        int o = n * s;
        return (o, Math.Max((n - 1) * s + k - o, 0) / 2);
    }

    /// <summary>The convolution whose input gradient this layer computes: from the output (OH, OW, filters) to the input (H, W, C).</summary>
    private ConvGeometry Geometry(int h, int w)
    {
        var (oh, pt) = Axis(h, KernelSize.Item1, Strides.Item1, Same);
        var (ow, pl) = Axis(w, KernelSize.Item2, Strides.Item2, Same);
        return new ConvGeometry(oh, ow, Filters, KernelSize.Item1, KernelSize.Item2, Strides.Item1, Strides.Item2, pt, pl, h, w);
    }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, _) = CheckChannels(inputShapes[0]);
        var g = Geometry(h, w);
        if ((long)g.H * g.W * Filters > Array.MaxLength || (long)h * w * g.PatchSize > Array.MaxLength)
            throw new ArgumentException($"Conv2DTranspose '{Name}': input {ShapeUtil.FormatBatch(inputShapes[0])} makes an output too large for one array.");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, _) = ImageShape.Of(this, inputShapes[0]);
        var g = Geometry(h, w);
        return [g.H, g.W, Filters];
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var s = ctx.InputShape(0);
        var g = Geometry(s[0], s[1]);
        var y = ctx.OutputValues;
        // The forward pass of a transposed convolution is the input gradient of the convolution g describes; bias and
        // ReLU are applied to each sample as it is finished.
        Conv.Backward(g, ctx.Batch, default, ctx.Input(0), Kernel!.Values, s[2], default, y, overwriteSrc: true,
                      srcBias: Bias is null ? default : Bias.Values, srcRelu: OwnsRelu);
    }

    internal override bool CanWriteInputGrads => true;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        var s = ctx.InputShape(0);
        var g = Geometry(s[0], s[1]);
        ActivationAndBiasBackward(ctx);
        var dz = ctx.OutputGrad;                                    // (B, OH, OW, filters)
        if (Trainable) Conv.Backward(g, ctx.Batch, dz, ctx.Input(0), Kernel!.Values, s[2], ctx.WeightGrad(Kernel), default);
        if (ctx.NeedsInputGrad(0))
            Conv.Forward(g, ctx.Batch, dz, Kernel!.Values, default, s[2], ctx.InputGrad(0), accumulate: !ctx.WritesInputGrad(0));
    }

    /// <inheritdoc />
    public static Conv2DTranspose FromConfig(LayerConfig c) => FromConfig(c, (f, k, st, p, a, b, ki, bi, kr, br, ar, n) => new Conv2DTranspose(f, k, st, p, a, b, ki, bi, kr, br, ar, n));
}
