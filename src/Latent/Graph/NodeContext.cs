using System.Runtime.CompilerServices;

namespace Latent;

/// <summary>Batch-major storage for one symbolic tensor inside an executor: values and, if needed, gradients.</summary>
internal sealed class TensorBuffer
{
    public TensorBuffer(int[] sampleShape, int capacity, bool withGrad)
        : this(sampleShape, new float[(long)capacity * ShapeUtil.Product(sampleShape)],
               withGrad ? new float[(long)capacity * ShapeUtil.Product(sampleShape)] : null) { }

    /// <summary>A view of existing storage with another sample shape (a wrapper's inner call: (B, T, F) read as B·T samples of F).</summary>
    public TensorBuffer(int[] sampleShape, float[] value, float[]? grad)
    {
        SampleShape = sampleShape;
        SampleSize = ShapeUtil.Product(sampleShape);
        Value = value;
        Grad = grad;
    }

    public int[] SampleShape { get; }
    public int SampleSize { get; }
    public float[] Value { get; }
    public float[]? Grad { get; }
}

/// <summary>
/// What a layer sees when it runs one of its calls on a batch: its inputs, its output, their gradients, its
/// weights' gradients, a workspace planned once for the largest batch, the training flag, a seeded random
/// stream, and a way to add a term to the loss. Spans cover exactly <see cref="Batch"/> samples.
/// </summary>
/// <remarks>
/// <para>In a data-parallel step each core runs the whole graph on its own share of the batch with its own
/// context: <see cref="Batch"/> is the share, <see cref="FullBatch"/> the whole batch. A layer must keep
/// nothing of a call in its own fields (everything per call lives here), because the same layer object runs on
/// several cores at once.</para>
/// <para>A layer's output activation (<see cref="Layers.Layer.OutputActivation"/>) is not the layer's business
/// here: Forward writes the pre-activation into <see cref="OutputValues"/> and the executor applies the
/// activation; Backward receives <see cref="OutputGrad"/> already turned into ∂loss/∂pre-activation.</para>
/// </remarks>
public sealed class NodeContext
{
    internal NodeContext(TensorBuffer[] inputs, TensorBuffer[] outputs, bool[] needsInputGrad, int workspacePerSample, int capacity, ulong seed,
                         TensorBuffer? mask = null)
    {
        Inputs = inputs;
        Outputs = outputs;
        MaskBuffer = mask;
        InputGradNeeded = needsInputGrad;
        WorkspacePerSample = workspacePerSample;
        WorkspaceBuffer = new float[(long)workspacePerSample * capacity];
        Capacity = capacity;
        Random = new LayerRandom(seed);
    }

    /// <summary>A context for a wrapper's inner layer: its workspace is part of the wrapper's, from <paramref name="workspaceOffset"/>.</summary>
    private NodeContext(NodeContext parent, TensorBuffer[] inputs, TensorBuffer[] outputs, bool[] needsInputGrad, int workspacePerSample,
                        int capacity, long workspaceOffset, TensorBuffer? mask)
    {
        Inputs = inputs;
        Outputs = outputs;
        MaskBuffer = mask;
        InputGradNeeded = needsInputGrad;
        WorkspacePerSample = workspacePerSample;
        WorkspaceBuffer = parent.WorkspaceBuffer;
        WorkspaceOffset = checked((int)workspaceOffset);
        if (WorkspaceOffset + (long)workspacePerSample * capacity > WorkspaceBuffer.Length)
            throw new InvalidOperationException($"An inner layer's workspace ({workspacePerSample} per sample × {capacity}) does not fit the wrapper's plan.");
        Capacity = capacity;
        Random = new LayerRandom(0);
        WeightGradients = parent.WeightGradients;
        Sums = parent.Sums;
        Replica = parent.Replica;
    }

