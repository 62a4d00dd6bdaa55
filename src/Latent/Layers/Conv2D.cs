using Latent.Initializers;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// 2-D convolution, channels last: <c>y[b, o, q, f] = f_act(Σ_{i,j,c} x[b, o·sh + i − pt, q·sw + j − pl, c] · K[i, j, c, f] + bias[f])</c>.
/// Shapes: x (B, H, W, C), K (kh, kw, C, filters), bias (filters,), y (B, OH, OW, filters) with Keras's output
/// sizes: "valid" <c>OH = ⌊(H − kh)/sh⌋ + 1</c>, "same" <c>OH = ⌈H/sh⌉</c> (zeros around, the smaller half before).
/// With P (B·OH·OW, kh·kw·C) the windows (im2col), <c>z = P·K + bias</c>; backward <c>dK += Pᵀ·dz</c>,
/// <c>dbias += Σ dz</c>, <c>dx += col2im(dz·Kᵀ)</c>, computed chunk by chunk (<see cref="Conv"/>).
/// </summary>
public sealed class Conv2D : Conv2DBase, IConfigurableLayer<Conv2D>
{
    /// <summary>Creates the layer (weights are made when it is first applied).</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">(kh, kw).</param>
    /// <param name="strides">(sh, sw); (1, 1) when null.</param>
    /// <param name="padding">"valid" (no padding) or "same".</param>
    /// <param name="activation">A Keras activation name; null for linear.</param>
    /// <exception cref="ArgumentOutOfRangeException">filters, a kernel size or a stride that is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding, activation or initializer.</exception>
    public Conv2D(int filters, (int, int) kernelSize, (int, int)? strides = null, string padding = "valid", string? activation = null,
                  bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
                  Regularizer? kernelRegularizer = null, Regularizer? biasRegularizer = null, Regularizer? activityRegularizer = null,
                  string? name = null) : base(filters, kernelSize, strides, padding, activation, useBias, kernelInitializer, biasInitializer,
                                    kernelRegularizer, biasRegularizer, activityRegularizer, name) { }

    private protected override int[] KernelShape(int channels) => [KernelSize.Item1, KernelSize.Item2, channels, Filters];

    private protected override int InputChannelAxis => 2;

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, c) = CheckChannels(inputShapes[0]);
        var g = Geometry(h, w, c);
        if (g.OH <= 0 || g.OW <= 0)
            throw new ArgumentException($"Conv2D '{Name}': a {KernelSize.Item1}×{KernelSize.Item2} kernel is larger than its {h}×{w} input with \"valid\" padding (input shape {ShapeUtil.FormatBatch(inputShapes[0])}).");
        if ((long)g.Positions * g.PatchSize > Array.MaxLength)
            throw new ArgumentException($"Conv2D '{Name}': input {ShapeUtil.FormatBatch(inputShapes[0])} makes windows too large for one array.");
    }

    private ConvGeometry Geometry(int h, int w, int c) =>
        ConvGeometry.Forward(h, w, c, KernelSize.Item1, KernelSize.Item2, Strides.Item1, Strides.Item2, Same);

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, c) = ImageShape.Of(this, inputShapes[0]);
        var g = Geometry(h, w, c);
        return [g.OH, g.OW, Filters];
    }

    // Computed per call (a few integer operations): a field would be state shared by the cores.
    private ConvGeometry GeometryOf(NodeContext ctx)
    {
        var s = ctx.InputShape(0);
        return Geometry(s[0], s[1], s[2]);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx) =>
        Conv.Forward(GeometryOf(ctx), ctx.Batch, ctx.Input(0), Kernel!.Values, Bias is null ? default : Bias.Values, Filters,
                     ctx.OutputValues, accumulate: false, relu: OwnsRelu);

    internal override bool CanWriteInputGrads => true;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        ActivationAndBiasBackward(ctx);
        var dz = ctx.OutputGrad;                                    // (B·OH·OW, filters)
        Conv.Backward(GeometryOf(ctx), ctx.Batch, ctx.Input(0), dz, Kernel!.Values, Filters,
                      Trainable ? ctx.WeightGrad(Kernel) : default, ctx.NeedsInputGrad(0) ? ctx.InputGrad(0) : default,
                      overwriteSrc: ctx.WritesInputGrad(0));
    }

    /// <inheritdoc />
    public static Conv2D FromConfig(LayerConfig c) => FromConfig(c, (f, k, st, p, a, b, ki, bi, kr, br, ar, n) => new Conv2D(f, k, st, p, a, b, ki, bi, kr, br, ar, n));
}
