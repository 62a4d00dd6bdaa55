using Latent.Activations;
using Latent.Initializers;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// What <see cref="Conv2D"/> and <see cref="Conv2DTranspose"/> share: Keras's settings (filters, kernel size,
/// strides, padding, activation, bias, initializers, regularizers), the kernel and bias weights, and the saved
/// configuration. Channels last.
/// </summary>
public abstract class Conv2DBase : Layer
{
    /// <summary>Validates and stores the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">filters, a kernel size or a stride that is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding, activation or initializer.</exception>
    private protected Conv2DBase(int filters, (int, int) kernelSize, (int, int)? strides, string padding, string? activation, bool useBias,
                                 Initializer? kernelInitializer, Initializer? biasInitializer, Regularizer? kernelRegularizer,
                                 Regularizer? biasRegularizer, Regularizer? activityRegularizer, string? name) : base(name)
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
    /// <summary>K (layout in the derived class's summary); null until built.</summary>
    public Weight? Kernel { get; private set; }
    /// <summary>The bias, shape (filters,); null until built or without bias.</summary>
    public Weight? Bias { get; private set; }

    /// <summary>
    /// A ReLU is the layer's own: its kernels apply it as they store the output, and <see cref="ActivationAndBiasBackward"/>
    /// applies its derivative in the same pass as the bias gradient, instead of the executor's two passes over the output.
    /// </summary>
    private protected bool OwnsRelu => Activation is Relu;

    /// <inheritdoc />
    public override ActivationFunction? OutputActivation => Activation.IsLinear || OwnsRelu ? null : Activation;

    /// <summary>
    /// First step of Backward: ∂loss/∂y → ∂loss/∂z in place for an owned ReLU (<c>dz = dy·[y &gt; 0]</c>), and the bias
    /// gradient <c>dbias += Σ_rows dz</c> when the bias trains, in one pass over the (B·OH·OW, filters) gradient.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private protected void ActivationAndBiasBackward(NodeContext ctx)
    {
        var dz = ctx.OutputGrad;
        int rows = dz.Length / Filters;
        var sums = Trainable && Bias is not null ? ctx.WeightGrad(Bias) : default;
        if (OwnsRelu) Kernels.Simd.ReluBackwardColumnSums(ctx.OutputValues, dz, sums, rows, Filters);
        else if (!sums.IsEmpty) Kernels.Simd.AccumulateColumnSums(dz, sums, rows);
    }

    /// <summary>K's shape for <paramref name="channels"/> input channels.</summary>
    private protected abstract int[] KernelShape(int channels);

    /// <summary>The axis of K that counts input channels.</summary>
    private protected abstract int InputChannelAxis { get; }

    /// <inheritdoc />
    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        var (_, _, c) = ImageShape.Of(this, inputShapes[0]);
        Kernel = AddWeight("kernel", KernelShape(c), KernelInitializer, KernelRegularizer);
        if (UseBias) Bias = AddWeight("bias", [Filters], BiasInitializer, BiasRegularizer);
    }

    /// <summary>The input's (H, W, C), checked against the built kernel's channels.</summary>
    private protected (int H, int W, int C) CheckChannels(int[] inputShape)
    {
        var (h, w, c) = ImageShape.Of(this, inputShape);
        if (c != Kernel!.Shape[InputChannelAxis])
            throw new ArgumentException($"{TypeName} '{Name}' expects {Kernel.Shape[InputChannelAxis]} input channels, received {c} (input shape {ShapeUtil.FormatBatch(inputShape)}).");
        return (h, w, c);
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

    /// <summary>Calls <paramref name="create"/> with the settings <see cref="GetConfig"/> wrote.</summary>
    private protected static T FromConfig<T>(LayerConfig c, Func<int, (int, int), (int, int)?, string, string?, bool, Initializer, Initializer,
                                                            Regularizer?, Regularizer?, Regularizer?, string, T> create)
    {
        var k = c.GetInts("kernel_size", 2);
        var s = c.GetInts("strides", 2);
        if (k.Length != 2 || s.Length != 2) throw new FormatException("'kernel_size' and 'strides' must hold two integers");
        return create(c.GetInt("filters"), (k[0], k[1]), (s[0], s[1]), c.GetString("padding"), c.GetActivation("activation").Name,
                      c.GetBool("use_bias", true), c.GetInitializer("kernel_initializer"), c.GetInitializer("bias_initializer"),
                      c.GetRegularizer("kernel_regularizer"), c.GetRegularizer("bias_regularizer"), c.GetRegularizer("activity_regularizer"), c.Name);
    }
}
