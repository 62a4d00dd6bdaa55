using Latent.Activations;
using Latent.Initializers;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Fully connected layer: <c>y = f(x·W + b)</c> on the last axis.
/// Shapes: x (B, …, in), W (in, units), b (units,), y (B, …, units); leading axes are flattened into rows.
/// Forward writes <c>z = x·W + b</c>; the executor applies f (<see cref="Layer.OutputActivation"/>) and hands
/// Backward <c>dz = dy ⊙ f'(z)</c>: <c>dW += xᵀ·dz</c>, <c>db += Σ_rows dz</c>, <c>dx += dz·Wᵀ</c>.
/// </summary>
/// <remarks>
/// When x is the model's own input and at most a quarter of a batch's values are nonzero (MNIST's pixels, bag-of-words
/// counts, one-hot codes) and the layer has 64 units or more, <c>x·W</c> and <c>xᵀ·dz</c> are computed from the nonzeros alone, about
/// twice as fast on MNIST; on AVX2 machines from 32 units, <c>x·W</c> alone when the layer runs on one core (a
/// data-parallel step's share of a batch, or a one-core machine). The results equal the dense products' to rounding, except that terms <c>0·w</c> are
/// skipped rather than added: a NaN or infinite weight that meets only zero inputs does not reach the output.
/// </remarks>
public sealed class Dense : Layer, IConfigurableLayer<Dense>
{
    private Weight? _kernel, _bias;

