using Latent.Activations;
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
public sealed class Conv2D : Layer, IConfigurableLayer<Conv2D>
{
    private Weight? _kernel, _bias;

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
                  string? name = null) : base(name)
    {
        if (filters <= 0) throw new ArgumentOutOfRangeException(nameof(filters), filters, $"Expected a positive integer. Received: filters={filters}.");
        Filters = filters;
        KernelSize = ImageShape.Positive(kernelSize, nameof(kernelSize));
        Strides = ImageShape.Positive(strides ?? (1, 1), nameof(strides));
        Same = ImageShape.Padding(padding);
        Activation = ActivationFunction.Get(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        BiasInitializer = biasInitializer ?? new Constant(0);
        KernelRegularizer = kernelRegularizer;
        BiasRegularizer = biasRegularizer;
        ActivityRegularizer = activityRegularizer;
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>(kh, kw).</summary>
    public (int, int) KernelSize { get; }
    /// <summary>(sh, sw).</summary>
    public (int, int) Strides { get; }
    /// <summary>"same" padding (else "valid").</summary>
    public bool Same { get; }
    /// <summary>f_act.</summary>
    public ActivationFunction Activation { get; }
    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }
    /// <summary>Initializer of K.</summary>
    public Initializer KernelInitializer { get; }
    /// <summary>Initializer of the bias.</summary>
    public Initializer BiasInitializer { get; }
    /// <summary>Penalty on K.</summary>
    public Regularizer? KernelRegularizer { get; }
    /// <summary>Penalty on the bias.</summary>
    public Regularizer? BiasRegularizer { get; }
    /// <summary>K, shape (kh, kw, C, filters); null until built.</summary>
    public Weight? Kernel => _kernel;
    /// <summary>The bias, shape (filters,); null until built or without bias.</summary>
    public Weight? Bias => _bias;

    /// <inheritdoc />
    public override ActivationFunction? OutputActivation => Activation.IsLinear ? null : Activation;

    /// <inheritdoc />
    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        var (_, _, c) = ImageShape.Of(this, inputShapes[0]);
        _kernel = AddWeight("kernel", [KernelSize.Item1, KernelSize.Item2, c, Filters], KernelInitializer, KernelRegularizer);
        if (UseBias) _bias = AddWeight("bias", [Filters], BiasInitializer, BiasRegularizer);
    }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, c) = ImageShape.Of(this, inputShapes[0]);
        if (c != _kernel!.Shape[2])
            throw new ArgumentException($"Conv2D '{Name}' expects {_kernel.Shape[2]} input channels, received {c} (input shape {ShapeUtil.FormatBatch(inputShapes[0])}).");
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
    protected internal override void Forward(NodeContext ctx) =>
        Conv.Forward(GeometryOf(ctx), ctx.Batch, ctx.Input(0), _kernel!.Values, _bias is null ? default : _bias.Values, Filters,
                     ctx.OutputValues, accumulate: false);

    /// <inheritdoc />
    protected internal override void Backward(NodeContext ctx)
    {
        var dz = ctx.OutputGrad;                                    // (B·OH·OW, filters)
        if (Trainable && _bias is not null) Simd.AccumulateColumnSums(dz, ctx.WeightGrad(_bias), dz.Length / Filters);
        Conv.Backward(GeometryOf(ctx), ctx.Batch, ctx.Input(0), dz, _kernel!.Values, Filters,
                      Trainable ? ctx.WeightGrad(_kernel) : default, ctx.NeedsInputGrad(0) ? ctx.InputGrad(0) : default);
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        config.Set("filters", Filters);
        config.Set("kernel_size", [KernelSize.Item1, KernelSize.Item2]);
        config.Set("strides", [Strides.Item1, Strides.Item2]);
        config.Set("padding", ImageShape.PaddingName(Same));
        config.Set("activation", Activation);
        config.Set("use_bias", UseBias);
        config.Set("kernel_initializer", KernelInitializer);
        config.Set("bias_initializer", BiasInitializer);
        config.Set("kernel_regularizer", KernelRegularizer);
        config.Set("bias_regularizer", BiasRegularizer);
        config.Set("activity_regularizer", ActivityRegularizer);
    }

    /// <inheritdoc />
    public static Conv2D FromConfig(LayerConfig c)
    {
        var k = c.GetInts("kernel_size", 2);
        var s = c.GetInts("strides", 2);
        if (k.Length != 2 || s.Length != 2) throw new FormatException("'kernel_size' and 'strides' must hold two integers");
        return new(c.GetInt("filters"), (k[0], k[1]), (s[0], s[1]), c.GetString("padding"), c.GetActivation("activation").Name,
                   c.GetBool("use_bias", true), c.GetInitializer("kernel_initializer"), c.GetInitializer("bias_initializer"),
                   c.GetRegularizer("kernel_regularizer"), c.GetRegularizer("bias_regularizer"), c.GetRegularizer("activity_regularizer"), c.Name);
    }
}