    /// <summary>
    /// A context for an inner layer of the wrapper running in this one (<see cref="Layers.TimeDistributed"/>,
    /// <see cref="Layers.Bidirectional"/>), with its own input, output and mask buffers (views of this context's, or
    /// the wrapper's own), <paramref name="capacity"/> samples, and its workspace inside this one's at
    /// <paramref name="workspaceOffset"/>. Weight gradients go where this context's go.
    /// </summary>
    internal NodeContext CreateInner(TensorBuffer[] inputs, TensorBuffer[] outputs, bool[] needsInputGrad, int workspacePerSample, int capacity,
                                     long workspaceOffset, TensorBuffer? mask) =>
        new(this, inputs, outputs, needsInputGrad, workspacePerSample, capacity, workspaceOffset, mask);

    /// <summary>
    /// Readies an inner context for this call: <paramref name="rowsPerSample"/> of its samples per sample of this one
    /// (a time-distributed layer sees every step as a sample), the training flag, and a random stream keyed like
    /// this one's (<paramref name="salt"/> tells inner layers apart).
    /// </summary>
    internal void BeginInner(NodeContext inner, int rowsPerSample, int salt)
    {
        inner.Batch = Batch * rowsPerSample;
        inner.FullBatch = FullBatch * rowsPerSample;
        inner.BatchOffset = BatchOffset * rowsPerSample;
        inner.Training = Training;
        inner.AddedLoss = 0;
        inner.Random.Follow(Random, salt, BatchOffset * rowsPerSample, Batch * rowsPerSample);
    }

    /// <summary>Where this context's workspace starts in <see cref="WorkspaceBuffer"/> (0 except for an inner layer's).</summary>
    internal int WorkspaceOffset { get; }

    internal TensorBuffer[] Inputs { get; }
    internal TensorBuffer[] Outputs { get; }
    internal TensorBuffer Output => Outputs[0];
    internal TensorBuffer? MaskBuffer { get; }

    /// <summary>The largest batch this context runs.</summary>
    internal int Capacity { get; }

    /// <summary>
    /// What a library layer keeps in this context from call to call, made on its first Forward: a wrapper's inner
    /// layers' contexts; a Dense layer's sparse batch, from its Forward to its Backward.
    /// </summary>
    internal object? LayerState { get; set; }

    /// <summary>Which inputs are the model's own inputs (data as given, never an activation); null when none is.</summary>
    internal bool[]? DataInputs { get; init; }

    /// <summary>Whether input <paramref name="i"/> is one of the model's inputs (<see cref="DataInputs"/>).</summary>
    internal bool InputIsData(int i) => DataInputs is { } d && d[i];
    internal bool[] InputGradNeeded { get; }

    /// <summary>
    /// Which inputs are a <see cref="Layers.RepeatVector"/>'s output: every step of a sample equals its first, and the
    /// gradient reaching them is only ever summed over the steps (by the RepeatVector's backward). A recurrent layer
    /// reading one may project the first step only, and write the step-summed input gradient into the first step
    /// alone: the sum the RepeatVector takes is the same. Null when none is.
    /// </summary>
    internal bool[]? RepeatedInputs { get; init; }

    /// <summary>Whether input <paramref name="i"/> repeats one vector over its steps (<see cref="RepeatedInputs"/>).</summary>
    internal bool InputRepeated(int i) => RepeatedInputs is { } r && r[i];
    internal int WorkspacePerSample { get; }
    internal float[] WorkspaceBuffer { get; }

    /// <summary>
    /// Where weight gradients go: null for the model's store (<see cref="Weight"/>'s own gradient), or a
    /// replica's private array of the store's length (a data-parallel step sums the replicas afterwards).
    /// </summary>
    internal float[]? WeightGradients { get; set; }

    /// <summary>Where a data-parallel step's replicas meet to sum over the batch (null on one executor), and this replica's index.</summary>
    internal ReplicaSums? Sums { get; set; }
    internal int Replica { get; set; }

    /// <summary>Σ of this call's <see cref="AddLoss"/> values since the executor cleared it.</summary>
    internal double AddedLoss { get; set; }

    /// <summary>Samples in this call (a data-parallel share of the batch, or the whole batch).</summary>
    public int Batch { get; internal set; }

    /// <summary>Samples in the whole training step's batch: <see cref="Batch"/> on one core, more on a share.</summary>
    public int FullBatch { get; internal set; }

