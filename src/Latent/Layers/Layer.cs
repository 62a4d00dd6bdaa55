using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using Latent.Activations;
using Latent.Initializers;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// A layer in Keras's split: the constructor validates and stores settings; <see cref="Build"/> creates the
/// weights (<see cref="AddWeight"/>) the first time the layer is applied; <see cref="ComputeOutputShape"/> gives
/// the output shape; <see cref="Forward"/> and <see cref="Backward"/> are the math on a batch, over a
/// <see cref="NodeContext"/>; <see cref="GetConfig"/> and a registration in <see cref="LayerRegistry"/> make it
/// savable. Backward <b>adds</b> into weight and input gradients, so a layer applied twice (a shared layer) sums
/// its gradients. docs/WRITING-LAYERS.md walks through a layer written outside the library.
/// </summary>
/// <remarks>
/// The same layer object runs on several cores at once in a data-parallel step, each core on its own share of
/// the batch with its own context: a layer keeps its settings and weights in fields, and everything of a call
/// (masks, caches, random draws) in the context (<see cref="NodeContext.Workspace"/>, <see cref="NodeContext.Random"/>).
/// </remarks>
public abstract class Layer
{
    private static readonly ConcurrentDictionary<string, int> NameCounters = new();
    private readonly List<Weight> _weights = [];
    private int _calls;

