using System.Numerics.Tensors;
using Latent.Activations;
using Latent.Initializers;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// What <see cref="LSTM"/> and <see cref="GRU"/> share: Keras's settings, the three weights
/// (kernel W (features, gates·units), recurrent kernel U (units, gates·units), bias), the shapes, the options
/// <see cref="ReturnSequences"/> and <see cref="GoBackwards"/>, optional initial states, and the saved configuration.
/// </summary>
/// <remarks>
/// <para>Shapes: x (B, T, D) → y (B, T, H) with <see cref="ReturnSequences"/>, else the last step's state (B, H).
/// Initial states, when given, are further inputs of shape (B, H) (<c>layer.Apply(x, h0)</c>, for an LSTM
/// <c>layer.Apply(x, h0, c0)</c>); otherwise the states start at zero, as in Keras and PyTorch.</para>
/// <para>Backpropagation through time keeps every step's gate activations, hidden and cell states in the planned
/// workspace (nothing is allocated per step). The input projections of all T steps are one matrix product
/// <c>x·W + b</c> over B·T rows before the recurrence, and their gradients (<c>dW += xᵀ·dG</c>, <c>dx += dG·Wᵀ</c>)
/// one product each after it; each step runs one product <c>h_{t−1}·U</c> for all gates together.</para>
/// </remarks>
public abstract class Recurrent : Layer
{
    private protected Recurrent(int units, string? activation, string? recurrentActivation, bool useBias,
                                Initializer? kernelInitializer, Initializer? recurrentInitializer, Initializer? biasInitializer,
                                Regularizer? kernelRegularizer, Regularizer? recurrentRegularizer, Regularizer? biasRegularizer,
                                Regularizer? activityRegularizer, bool returnSequences, bool returnState, bool goBackwards, string? name) : base(name)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, $"Expected a positive integer. Received: units={units}.");
        Units = units;
        Activation = ActivationFunction.Get(activation);
        RecurrentActivation = ActivationFunction.Get(recurrentActivation);
        if (Activation is Softmax || RecurrentActivation is Softmax)
            throw new ArgumentException($"A recurrent layer's activations act element by element; softmax is not one. Received: activation={Activation.Name}, recurrentActivation={RecurrentActivation.Name}.");
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        RecurrentInitializer = recurrentInitializer ?? new Orthogonal();
        BiasInitializer = biasInitializer ?? new Constant(0);
        KernelRegularizer = kernelRegularizer;
        RecurrentRegularizer = recurrentRegularizer;
        BiasRegularizer = biasRegularizer;
        ActivityRegularizer = activityRegularizer;
        ReturnSequences = returnSequences;
        ReturnState = returnState;
        GoBackwards = goBackwards;
    }

    /// <summary>H, the size of the state and of each step's output.</summary>
    public int Units { get; }

    /// <summary>The cell's activation (tanh by default): the candidate state and, for an LSTM, <c>h = o ⊙ f(c)</c>.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>The gates' activation (sigmoid by default).</summary>
    public ActivationFunction RecurrentActivation { get; }

    /// <summary>Whether the gates have biases.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of W (glorot_uniform).</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of U (orthogonal).</summary>
    public Initializer RecurrentInitializer { get; }

    /// <summary>Initializer of the bias (zeros).</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>Penalty on W.</summary>
    public Regularizer? KernelRegularizer { get; }

    /// <summary>Penalty on U.</summary>
    public Regularizer? RecurrentRegularizer { get; }

    /// <summary>Penalty on the bias.</summary>
    public Regularizer? BiasRegularizer { get; }

    /// <summary>Output every step's state (B, T, H) instead of the last one (B, H).</summary>
    public bool ReturnSequences { get; }

    /// <summary>
    /// Give the final states as further outputs: <c>ApplyAll(x)</c> returns the output, then h (B, H) and, for an LSTM,
    /// c (B, H), as Keras's <c>return_state</c>; gradients flow back through them (a decoder started from an encoder's states).
    /// </summary>
    public bool ReturnState { get; }

    /// <summary>Read the sequence from its last step to its first; with <see cref="ReturnSequences"/> the outputs come in
    /// that (reversed) order, as in Keras.</summary>
    public bool GoBackwards { get; }

    /// <summary>W, shape (features, gates·units); null until built.</summary>
    public Weight? Kernel { get; private set; }

    /// <summary>U, shape (units, gates·units); null until built.</summary>
    public Weight? RecurrentKernel { get; private set; }

    /// <summary>The bias; null until built or without bias.</summary>
    public Weight? Bias { get; private set; }

    /// <summary>Features per step (D); 0 until built.</summary>
    public int InputFeatures => Kernel?.Shape[0] ?? 0;

    /// <summary>Tests turn this off to hold the general path (any element-wise activation) to the same checks.</summary>
    internal static bool FusedCellsEnabled = true;

    /// <summary>Whether this layer's steps run the fused default-activation rows of <see cref="Kernels.RecurrentCells"/>.</summary>
    private protected bool FusedCells => FusedCellsEnabled && Kernels.RecurrentCells.Accelerated && Activation is Tanh && RecurrentActivation is Sigmoid;

    /// <summary>Gates that share one product: 4 for an LSTM (i, f, c, o), 3 for a GRU (z, r, h).</summary>
    private protected abstract int Gates { get; }

    /// <summary>Number of state tensors: 2 for an LSTM (h, c), 1 for a GRU (h).</summary>
    private protected abstract int StateCount { get; }

    /// <summary>The bias's shape.</summary>
    private protected virtual int[] BiasShape => [Gates * Units];

    /// <summary>Called after the bias is created (an LSTM's forget-gate bias of 1).</summary>
    private protected virtual void InitializeBias(Span<float> bias) { }

    /// <inheritdoc />
    protected override int InputArity => -1;

    /// <inheritdoc />
    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        var (_, d) = Sequence(inputShapes[0]);
        Kernel = AddWeight("kernel", [d, Gates * Units], KernelInitializer, KernelRegularizer);
        RecurrentKernel = AddWeight("recurrent_kernel", [Units, Gates * Units], RecurrentInitializer, RecurrentRegularizer);
        if (UseBias)
        {
            Bias = AddWeight("bias", BiasShape, BiasInitializer, BiasRegularizer);
            InitializeBias(Bias.Values);
        }
    }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        var (_, d) = Sequence(inputShapes[0]);
        if (d != InputFeatures)
            throw new ArgumentException($"{TypeName} '{Name}' expects {InputFeatures} features per step, received {d} (input shape {ShapeUtil.FormatBatch(inputShapes[0])}).");
        if (inputShapes.Count != 1 && inputShapes.Count != 1 + StateCount)
            throw new ArgumentException($"{TypeName} '{Name}' takes a sequence and, optionally, {StateCount} initial state(s); received {inputShapes.Count} inputs.");
        for (int i = 1; i < inputShapes.Count; i++)
            if (inputShapes[i].Length != 1 || inputShapes[i][0] != Units)
                throw new ArgumentException($"{TypeName} '{Name}' needs initial states of shape (None, {Units}); input {i} has shape {ShapeUtil.FormatBatch(inputShapes[i])}.");
    }

    /// <summary>(T, D) of a per-sample input shape, or a clear error for anything that is not a sequence.</summary>
    private protected (int T, int D) Sequence(int[] shape) =>
        shape.Length == 2 ? (shape[0], shape[1])
        : throw new ArgumentException($"{TypeName} '{Name}' expects sequences of shape (batch, timesteps, features), received {ShapeUtil.FormatBatch(shape)}" +
                                      (shape.Length == 1 ? ": reshape the data to (batch, timesteps, features), e.g. (N, T, 1) for one feature per step." : "."));

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) =>
        ReturnSequences ? [inputShapes[0][0], Units] : [Units];

    /// <inheritdoc />
    protected internal override int[][] ComputeOutputShapes(IReadOnlyList<int[]> inputShapes) =>
        ReturnState ? [ComputeOutputShape(inputShapes), .. Enumerable.Range(0, StateCount).Select(_ => new[] { Units })]
                    : [ComputeOutputShape(inputShapes)];

    /// <summary>True: masked steps (<see cref="Masking"/>) leave the states as they were and output zeros.</summary>
    protected internal override bool UsesMask => true;

    /// <summary>A sequence output keeps the input's mask (in time order, so not with <see cref="GoBackwards"/>, whose outputs run backwards); states and a last-step output carry none.</summary>
    private protected override void SetOutputMasks(IReadOnlyList<SymbolicTensor> outputs, SymbolicTensor? mask)
    {
        if (ReturnSequences && !GoBackwards) outputs[0].Mask = mask;
    }

    /// <summary>Whether sample b skips the step at input time t (its mask is 0 there).</summary>
    private protected static bool Skips(ReadOnlySpan<float> mask, int b, int t, int steps) => !mask.IsEmpty && mask[b * steps + t] == 0;
    /// <summary>Input time of processing step s.</summary>
    private protected int TimeOfStep(int s, int steps) => GoBackwards ? steps - 1 - s : s;

    /// <summary>Input time read first: where the initial state goes in a (B, T, H) buffer of states before each step.</summary>
    private protected int FirstTime(int steps) => GoBackwards ? steps - 1 : 0;

    /// <summary>
    /// The row of sample b's state after the step at input time t: the "before" row of the next step in
    /// <paramref name="before"/> (B, T, H), or the row of <paramref name="last"/> (B, H) after the final step.
    /// Keeping every step's incoming state in one (B·T, H) matrix aligned with the gates makes <c>dU += Hᵀ·δ</c>
    /// one product over all steps.
    /// </summary>
    private protected Span<float> StateAfter(Span<float> before, Span<float> last, int b, int t, int steps)
    {
        int h = Units, next = GoBackwards ? t - 1 : t + 1;
        return next >= 0 && next < steps ? before.Slice((b * steps + next) * h, h) : last.Slice(b * h, h);
    }

    /// <summary>
    /// Writes the outputs: every step's state (in processing order; zeros at masked steps) or the last, then with
    /// <see cref="ReturnState"/> the final states <paramref name="last"/> and <paramref name="lastCell"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private protected void WriteOutput(NodeContext ctx, Span<float> before, Span<float> last, int steps, Span<float> lastCell = default)
    {
        int batch = ctx.Batch, h = Units;
        var y = ctx.OutputValues;
        var mask = ctx.Mask;
        if (!ReturnSequences) last[..(batch * h)].CopyTo(y);
        else
            for (int b = 0; b < batch; b++)
                for (int s = 0; s < steps; s++)
                {
                    int t = TimeOfStep(s, steps);
                    var dst = y.Slice((b * steps + s) * h, h);
                    if (Skips(mask, b, t, steps)) dst.Clear();
                    else StateAfter(before, last, b, t, steps).CopyTo(dst);
                }
        if (!ReturnState) return;
        last[..(batch * h)].CopyTo(ctx.OutputValuesAt(1));
        if (StateCount > 1) lastCell[..(batch * h)].CopyTo(ctx.OutputValuesAt(2));
    }

    /// <summary>
    /// ∂loss/∂ the final states before the first backward step: from the state outputs with <see cref="ReturnState"/>,
    /// plus, without <see cref="ReturnSequences"/>, the output's (the output is the final h, whichever step set it).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private protected void SeedStateGradients(NodeContext ctx, Span<float> dh, Span<float> dc)
    {
        if (ReturnState) ctx.OutputGradAt(1).CopyTo(dh);
        else dh.Clear();
        if (!ReturnSequences) TensorPrimitives.Add(dh, ctx.OutputGrad, dh);
        if (dc.IsEmpty) return;
        if (ReturnState) ctx.OutputGradAt(2).CopyTo(dc);
        else dc.Clear();
    }

    /// <summary>Sets every sample's state before the first step from initial-state input <paramref name="input"/>, or zero.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private protected void InitialState(NodeContext ctx, Span<float> before, int steps, int input)
    {
        int h = Units, t0 = FirstTime(steps);
        for (int b = 0; b < ctx.Batch; b++)
        {
            var dst = before.Slice((b * steps + t0) * h, h);
            if (ctx.InputCount > input) ctx.Input(input).Slice(b * h, h).CopyTo(dst);
            else dst.Clear();
        }
    }

    /// <summary>
    /// The input side of every step at once, into <paramref name="gates"/> (B, T, G): <c>xₜ·W + b</c> for all rows,
    /// one (B·T, D)·(D, G) product. When the input is a RepeatVector's output (<see cref="NodeContext.InputRepeated"/>)
    /// every step's xₜ is x₀: one (B, D)·(D, G) product into <paramref name="once"/> (B, G), copied to each step's rows,
    /// which makes a sequence decoder's projection T times cheaper. Masked inputs take the general path.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private protected void ProjectInputs(NodeContext ctx, Span<float> gates, Span<float> once, int steps, int d, int g, ReadOnlySpan<float> bias)
    {
        int batch = ctx.Batch;
        if (!RepeatedInput(ctx))
        {
            Kernels.Gemm.Multiply(false, false, batch * steps, g, d, ctx.Input(0), d, Kernel!.Values, g, gates, g, accumulate: false, bias: bias);
            return;
        }
        Kernels.Gemm.Multiply(false, false, batch, g, d, ctx.Input(0), steps * d, Kernel!.Values, g, once, g, accumulate: false, bias: bias);
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < steps; t++) once.Slice(b * g, g).CopyTo(gates.Slice((b * steps + t) * g, g));
    }

    /// <summary>
    /// The input side's gradients from the gates' δ (B, T, G): <c>dW += Xᵀ·δ</c>, the input bias's column sums into
    /// <paramref name="biasGrad"/> (when not empty), and <c>dX += δ·Wᵀ</c>. For a repeated input, with S = Σₜ δₜ (B, G)
    /// summed into <paramref name="once"/>: <c>dW += x₀ᵀ·S</c>, <c>db += Σ_b S</c>, and <c>S·Wᵀ</c> is added to the first
    /// step's slot only, since the RepeatVector sums the input gradient over the steps.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private protected void InputSideGradients(NodeContext ctx, Span<float> gates, Span<float> once, int steps, int d, int g, Span<float> biasGrad)
    {
        int batch = ctx.Batch, rows = batch * steps;
        bool needX = ctx.NeedsInputGrad(0);
        if (!Trainable && !needX) return;
        ReadOnlySpan<float> delta = gates;
        int deltaRows = rows, lda = d;
        if (RepeatedInput(ctx))
        {
            for (int b = 0; b < batch; b++)
            {
                var sum = once.Slice(b * g, g);
                gates.Slice(b * steps * g, g).CopyTo(sum);
                for (int t = 1; t < steps; t++) Kernels.Simd.Add(sum, gates.Slice((b * steps + t) * g, g), sum);
            }
            delta = once[..(batch * g)];
            deltaRows = batch;
            lda = steps * d;
        }
        if (Trainable)
        {
            Kernels.Gemm.Multiply(true, false, d, g, deltaRows, ctx.Input(0), lda, delta, g, ctx.WeightGrad(Kernel!), g, accumulate: true);
            if (!biasGrad.IsEmpty) Kernels.Simd.AccumulateColumnSums(delta, biasGrad, deltaRows);
        }
        if (needX) Kernels.Gemm.Multiply(false, true, deltaRows, d, g, delta, g, Kernel!.Values, g, ctx.InputGrad(0), lda, accumulate: true);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static bool RepeatedInput(NodeContext ctx) => ctx.InputRepeated(0) && ctx.Mask.IsEmpty;

    [ThreadStatic] private static float[]? t_packed;

    /// <summary>
    /// U (or Uᵀ) packed once for the step products of one Forward or Backward, in a buffer of the calling thread (the
    /// same layer runs on several threads at once in a data-parallel step). Valid until this thread packs again.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private protected static ReadOnlySpan<float> PackRecurrent(ReadOnlySpan<float> u, int h, int gatesH, bool transposed)
    {
        int k = transposed ? gatesH : h, n = transposed ? h : gatesH;
        int length = Kernels.Gemm.PackedLength(k, n);
        if (t_packed is null || t_packed.Length < length) t_packed = GC.AllocateUninitializedArray<float>(length, pinned: true);
        Kernels.Gemm.PackWhole(transposed, u, gatesH, k, n, t_packed);
        return t_packed.AsSpan(0, length);
    }

    /// <summary>∂loss/∂y of processing step s for row b with <see cref="ReturnSequences"/>; empty without (the last state's gradient is seeded into dh).</summary>
    private protected ReadOnlySpan<float> OutputGradAt(NodeContext ctx, int b, int s, int steps) =>
        ReturnSequences ? ctx.OutputGrad.Slice((b * steps + s) * Units, Units) : ReadOnlySpan<float>.Empty;

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        config.Set("units", Units);
        config.Set("activation", Activation);
        config.Set("recurrent_activation", RecurrentActivation);
        config.Set("use_bias", UseBias);
        config.Set("kernel_initializer", KernelInitializer);
        config.Set("recurrent_initializer", RecurrentInitializer);
        config.Set("bias_initializer", BiasInitializer);
        config.Set("kernel_regularizer", KernelRegularizer);
        config.Set("recurrent_regularizer", RecurrentRegularizer);
        config.Set("bias_regularizer", BiasRegularizer);
        config.Set("activity_regularizer", ActivityRegularizer);
        config.Set("return_sequences", ReturnSequences);
        config.Set("return_state", ReturnState);
        config.Set("go_backwards", GoBackwards);
    }
}
