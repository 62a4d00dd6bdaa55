using System.Globalization;
using System.Text;
using Latent.Layers;

namespace Latent;

/// <summary>
/// A graph of layer calls from input tensors to output tensors, like Keras's functional <c>Model</c>:
/// <code>
/// var input = Input.Create(784);
/// var code  = new Dense(32, "relu").Apply(input);
/// var model = new Model(input, new Dense(784, "sigmoid").Apply(code));
/// var encoder = new Model(input, code);   // shares the first Dense with model
/// </code>
/// Models built from the same layers share their weights live. The graph is ordered once, here.
/// </summary>
public partial class Model
{
    private static int _modelCount;
    private SymbolicTensor[] _inputs = [];
    private SymbolicTensor[] _outputs = [];
    private Layer[] _layers = [];
    private Weight[] _weights = [];
    private bool _needsWholeBatch;
    private bool _sumsOverShares;  // the shares of a data-parallel step meet (batch statistics, a masked loss's kept steps)

    /// <summary>A model from one input to one output.</summary>
    public Model(SymbolicTensor input, SymbolicTensor output, string? name = null)
        : this([input], [output], name) { }

    /// <summary>A model from several inputs to several outputs.</summary>
    /// <exception cref="ArgumentException">No inputs or outputs, a repeated input, or an output that depends on a tensor that is not an input ("Graph disconnected").</exception>
    public Model(IReadOnlyList<SymbolicTensor> inputs, IReadOnlyList<SymbolicTensor> outputs, string? name = null)
        : this(name)
    {
        SetGraph(inputs, outputs);
    }

    /// <summary>A model whose graph is set later by a subclass (<see cref="Sequential"/>).</summary>
    protected Model(string? name)
    {
        if (name is not null && Layer.HasControlCharacters(name))
            throw new ArgumentException($"A model name cannot hold control characters (they would reach the terminal). Received: {Latent.Data.SafeText.Printable(name)}.", nameof(name));
        int n = Interlocked.Increment(ref _modelCount) - 1;
        Name = name ?? (n == 0 ? "model" : $"model_{n}");
    }

    /// <summary>The model's name.</summary>
    public string Name { get; }

    /// <summary>The input tensors, in the order data is passed.</summary>
    public IReadOnlyList<SymbolicTensor> Inputs => _inputs;

    /// <summary>The output tensors.</summary>
    public IReadOnlyList<SymbolicTensor> Outputs => _outputs;

    /// <summary>Every layer, inputs first, then in the order they run; a shared layer appears once.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Every weight of every layer, each once.</summary>
    public IReadOnlyList<Weight> Weights => _weights;

    /// <summary>The layer calls in execution order (input layers excluded).</summary>
    internal Node[] Nodes { get; private set; } = [];

    /// <summary>Number of scalars in the weights.</summary>
    public int CountParams() => _weights.Sum(w => w.Length);

    /// <summary>The layer called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such layer; the message lists the layers.</exception>
    public Layer GetLayer(string name) => _layers.FirstOrDefault(l => l.Name == name)
        ?? throw new KeyNotFoundException($"Model '{Name}' has no layer '{name}'. Its layers: {string.Join(", ", _layers.Select(l => l.Name))}.");

    /// <summary>
    /// The output of layer <paramref name="name"/> within this model (Keras's <c>model.get_layer(name).output</c>),
    /// e.g. to build an encoder from a loaded autoencoder: <c>new Model(ae.Inputs[0], ae.GetLayerOutput("code"))</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such layer in this model.</exception>
    /// <exception cref="InvalidOperationException">The layer is called more than once in this model.</exception>
    public SymbolicTensor GetLayerOutput(string name)
    {
        var layer = GetLayer(name);
        if (layer is InputLayer) return _inputs.First(t => t.Layer == layer);
        var calls = Nodes.Where(n => n.Layer == layer).ToArray();
        return calls.Length == 1 ? calls[0].Output
            : throw new InvalidOperationException($"Layer '{name}' is called {calls.Length} times in model '{Name}'; its output is ambiguous.");
    }