    /// <summary>Names the layer <paramref name="name"/>, or a unique name from its type ("dense", "dense_1", ...).</summary>
    protected Layer(string? name)
    {
        if (name is not null && string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A layer name cannot be blank.", nameof(name));
        if (name is not null && HasControlCharacters(name))
            throw new ArgumentException($"A layer name cannot hold control characters (they would reach the terminal). Received: {Data.SafeText.Printable(name)}.", nameof(name));
        Name = name ?? UniqueName(DefaultNamePrefix);
    }

    /// <summary>While a model file is being read (on this thread): how many weight values it may still create.</summary>
    [ThreadStatic] internal static StrongBox<long>? LoadBudget;

    /// <summary>Whether <paramref name="text"/> holds a control character (C0, DEL or C1): what a terminal would act on.</summary>
    internal static bool HasControlCharacters(string text) => text.Any(char.IsControl);

    /// <summary>The layer's name, unique among layers created without an explicit name.</summary>
    public string Name { get; }

    /// <summary>Whether optimizers update this layer's weights (a wrapper's inner layers follow it).</summary>
    public bool Trainable
    {
        get => _trainable;
        set
        {
            _trainable = value;
            OnTrainableChanged(value);
        }
    }

    private bool _trainable = true;

    /// <summary>Called when <see cref="Trainable"/> is set: a wrapper sets its inner layers'.</summary>
    private protected virtual void OnTrainableChanged(bool trainable) { }

    /// <summary>Whether the weights exist (the layer has been applied once).</summary>
    public bool Built { get; private set; }

    /// <summary>The layer's weights, in creation order.</summary>
    public IReadOnlyList<Weight> Weights => _weights;

    /// <summary>A penalty on this layer's output, added to the loss during training (Keras's activity_regularizer).</summary>
    public Regularizer? ActivityRegularizer { get; protected init; }

    /// <summary>The class name shown by <c>Model.Summary()</c>.</summary>
    public virtual string TypeName => GetType().Name;

    /// <summary>Number of scalars in the weights.</summary>
    public int CountParams() => _weights.Sum(w => w.Length);

    /// <summary>Prefix for generated names: "dense" for <see cref="Dense"/>.</summary>
    protected virtual string DefaultNamePrefix => ToSnakeCase(GetType().Name);

    /// <summary>How many inputs a call takes; -1 for any number ≥ 1.</summary>
    protected virtual int InputArity => 1;

    /// <summary>Applies the layer to one symbolic tensor, recording a node; builds the weights on the first call.</summary>
    /// <exception cref="ArgumentException">The input's shape does not fit the layer.</exception>
    public SymbolicTensor Apply(SymbolicTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Apply([input]);
    }

    /// <summary>Applies the layer to several symbolic tensors (for layers that take more than one input).</summary>
    /// <returns>The layer's output; <see cref="ApplyAll"/> returns every output of a layer that has several.</returns>
    public SymbolicTensor Apply(params SymbolicTensor[] inputs) => ApplyAll(inputs)[0];

    /// <summary>
    /// Applies the layer and returns all its outputs, in order: one for most layers; for a recurrent layer with
    /// <c>returnState</c> the output, then the final states (Keras's <c>output, state_h, state_c = lstm(x)</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The inputs' number or shapes do not fit the layer.</exception>
    public IReadOnlyList<SymbolicTensor> ApplyAll(params SymbolicTensor[] inputs) => Call(inputs, givenMask: null);

    /// <summary>
    /// Applies the layer with <paramref name="mask"/> as its input's mask instead of the one the input carries, as
    /// Keras's <c>layer(x, mask=m)</c>: a sequence decoder fed by a <see cref="RepeatVector"/> (which drops masks) can skip
    /// the padded steps of the sequence it rebuilds, and its output then carries the mask to the loss:
    /// <code>
    /// var masked = new Masking(0).Apply(input);
    /// var code = new LSTM(64).Apply(masked);
    /// var output = new LSTM(f, returnSequences: true).ApplyWithMask(new RepeatVector(t).Apply(code), masked.Mask!);
    /// </code>
    /// </summary>
    /// <returns>Every output, as <see cref="ApplyAll"/>.</returns>
    /// <exception cref="ArgumentException">The layer neither uses nor passes on masks, or the mask's length is not the input's number of steps.</exception>
    public IReadOnlyList<SymbolicTensor> ApplyWithMask(SymbolicTensor input, SymbolicTensor mask, params SymbolicTensor[] moreInputs)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(moreInputs);
        if (!UsesMask && !PropagatesMask)
            throw new ArgumentException($"{TypeName} '{Name}' neither uses nor passes on a mask; give the mask to a recurrent or step-wise layer.", nameof(mask));
        if (input.Shape.Count < 2 || mask.Shape.Count != 1 || mask.Shape[0] != input.Shape[0])
            throw new ArgumentException($"A mask has one value per step: shape (None, {(input.Shape.Count < 2 ? "timesteps" : input.Shape[0])}) for input {ShapeUtil.FormatBatch(input.ShapeArray)}; received {ShapeUtil.FormatBatch(mask.ShapeArray)}.", nameof(mask));
        return Call([input, .. moreInputs], mask);
    }