    /// <summary>Position of this call's first sample within the whole batch (0 on one core).</summary>
    public int BatchOffset { get; internal set; }

    /// <summary><c>1 / FullBatch</c>: the factor on each sample's gradient for a term defined as a mean over the batch.</summary>
    public float MeanScale => 1f / FullBatch;

    /// <summary>True during Fit and TrainOnBatch (dropout and noise active), false in Predict and Evaluate.</summary>
    public bool Training { get; internal set; }

    /// <summary>
    /// This call's random stream: reproducible from Fit's seed, different for every batch and every sample, and
    /// the same for a sample whichever core runs it (see <see cref="LayerRandom"/>).
    /// </summary>
    public LayerRandom Random { get; }

    /// <summary>Number of inputs of this call.</summary>
    public int InputCount => Inputs.Length;

    /// <summary>Per-sample shape of input <paramref name="i"/>.</summary>
    public IReadOnlyList<int> InputShape(int i) => Inputs[i].SampleShape;

    /// <summary>Per-sample shape of the output.</summary>
    public IReadOnlyList<int> OutputShape => Output.SampleShape;

    /// <summary>Input <paramref name="i"/>: Batch × its sample size, row-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // called from the per-step methods, which the runtime does not tier
    public ReadOnlySpan<float> Input(int i) => Inputs[i].Value.AsSpan(0, Batch * Inputs[i].SampleSize);