    /// <summary>Sets the graph and orders it: depth-first from the outputs, stopping at the inputs.</summary>
    protected void SetGraph(IReadOnlyList<SymbolicTensor> inputs, IReadOnlyList<SymbolicTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputs.Count == 0) throw new ArgumentException("A model needs at least one input.", nameof(inputs));
        if (outputs.Count == 0) throw new ArgumentException("A model needs at least one output.", nameof(outputs));
        if (inputs.Any(t => t is null) || outputs.Any(t => t is null)) throw new ArgumentException("Inputs and outputs cannot be null.");
        var inputSet = new HashSet<SymbolicTensor>(inputs, ReferenceEqualityComparer.Instance);
        if (inputSet.Count != inputs.Count) throw new ArgumentException("The same tensor is passed twice as a model input.", nameof(inputs));

        var order = new List<Node>();
        var done = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var onPath = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var output in outputs)
            Visit(output, output);

        void Visit(SymbolicTensor t, SymbolicTensor fromOutput)
        {
            if (inputSet.Contains(t)) return;
            var node = t.Producer;
            if (node.Layer is InputLayer)
                throw new ArgumentException(
                    $"Graph disconnected: cannot reach {t.Name} from output {fromOutput.Name}: the output depends on {t.Name}, " +
                    $"which is not among the model's inputs [{string.Join(", ", inputs.Select(i => i.Name))}].");
            if (done.Contains(node)) return;
            if (!onPath.Add(node)) throw new InvalidOperationException($"The graph has a cycle through {t.Name}.");
            foreach (var input in node.Reads) Visit(input, fromOutput);
            onPath.Remove(node);
            done.Add(node);
            order.Add(node);
        }

        _inputs = [.. inputs];
        _outputs = [.. outputs];
        Nodes = [.. order];
        var layers = new List<Layer>();
        foreach (var t in _inputs) if (!layers.Contains(t.Layer)) layers.Add(t.Layer);
        foreach (var n in order) if (!layers.Contains(n.Layer)) layers.Add(n.Layer);
        _layers = [.. layers];
        _weights = _layers.SelectMany(l => l.Weights).Distinct().ToArray();
        _regularized = _weights.Where(w => w.Regularizer is not null).ToArray();
        _needsWholeBatch = _layers.Any(l => l.NeedsWholeBatch);
        // A masked output's loss is a mean over the kept steps of the whole batch: the shares add their counts.
        _sumsOverShares = _layers.Any(l => l.SumsOverShares) || _outputs.Any(o => o.Mask is not null);
        InvalidateExecutors();
    }

    /// <summary>
    /// Calls this model like a layer on new inputs: each of its layers is applied again (sharing weights),
    /// as Keras does when a model is called on a tensor.
    /// </summary>
    public SymbolicTensor Apply(SymbolicTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_inputs.Length != 1 || _outputs.Length != 1)
            throw new InvalidOperationException($"Model '{Name}' has {_inputs.Length} inputs and {_outputs.Length} outputs; Apply needs one of each (ApplyAll returns every output).");
        return ApplyAll(input)[0];
    }

    /// <summary>
    /// Calls this model like a layer on new inputs (one per model input) and returns all its outputs, in order, as
    /// Keras does for a model with several outputs.
    /// </summary>
    /// <exception cref="ArgumentException">Not one tensor per model input.</exception>
    public IReadOnlyList<SymbolicTensor> ApplyAll(params SymbolicTensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != _inputs.Length || inputs.Any(t => t is null))
            throw new ArgumentException($"Model '{Name}' takes {_inputs.Length} input(s), received {inputs.Length}.", nameof(inputs));
        var map = new Dictionary<SymbolicTensor, SymbolicTensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Length; i++) map[_inputs[i]] = inputs[i];
        foreach (var node in Nodes)
        {
            var ins = node.Inputs.Select(t => map[t]).ToArray();
            var outs = node.MaskGiven is null ? node.Layer.ApplyAll(ins) : node.Layer.ApplyWithMask(ins[0], map[node.MaskGiven], ins[1..]);
            for (int k = 0; k < outs.Count; k++) map[node.Outputs[k]] = outs[k];
        }
        return _outputs.Select(o => map[o]).ToArray();
    }

    /// <summary>
    /// The part of this model from the inner tensor <paramref name="from"/> to its outputs, as a model of its own
    /// whose input is a new <c>Input</c> of that tensor's shape, sharing the layers: the decoder of an
    /// autoencoder loaded from a file, the generator of a VAE (<c>vae.SubModel(vae.GetLayerOutput("z"))</c>).
    /// </summary>
    /// <exception cref="ArgumentException">An output depends on a model input other than through <paramref name="from"/>.</exception>
    public Model SubModel(SymbolicTensor from, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        var input = Input.Create(from.ShapeArray.ToArray(), name: $"{from.Layer.Name}_input");
        var map = new Dictionary<SymbolicTensor, SymbolicTensor>(ReferenceEqualityComparer.Instance) { [from] = input };
        SymbolicTensor Map(SymbolicTensor t)
        {
            if (map.TryGetValue(t, out var m)) return m;
            if (t.Layer is InputLayer)
                throw new ArgumentException($"Model '{Name}': output depends on input {t.Name} other than through {from.Name}; no model from {from.Name} alone computes it.", nameof(from));
            var ins = t.Producer.Inputs.Select(Map).ToArray();
            var outs = t.Producer.MaskGiven is null ? t.Layer.ApplyAll(ins) : t.Layer.ApplyWithMask(ins[0], Map(t.Producer.MaskGiven), ins[1..]);
            for (int k = 0; k < outs.Count; k++) map[t.Producer.Outputs[k]] = outs[k];
            return map[t];
        }
        return new Model([input], _outputs.Select(Map).ToArray(), name ?? $"{Name}_from_{from.Layer.Name}");
    }

    /// <summary>Prints the layers, their output shapes and parameter counts, like Keras's <c>model.summary()</c>.</summary>
    public void Summary(TextWriter? writer = null) => (writer ?? Console.Out).Write(SummaryText());

    /// <summary>The text <see cref="Summary"/> prints.</summary>
    public string SummaryText()
    {
        const int w1 = 32, w2 = 24, width = 68;
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Name).AppendLine("\"");
        sb.AppendLine(new string('_', width));
        sb.AppendLine(" " + "Layer (type)".PadRight(w1) + "Output Shape".PadRight(w2) + "Param #");
        sb.AppendLine(new string('=', width));
        foreach (var layer in _layers)
        {
            string shape;
            if (layer is InputLayer il) shape = ShapeUtil.FormatBatch(il.InputShape.ToArray());
            else
            {
                var calls = Nodes.Where(n => n.Layer == layer).ToArray();
                shape = calls.Length != 1 ? "multiple"
                    : string.Join(", ", calls[0].Outputs.Select(o => ShapeUtil.FormatBatch(o.ShapeArray)));
            }
            sb.Append(' ').Append($"{layer.Name} ({layer.TypeName})".PadRight(w1 - 1)).Append(' ')
              .Append(shape.PadRight(w2)).AppendLine(layer.CountParams().ToString("N0", CultureInfo.InvariantCulture));
        }
        sb.AppendLine(new string('=', width));
        int total = CountParams(), trainable = _weights.Where(w => w.Trainable).Sum(w => w.Length);
        sb.AppendLine($"Total params: {total.ToString("N0", CultureInfo.InvariantCulture)}");
        sb.AppendLine($"Trainable params: {trainable.ToString("N0", CultureInfo.InvariantCulture)}");
        sb.AppendLine($"Non-trainable params: {(total - trainable).ToString("N0", CultureInfo.InvariantCulture)}");
        sb.AppendLine(new string('_', width));
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"Model('{Name}', {CountParams()} params)";
}