    /// <summary>Creates the layer (weights are made when it is first applied).</summary>
    /// <param name="units">Output features.</param>
    /// <param name="activation">A Keras activation name ("relu", "sigmoid", ...); null for linear.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Defaults to glorot_uniform, as in Keras.</param>
    /// <param name="biasInitializer">Defaults to zeros.</param>
    /// <param name="kernelRegularizer">Penalty on W.</param>
    /// <param name="biasRegularizer">Penalty on b.</param>
    /// <param name="activityRegularizer">Penalty on y (see <see cref="Regularizers"/> for how it is reduced over the batch).</param>
    /// <param name="name">Layer name; generated when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown activation or initializer name.</exception>
    public Dense(int units, string? activation = null, bool useBias = true,
                 Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
                 Regularizer? kernelRegularizer = null, Regularizer? biasRegularizer = null,
                 Regularizer? activityRegularizer = null, string? name = null)
        : base(name)
    {
        if (units <= 0)
            throw new ArgumentOutOfRangeException(nameof(units), units, $"Expected a positive integer. Received: units={units}.");
        Units = units;
        Activation = ActivationFunction.Get(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        BiasInitializer = biasInitializer ?? new Constant(0);
        KernelRegularizer = kernelRegularizer;
        BiasRegularizer = biasRegularizer;
        ActivityRegularizer = activityRegularizer;
    }

    /// <summary>Output features.</summary>
    public int Units { get; }

    /// <summary>f.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>Whether b is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of W.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of b.</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>Penalty on W.</summary>
    public Regularizer? KernelRegularizer { get; }

    /// <summary>Penalty on b.</summary>
    public Regularizer? BiasRegularizer { get; }

    /// <summary>W, shape (in, units); null until built.</summary>
    public Weight? Kernel => _kernel;

    /// <summary>b, shape (units,); null until built or without bias.</summary>
    public Weight? Bias => _bias;

    /// <summary>Input features (the kernel's first dimension); 0 until built.</summary>
    public int InputFeatures => _kernel?.Shape[0] ?? 0;

    /// <inheritdoc />
    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        int inFeatures = inputShapes[0][^1];
        _kernel = AddWeight("kernel", [inFeatures, Units], KernelInitializer, KernelRegularizer);
        if (UseBias) _bias = AddWeight("bias", [Units], BiasInitializer, BiasRegularizer);
    }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        int received = inputShapes[0][^1];
        if (received != InputFeatures)
            throw new ArgumentException(
                $"Dense '{Name}' expects {InputFeatures} features, received {received} (input shape {ShapeUtil.FormatBatch(inputShapes[0])}).");
    }

    /// <summary>True: it acts on each step alone, so a sequence keeps its mask.</summary>
    protected internal override bool PropagatesMask => true;

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => [.. inputShapes[0][..^1], Units];

    /// <inheritdoc />
    public override ActivationFunction? OutputActivation => Activation.IsLinear ? null : Activation;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        int rows = RowsOf(ctx), inF = InputFeatures;
        var x = ctx.Input(0);                                   // (rows, in)
        var z = ctx.OutputValues;                               // (rows, units), pre-activation
        if (SparseInputDensity > 0 && ctx.InputIsData(0) &&
            (Units >= SparseMinUnits || (ComputePool.Shared.ThreadsHere == 1 && Units >= SparseOneCoreMinUnits && rows >= SparseOneCoreMinRows)))
        {
            var sparse = ctx.LayerState as SparseRows ?? (SparseRows)(ctx.LayerState = new SparseRows());
            if (sparse.TryLoad(x, rows, inF, SparseInputDensity))
            {
                sparse.Multiply(_kernel!.Values, Units, z, _bias is null ? default : _bias.Values);
                return;
            }
        }
        (ctx.LayerState as SparseRows)?.Unload();   // Backward must not take an earlier batch's nonzeros for this one's
        Gemm.Multiply(false, false, rows, Units, inF, x, inF, _kernel!.Values, Units, z, Units, accumulate: false,
                      bias: _bias is null ? default : _bias.Values);
    }

    /// <summary>
    /// The largest fraction of nonzeros at which a batch of the model's own inputs is multiplied as a sparse one
    /// (<see cref="SparseRows"/>; 0: never). On MNIST's pixels (about 19% lit) the input layer's forward and weight
    /// gradient then skip the zeros (docs/PERFORMANCE.md); a denser batch is found out after reading a quarter of it
    /// and takes the dense multiply.
    /// </summary>
    internal static double SparseInputDensity = 0.25;

    /// <summary>
    /// The fewest units for which a sparse batch is multiplied as one, forward and weight gradient
    /// (<see cref="SparseInputDensity"/>): sorting the nonzeros by column for the gradient costs about as much per
    /// nonzero as 64 columns of multiply-adds, so narrower layers do not repay it (docs/PERFORMANCE.md). Narrower ones
    /// down to <see cref="SparseOneCoreMinUnits"/> take the sparse forward alone, on one core.
    /// </summary>
    internal static int SparseMinUnits = 64;

    /// <summary>
    /// The fewest units for which a sparse batch's forward product alone (not its weight gradient) is multiplied as one
    /// when this thread runs the product by itself: a data-parallel step's replica, or a one-core machine. From 32 units
    /// the nonzeros' products save more than finding them costs (the simple model's share of 128 rows: 65 against 100 µs
    /// on one core), but finding them is one pass on one thread, where a whole batch's dense product is cut across the
    /// cores: there (the notebook's batch of 32 when it ran as one executor) the sparse forward lost (docs/PERFORMANCE.md;
    /// it now runs as two shares, which take it). With 512-bit vectors only from <see cref="SparseOneCoreMinRows"/> rows.
    /// </summary>
    internal static int SparseOneCoreMinUnits = 32;

    /// <summary>
    /// The fewest rows for the one-core sparse forward of a layer narrower than <see cref="SparseMinUnits"/>: on AVX-512
    /// the simple model's share of 128 rows stepped 8–11% faster with it, its share of 16 rows 0–11% slower (the dense
    /// multiply is twice as wide there, finding the nonzeros is not); on AVX2 every share takes it (docs/PERFORMANCE.md).
    /// </summary>
    internal static int SparseOneCoreMinRows = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 64 : 0;

    internal override bool CanWriteInputGrads => true;

    internal override bool CanWriteWeightGrads => true;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        int rows = RowsOf(ctx), inF = InputFeatures;
        var dz = ctx.OutputGrad;                                // (rows, units)
        if (Trainable)
        {
            if (ctx.DefersWeightGrad)
                SparseBatch(ctx, rows)?.BuildColumns();   // now, on this thread: the step's threads then read them at once
            else if (!ctx.PostsWeightGrad)
                KernelGradient(ctx, rows);
            if (_bias is not null)
            {
                if (ctx.WritesWeightGrads) ctx.WeightGrad(_bias).Clear();
                Simd.AccumulateColumnSums(dz, ctx.WeightGrad(_bias), rows);
            }
        }
        if (ctx.NeedsInputGrad(0))
            Gemm.Multiply(false, true, rows, inF, Units, dz, Units, _kernel!.Values, Units, ctx.InputGrad(0), inF, accumulate: !ctx.WritesInputGrad(0));
    }

    /// <summary><c>dW (+)= xᵀ·dz</c> for this call: from the nonzeros when Forward found the batch sparse, else dense.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private void KernelGradient(NodeContext ctx, int rows)
    {
        bool write = ctx.WritesWeightGrads;
        var dz = ctx.OutputGrad;
        if (SparseBatch(ctx, rows) is { } sparse)
            sparse.MultiplyTransposed(dz, Units, ctx.WeightGrad(_kernel!), accumulate: !write);
        else if (write && SparseGradByRows && LoadedBatch(ctx, rows) is { } narrow)
            narrow.MultiplyTransposedByRows(dz, Units, ctx.WeightGrad(_kernel!));
        else
            Gemm.Multiply(true, false, InputFeatures, Units, rows, ctx.Input(0), InputFeatures, dz, Units, ctx.WeightGrad(_kernel!), Units, accumulate: !write);
    }

    /// <summary>
    /// The kernel gradient Backward left to the data-parallel step (<see cref="NodeContext.PostsWeightGrad"/>), computed
    /// on whichever thread calls it, after Backward: the same product, operands and destination as Backward's own, so
    /// the same bits. Nothing when the layer is frozen.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal void PostedKernelGradient(NodeContext ctx)
    {
        if (Trainable) KernelGradient(ctx, RowsOf(ctx));
    }

    /// <summary>Rows this call multiplies: its samples times the steps of a sequence (every axis but the last).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private int RowsOf(NodeContext ctx) => ctx.Batch * ctx.Output.SampleSize / Units;

    /// <summary>The batch Forward found sparse, if it is still this call's input and wide enough to multiply as one; else null.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private SparseRows? SparseBatch(NodeContext ctx, int rows) => Units >= SparseMinUnits ? LoadedBatch(ctx, rows) : null;

    /// <summary>The batch Forward found sparse, if it is still this call's input; else null.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private SparseRows? LoadedBatch(NodeContext ctx, int rows) =>
        ctx.LayerState is SparseRows { Loaded: true } sparse && sparse.Rows == rows && sparse.Width == InputFeatures ? sparse : null;

    /// <summary>
    /// Whether a layer narrower than <see cref="SparseMinUnits"/> whose forward took its batch as sparse (on one thread,
    /// <see cref="SparseOneCoreMinUnits"/>) writes its kernel gradient from the compressed rows too
    /// (<see cref="SparseRows.MultiplyTransposedByRows"/>: no sorting by column, which does not repay itself below 64 units)
    /// instead of the dense multiply: the simple model's 32-unit code, 16 or 128 rows a core, 26–62% less time for that
    /// product on AVX2 and the same bits, the zeros' terms being exact zeros (docs/PERFORMANCE.md; a benchmark knob).
    /// </summary>
    internal static bool SparseGradByRows = true;

    /// <summary>
    /// Rows [<paramref name="from"/>, <paramref name="to"/>) of this call's kernel gradient, <c>xᵀ·dz</c> restricted to
    /// those input features, written or added into <paramref name="rowsOut"/> ((to − from) × units): what a
    /// data-parallel step computes for a call that deferred it (<see cref="NodeContext.DefersWeightGrad"/>), after its
    /// Backward. The same chain of sums per element as Backward's own product, on one thread.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal void WeightGradRows(NodeContext ctx, int from, int to, Span<float> rowsOut, bool accumulate)
    {
        int rows = RowsOf(ctx), inF = InputFeatures;
        var dz = ctx.OutputGrad;
        if (SparseBatch(ctx, rows) is { } sparse)
            sparse.MultiplyTransposedLines(dz, Units, rowsOut, from, to, accumulate);
        else
            Gemm.Multiply(true, false, to - from, Units, rows, ctx.Input(0)[from..], inF, dz, Units, rowsOut, Units, accumulate);
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        config.Set("units", Units);
        config.Set("activation", Activation);
        config.Set("use_bias", UseBias);
        config.Set("kernel_initializer", KernelInitializer);
        config.Set("bias_initializer", BiasInitializer);
        config.Set("kernel_regularizer", KernelRegularizer);
        config.Set("bias_regularizer", BiasRegularizer);
        config.Set("activity_regularizer", ActivityRegularizer);
    }

    /// <inheritdoc />
    public static Dense FromConfig(LayerConfig c) =>
        new(c.GetInt("units"), c.GetActivation("activation").Name, c.GetBool("use_bias", true),
            c.GetInitializer("kernel_initializer"), c.GetInitializer("bias_initializer"),
            c.GetRegularizer("kernel_regularizer"), c.GetRegularizer("bias_regularizer"), c.GetRegularizer("activity_regularizer"), c.Name);
}