    /// <summary>The output, Batch × sample size: Forward writes it (before the executor applies the layer's output activation).</summary>
    public Span<float> OutputValues
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // as Input
        get => Output.Value.AsSpan(0, Batch * Output.SampleSize);
    }

    /// <summary>
    /// ∂loss/∂output (∂loss/∂pre-activation when the layer declares an output activation): Backward reads it, and
    /// may overwrite it, since nothing else reads it afterwards.
    /// </summary>
    public Span<float> OutputGrad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // as Input
        get => Output.Grad.AsSpan(0, Batch * Output.SampleSize);
    }

    /// <summary>Number of outputs of this call (more than one for a recurrent layer returning its states).</summary>
    public int OutputCount => Outputs.Length;

    /// <summary>Output <paramref name="k"/>, Batch × its sample size (<see cref="OutputValues"/> is output 0).</summary>
    public Span<float> OutputValuesAt(int k) => Outputs[k].Value.AsSpan(0, Batch * Outputs[k].SampleSize);

    /// <summary>∂loss/∂output <paramref name="k"/> (zero when nothing reads that output).</summary>
    public Span<float> OutputGradAt(int k) => Outputs[k].Grad.AsSpan(0, Batch * Outputs[k].SampleSize);

    /// <summary>
    /// The first input's mask, Batch × timesteps (1: use the step, 0: skip it), for a layer that
    /// <see cref="Layers.Layer.UsesMask"/>; empty when the input has no mask.
    /// </summary>
    public ReadOnlySpan<float> Mask => MaskBuffer is null ? default : MaskBuffer.Value.AsSpan(0, Batch * MaskBuffer.SampleSize);

    /// <summary>Whether Backward must produce ∂loss/∂input <paramref name="i"/> (false for a model input).</summary>
    public bool NeedsInputGrad(int i) => InputGradNeeded[i];

    /// <summary>Per input, whether the executor left its gradient uncleared for this layer to write (see <see cref="WritesInputGrad"/>).</summary>
    internal bool[]? FreshInputGrads { get; set; }

    /// <summary>
    /// Whether Backward must <b>write</b> all of ∂loss/∂input <paramref name="i"/> rather than add into it: this layer is
    /// the first to produce that gradient and the buffer holds stale values, not zeros. Only for layers that declare
    /// <see cref="Layers.Layer.CanWriteInputGrads"/>; saves the executor a clearing pass over the buffer.
    /// </summary>
    internal bool WritesInputGrad(int i) => FreshInputGrads is { } f && f[i];

    /// <summary>Hands <paramref name="grad"/> to input <paramref name="i"/>'s gradient unchanged: written or added, as <see cref="WritesInputGrad"/> says.</summary>
    internal void PassInputGrad(int i, ReadOnlySpan<float> grad)
    {
        if (WritesInputGrad(i)) grad.CopyTo(InputGrad(i));
        else Kernels.Simd.Add(InputGrad(i), grad, InputGrad(i));
    }

    /// <summary>∂loss/∂input <paramref name="i"/>; Backward <b>adds</b> into it, so a tensor used twice sums its gradients.</summary>
    public Span<float> InputGrad(int i) => Inputs[i].Grad.AsSpan(0, Batch * Inputs[i].SampleSize);

    /// <summary>
    /// Whether Backward must <b>write</b> the gradients of all of the layer's weights rather than add into them: this
    /// node is the layer's only call in the graph and the executor left the ranges uncleared (stale values). Only for
    /// layers that declare <see cref="Layers.Layer.CanWriteWeightGrads"/>; set by the executor before each Backward.
    /// </summary>
    internal bool WritesWeightGrads { get; set; }

    /// <summary>
    /// Whether a data-parallel step computes this call's kernel gradient itself, later, from every replica's input and
    /// output gradient at once (<see cref="Layers.Dense.WeightGradRows"/>): Backward then leaves it alone.
    /// </summary>
    internal bool DefersWeightGrad { get; set; }

    /// <summary>
    /// Whether a data-parallel step runs this call's kernel gradient as a task of its own after Backward, on whichever
    /// core is free first (<see cref="Layers.Dense.PostedKernelGradient"/>): Backward then leaves it alone.
    /// </summary>
    internal bool PostsWeightGrad { get; set; }

    /// <summary>
    /// ∂loss/∂<paramref name="weight"/>, laid out like <see cref="Weight.Values"/>. Backward <b>adds</b> into it
    /// (a layer called twice sums both calls). Only a layer's own trainable weights should be written.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public Span<float> WeightGrad(Weight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return WeightGradients is null ? weight.Grads : WeightGradients.AsSpan(weight.Offset, weight.Length);
    }

    /// <summary>Scratch kept from Forward to Backward: Batch × the layer's per-sample workspace size.</summary>
    public Span<float> Workspace
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // as Input
        get => WorkspaceBuffer.AsSpan(WorkspaceOffset, Batch * WorkspacePerSample);
    }

    /// <summary>
    /// Turns <paramref name="values"/>, sums over this call's samples, into the same sums over the whole batch: in a
    /// data-parallel step every share of the batch calls this at the same point of its Forward or Backward and each
    /// gets the same totals (added in a fixed order, so a seed still reproduces a run); on one executor the values
    /// are already whole-batch sums and stay as they are. This is how statistics over the batch (batch
    /// normalization's mean and variance) stay exact when the batch is split across cores. Only a layer that
    /// declares <see cref="Layers.Layer.SumsOverShares"/> may call it, and every share must make the same calls with
    /// the same lengths (the shares wait for each other).
    /// </summary>
    /// <exception cref="InvalidOperationException">Called on a share by a layer that does not declare it, or another share failed.</exception>
    public void SumOverShares(Span<double> values)
    {
        if (Sums is not null) Sums.Sum(Replica, values);
        else if (Batch != FullBatch)
            throw new InvalidOperationException("SumOverShares on a share of a data-parallel step needs the layer to declare SumsOverShares.");
    }

    /// <summary>
    /// Adds a term to the loss (a VAE's KL divergence, a sparsity penalty), from Forward. Pass the term for the
    /// samples of this call as a mean over them, <c>(1/Batch)·Σᵢ kᵢ</c>; it counts with weight
    /// <c>Batch / FullBatch</c>, so the shares of a data-parallel step add up to the mean over the whole batch.
    /// The layer writes the matching gradient in Backward: <c>MeanScale · ∂kᵢ/∂x</c> into the input gradients (and
    /// its weights' gradients). <c>History.AddedLoss</c> records these terms apart from the data loss.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called outside a running batch.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void AddLoss(double value)
    {
        if (Batch <= 0) throw new InvalidOperationException("AddLoss is for a layer's Forward, while a batch runs.");
        AddedLoss += value * Batch / FullBatch;
    }
}
