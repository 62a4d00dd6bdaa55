namespace Latent;

/// <summary>Batch-major storage for one symbolic tensor inside an executor: values and, if needed, gradients.</summary>
internal sealed class TensorBuffer(int[] sampleShape, int capacity, bool withGrad)
{
    public int[] SampleShape { get; } = sampleShape;
    public int SampleSize { get; } = ShapeUtil.Product(sampleShape);
    public float[] Value { get; } = new float[(long)capacity * ShapeUtil.Product(sampleShape)];
    public float[]? Grad { get; } = withGrad ? new float[(long)capacity * ShapeUtil.Product(sampleShape)] : null;
}

/// <summary>
/// What a layer sees when it runs one of its calls on a batch: its inputs, its output, their gradients, a
/// workspace planned once for the largest batch, and a slot for an extra loss term (an activity penalty, a
/// VAE's KL divergence). Spans cover exactly <see cref="Batch"/> samples.
/// </summary>
public sealed class NodeContext
{
    internal NodeContext(TensorBuffer[] inputs, TensorBuffer output, bool[] needsInputGrad, int workspacePerSample, int capacity, ulong seed)
    {
        Inputs = inputs;
        Output = output;
        InputGradNeeded = needsInputGrad;
        WorkspacePerSample = workspacePerSample;
        WorkspaceBuffer = new float[(long)workspacePerSample * capacity];
        Rng = new Rng(seed);
    }

    internal TensorBuffer[] Inputs { get; }
    internal TensorBuffer Output { get; }
    internal bool[] InputGradNeeded { get; }
    internal int WorkspacePerSample { get; }
    internal float[] WorkspaceBuffer { get; }
    internal float[]? LogitsBuffer { get; set; }

    /// <summary>
    /// Where weight gradients go: null for the model's store (<see cref="Weight"/>'s own gradient), or a
    /// replica's private array of the store's length (a data-parallel step sums the replicas afterwards).
    /// </summary>
    internal float[]? WeightGradients { get; set; }

    /// <summary>The gradient of <paramref name="weight"/> this node accumulates into.</summary>
    internal Span<float> GradOf(Weight weight) =>
        WeightGradients is null ? weight.Grads : WeightGradients.AsSpan(weight.Offset, weight.Length);
    /// <summary>This call's private random stream (dropout masks, VAE sampling), seeded once per executor.</summary>
    internal Rng Rng;

    /// <summary>Samples in this batch.</summary>
    public int Batch { get; internal set; }

    /// <summary>True during Fit (dropout active), false in Predict and Evaluate.</summary>
    public bool Training { get; internal set; }

    /// <summary>Number of inputs of this call.</summary>
    public int InputCount => Inputs.Length;

    /// <summary>Per-sample shape of input <paramref name="i"/>.</summary>
    public IReadOnlyList<int> InputShape(int i) => Inputs[i].SampleShape;

    /// <summary>Per-sample shape of the output.</summary>
    public IReadOnlyList<int> OutputShape => Output.SampleShape;

    /// <summary>Input <paramref name="i"/>: Batch × its sample size, row-major.</summary>
    public ReadOnlySpan<float> Input(int i) => Inputs[i].Value.AsSpan(0, Batch * Inputs[i].SampleSize);

    /// <summary>The output, Batch × sample size: Forward writes it.</summary>
    public Span<float> OutputValues => Output.Value.AsSpan(0, Batch * Output.SampleSize);

    /// <summary>∂loss/∂output, Backward reads it (and may overwrite it: nothing else reads it afterwards).</summary>
    public Span<float> OutputGrad => Output.Grad.AsSpan(0, Batch * Output.SampleSize);

    /// <summary>Whether Backward must produce ∂loss/∂input <paramref name="i"/> (false for a model input).</summary>
    public bool NeedsInputGrad(int i) => InputGradNeeded[i];

    /// <summary>∂loss/∂input <paramref name="i"/>; Backward <b>adds</b> into it, so a tensor used twice sums its gradients.</summary>
    public Span<float> InputGrad(int i) => Inputs[i].Grad.AsSpan(0, Batch * Inputs[i].SampleSize);

    /// <summary>Scratch kept from Forward to Backward: Batch × the layer's per-sample workspace size.</summary>
    public Span<float> Workspace => WorkspaceBuffer.AsSpan(0, Batch * WorkspacePerSample);

    /// <summary>
    /// Set when the loss is computed from this layer's pre-activation (a sigmoid output under binary
    /// cross-entropy): Forward must also write z into <see cref="Logits"/>.
    /// </summary>
    public bool KeepLogits => LogitsBuffer is not null;

    /// <summary>Pre-activation output z, when <see cref="KeepLogits"/>.</summary>
    public Span<float> Logits => LogitsBuffer.AsSpan(0, Batch * Output.SampleSize);

    /// <summary>
    /// False only when the loss reads <see cref="Logits"/> and nothing reads the output itself (training and
    /// evaluation of a sigmoid output under binary cross-entropy): Forward may then skip computing y.
    /// </summary>
    public bool OutputNeeded { get; internal set; } = true;

    /// <summary>When true, <see cref="OutputGrad"/> already holds ∂loss/∂z and Backward must skip the activation's derivative.</summary>
    public bool OutputGradIsLogitGrad { get; internal set; }

    /// <summary>An extra loss term this call adds to the batch loss (set in Forward; its gradient is the layer's job in Backward).</summary>
    public double AuxiliaryLoss { get; set; }
}