    private IReadOnlyList<SymbolicTensor> Call(SymbolicTensor[] inputs, SymbolicTensor? givenMask)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0 || inputs.Any(i => i is null))
            throw new ArgumentException($"{Name} needs symbolic input tensors, received {inputs.Length} (or a null).");
        if (InputArity >= 0 && inputs.Length != InputArity)
            throw new ArgumentException($"{TypeName} '{Name}' takes {InputArity} input(s), received {inputs.Length}.");
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        if (!Built)
        {
            Build(shapes);
            Built = true;
        }
        ValidateInputShapes(shapes);
        var outShapes = ComputeOutputShapes(shapes);
        var mask = givenMask ?? (UsesMask || PropagatesMask ? inputs[0].Mask : null);
        var node = new Node(this, inputs, outShapes, _calls++, UsesMask ? mask : null) { MaskGiven = givenMask };
        SetOutputMasks(node.Outputs, mask);
        return node.Outputs;
    }

    /// <summary>
    /// Whether the layer reads the mask of its first input (<see cref="NodeContext.Mask"/>): recurrent layers do, to
    /// skip padded steps.
    /// </summary>
    protected internal virtual bool UsesMask => false;

    /// <summary>
    /// Whether the output keeps the first input's mask: true for layers that act step by step and keep the steps
    /// (Dense on sequences, activations, dropout, noise, <see cref="TimeDistributed"/>), as Keras's <c>supports_masking</c>.
    /// </summary>
    protected internal virtual bool PropagatesMask => false;

    /// <summary>Sets the outputs' masks from the first input's <paramref name="mask"/>; by default the first output keeps it when <see cref="PropagatesMask"/>.</summary>
    private protected virtual void SetOutputMasks(IReadOnlyList<SymbolicTensor> outputs, SymbolicTensor? mask)
    {
        if (PropagatesMask) outputs[0].Mask = mask;
    }

    /// <summary>
    /// The per-sample shapes of every output; one, <see cref="ComputeOutputShape"/>'s, unless the layer has several
    /// outputs (it then writes them with <see cref="NodeContext.OutputValuesAt"/>).
    /// </summary>
    protected internal virtual int[][] ComputeOutputShapes(IReadOnlyList<int[]> inputShapes) => [ComputeOutputShape(inputShapes)];

    /// <summary>
    /// Builds the layer for <paramref name="inputShapes"/> if it is not built, checks the shapes and returns the output
    /// shapes, without recording a call: for a wrapper (<see cref="TimeDistributed"/>, <see cref="Bidirectional"/>)
    /// that runs an inner layer itself.
    /// </summary>
    internal int[][] BuildFor(IReadOnlyList<int[]> inputShapes)
    {
        if (!Built)
        {
            Build(inputShapes);
            Built = true;
        }
        ValidateInputShapes(inputShapes);
        return ComputeOutputShapes(inputShapes);
    }

    /// <summary>Adds an inner layer's weights to this layer's (a wrapper's), after the inner layer is built.</summary>
    private protected void TrackWeightsOf(Layer inner) => _weights.AddRange(inner.Weights.Where(w => !_weights.Contains(w)));

    /// <summary>Creates the weights for the given per-sample input shapes. Called once, on the first <see cref="Apply(SymbolicTensor)"/>.</summary>
    protected virtual void Build(IReadOnlyList<int[]> inputShapes) { }

    /// <summary>Throws a clear error when a later call's inputs do not fit the built weights.</summary>
    protected virtual void ValidateInputShapes(IReadOnlyList<int[]> inputShapes) { }

    /// <summary>The per-sample output shape for the given per-sample input shapes.</summary>
    protected internal abstract int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes);

    /// <summary>Scratch floats per sample that Forward leaves for Backward (a dropout mask). Planned once per batch size.</summary>
    protected internal virtual int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) => 0;

    /// <summary>
    /// True for a layer whose Forward needs the whole batch at once (statistics over the batch, as in batch
    /// normalization) or changes its own state: a model with one trains on one executor instead of splitting each
    /// batch across the cores (its matrix products still use every core).
    /// </summary>
    protected internal virtual bool NeedsWholeBatch => false;

    /// <summary>
    /// True for a layer that calls <see cref="NodeContext.SumOverShares"/> in training (statistics over the batch):
    /// a model with one still splits each batch across the cores, and runs the shares at the same time so they can
    /// meet to add their sums. Such a layer updates state shared by the shares (moving statistics) only where
    /// <see cref="NodeContext.BatchOffset"/> is 0, in exactly one share.
    /// </summary>
    protected internal virtual bool SumsOverShares => false;

    /// <summary>
    /// Whether Backward honours <see cref="NodeContext.WritesInputGrad"/>: when the executor says so it writes every
    /// value of that input's gradient instead of adding, and the executor skips clearing the buffer first.
    /// </summary>
    internal virtual bool CanWriteInputGrads => false;

    /// <summary>
    /// Whether Backward honours <see cref="NodeContext.WritesWeightGrads"/>: when the executor says so it writes the
    /// gradient of every one of its weights instead of adding, and the executor skips clearing those ranges first.
    /// </summary>
    internal virtual bool CanWriteWeightGrads => false;

    /// <summary>
    /// The activation applied to this layer's output, declared rather than applied: Forward writes the
    /// pre-activation z and the executor computes <c>y = f(z)</c> in place; before Backward it turns ∂loss/∂y into
    /// ∂loss/∂z. Where a loss has a fused form for f (binary cross-entropy from a sigmoid's logits) the executor
    /// hands the loss z instead. Null (the default) for no activation.
    /// </summary>
    public virtual ActivationFunction? OutputActivation => null;

    /// <summary>
    /// Writes the constructor settings into <paramref name="config"/> (Keras's <c>get_config</c>); the name and the
    /// trainable flag are written already. The layer's registered factory (<see cref="LayerRegistry"/>) reads them back.
    /// </summary>
    protected internal virtual void GetConfig(LayerConfig config) { }

    /// <summary>The layer's configuration: name, trainable flag and <see cref="GetConfig"/>'s settings.</summary>
    public LayerConfig Config()
    {
        var config = new LayerConfig(Name) { Trainable = Trainable };
        GetConfig(config);
        return config;
    }

    /// <summary>Computes the output of one call on <see cref="NodeContext.Batch"/> samples.</summary>
    protected internal abstract void Forward(NodeContext ctx);

    /// <summary>Adds ∂loss/∂weights into the weights' gradients and, where asked, ∂loss/∂input into the input gradients.</summary>
    protected internal abstract void Backward(NodeContext ctx);

    /// <summary>
    /// Creates a weight owned by this layer (from <see cref="Build"/>), initialised from the global seed stream
    /// (<see cref="Randomness.SetSeed"/>). Saved as "layer/<paramref name="name"/>"; <paramref name="regularizer"/>'s
    /// penalty is added to the loss. Read it with <see cref="Weight.Values"/>; accumulate its gradient with
    /// <see cref="NodeContext.WeightGrad"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A blank or repeated name, or a dimension that is not positive.</exception>
    /// <param name="trainable">False for state the layer updates itself in Forward (a batch norm's moving statistics):
    /// no optimizer touches it, and it is saved and loaded like the other weights.</param>
    protected Weight AddWeight(string name, int[] shape, Initializer initializer, Regularizer? regularizer = null, bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(initializer);
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A weight needs a name.", nameof(name));
        if (_weights.Any(x => x.Name == $"{Name}/{name}")) throw new ArgumentException($"Layer '{Name}' already has a weight '{name}'.", nameof(name));
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw new ArgumentException($"Weight dimensions must be positive. Received: shape={ShapeUtil.Format(shape)} for '{name}'.", nameof(shape));
        long size = ShapeUtil.CheckedSize(shape, nameof(shape));
        if (LoadBudget is { } budget)
        {
            // Building a model from a file: its weights must all be in that file, so a layer may not ask for more
            // values than the file holds (a forged "units: 1300000" is refused before gigabytes are allocated).
            if (size > budget.Value)
                throw new FormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"layer '{Name}' declares a weight '{name}' of {size:N0} values, more than the file's tensors hold ({budget.Value:N0} left)."));
            budget.Value -= size;
        }
        var w = new Weight(this, name, (int[])shape.Clone(), initializer, regularizer, trainable);
        _weights.Add(w);
        return w;
    }

    /// <summary>"Dense" → "dense", then "dense_1", "dense_2", ... for later layers of that type.</summary>
    private static string UniqueName(string prefix)
    {
        int n = NameCounters.AddOrUpdate(prefix, 0, (_, c) => c + 1);
        return n == 0 ? prefix : $"{prefix}_{n}";
    }

    private static string ToSnakeCase(string s)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsUpper(s[i]) && i > 0 && !char.IsUpper(s[i - 1])) sb.Append('_');
            sb.Append(char.ToLowerInvariant(s[i]));
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"{TypeName}('{Name}')";
}
