using System.Text.Json;
using System.Text.Json.Nodes;
using Latent.Data;
using Latent.Layers;
using Latent.Serialization;

namespace Latent;

public partial class Model
{
    private const string ArchitectureKey = "latent.architecture", TrainingKey = "latent.training", UserPrefix = "user.";

    /// <summary>
    /// Saves the model to one safetensors file: the weights as tensors named "layer/kernel", the optimizer's
    /// state as "optimizer/slot_i", and in the metadata the architecture and training configuration as JSON
    /// plus <paramref name="metadata"/> (keys prefixed "user."). Python reads it with
    /// <c>safetensors.numpy.load_file</c>. The file is written under a temporary name and renamed, so a crash
    /// mid-save leaves any previous file at <paramref name="path"/> intact.
    /// </summary>
    /// <exception cref="NotSupportedException">A layer, optimizer or loss that cannot be saved yet, or a model input that is not an Input.</exception>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var layerIndex = new Dictionary<Layer, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _layers.Length; i++) layerIndex[_layers[i]] = i;
        var names = new HashSet<string>();
        foreach (var l in _layers)
            if (!names.Add(l.Name)) throw new NotSupportedException($"Model '{Name}' has two layers named '{l.Name}'; names must be unique to save.");
        var tensorRef = new Dictionary<SymbolicTensor, string>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _inputs.Length; i++)
        {
            if (_inputs[i].Layer is not InputLayer)
                throw new NotSupportedException($"Model input {_inputs[i].Name} is not an Input; only models whose inputs are Inputs can be saved.");
            tensorRef[_inputs[i]] = $"input:{i}";
        }
        var nodes = new JsonArray();
        for (int n = 0; n < Nodes.Length; n++)
        {
            var node = Nodes[n];
            var entry = new JsonObject
            {
                ["layer"] = layerIndex[node.Layer],
                ["inputs"] = new JsonArray(node.Inputs.Select(t => (JsonNode)tensorRef[t]).ToArray()),
            };
            if (node.MaskGiven is not null) entry["mask"] = tensorRef[node.MaskGiven];
            nodes.Add(entry);
            for (int k = 0; k < node.Outputs.Length; k++) tensorRef[node.Outputs[k]] = k == 0 ? $"node:{n}" : $"node:{n}:{k}";
        }
        var architecture = new JsonObject
        {
            ["format"] = "latent-model",
            ["version"] = 1,
            ["name"] = Name,
            ["layers"] = new JsonArray(_layers.Select(l => (JsonNode)ModelConfig.Layer(l)).ToArray()),
            ["inputs"] = new JsonArray(_inputs.Select(t => (JsonNode)layerIndex[t.Layer]).ToArray()),
            ["nodes"] = nodes,
            ["outputs"] = new JsonArray(_outputs.Select(t => (JsonNode)tensorRef[t]).ToArray()),
        };
        var meta = new Dictionary<string, string>
        {
            [ArchitectureKey] = architecture.ToJsonString(),
            ["latent.version"] = typeof(Model).Assembly.GetName().Version?.ToString() ?? "0",
            ["format"] = "pt", // lets safetensors' torch loader accept the file too
        };
        var tensors = _weights.Select(w => new NamedTensor(w.Name, w.Shape.ToArray(), w.Values.ToArray())).ToList();
        if (IsCompiled)
        {
            var training = new JsonObject
            {
                ["optimizer"] = ModelConfig.Optimizer(_optimizer!),
                ["losses"] = new JsonArray(_losses!.Select(l => (JsonNode)ModelConfig.Loss(l)).ToArray()),
                ["loss_weights"] = new JsonArray(_lossWeights.Select(w => (JsonNode)w).ToArray()),
            };
            bool hasState = _store is not null && ReferenceEquals(_optimizerStore, _store) && WeightsAreInStore();
            training["has_state"] = hasState;
            if (hasState)
                for (int s = 0; s < _optimizer!.Slots.Length; s++)
                {
                    // Weight after weight, without the store's alignment gaps: the file's layout does not depend on the store's.
                    var slot = new float[CountParams()];
                    int o = 0;
                    foreach (var w in _weights) { _optimizer.Slots[s].AsSpan(w.Offset, w.Length).CopyTo(slot.AsSpan(o)); o += w.Length; }
                    tensors.Add(new NamedTensor($"optimizer/slot_{s}", [slot.Length], slot));
                }
            meta[TrainingKey] = training.ToJsonString();
        }
        if (metadata is not null)
            foreach (var (k, v) in metadata) meta[UserPrefix + k] = v;

        AtomicFile.Write(path, file => Safetensors.Write(file, tensors, meta));
    }

    /// <summary>Loads a model saved by <see cref="Save"/>: layers, weights and, if it was compiled, the optimizer, loss and optimizer state.</summary>
    /// <param name="metadata">The user metadata passed to <see cref="Save"/>.</param>
    /// <exception cref="DataFormatException">The file is not a Latent model, is corrupt, or its weights do not fit its architecture.</exception>
    public static Model Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        List<NamedTensor> tensors;
        Dictionary<string, string> meta;
        using (var file = Latent.Data.InputFile.OpenRead(path)) (tensors, meta) = Safetensors.Read(file, path);
        Layer.LoadBudget = new System.Runtime.CompilerServices.StrongBox<long>(tensors.Sum(t => (long)t.Data.Length));
        try
        {
            if (!meta.TryGetValue(ArchitectureKey, out var archJson))
                throw new FormatException("no Latent architecture in its metadata (a plain safetensors file?)");
            var arch = JsonNode.Parse(archJson) as JsonObject ?? throw new FormatException("the architecture is not a JSON object");
            if (ModelConfig.Str(arch, "format") != "latent-model" || ModelConfig.Int(arch, "version") != 1)
                throw new FormatException("unsupported model format or version");
            var layers = (arch["layers"] as JsonArray ?? throw new FormatException("no layers"))
                .Select(l => ModelConfig.CreateLayer(l as JsonObject ?? throw new FormatException("a layer is not an object"))).ToArray();
            Layer LayerAt(int i) => i >= 0 && i < layers.Length ? layers[i] : throw new FormatException($"layer index {i} out of range");
            var inputs = (arch["inputs"] as JsonArray ?? throw new FormatException("no inputs"))
                .Select(e => LayerAt(e!.GetValue<int>()) is InputLayer il ? il.Output : throw new FormatException("a model input is not an InputLayer")).ToArray();
            var outputsOfNodes = new List<IReadOnlyList<SymbolicTensor>>();
            SymbolicTensor Resolve(string r)
            {
                var parts = r.Split(':');
                int i = parts.Length is 2 or 3 && int.TryParse(parts[1], out var k) ? k : throw new FormatException($"bad tensor reference '{r}'");
                int o = parts.Length == 2 ? 0 : int.TryParse(parts[2], out var m) ? m : throw new FormatException($"bad tensor reference '{r}'");
                return parts[0] switch
                {
                    "input" when i >= 0 && i < inputs.Length && o == 0 => inputs[i],
                    "node" when i >= 0 && i < outputsOfNodes.Count && o >= 0 && o < outputsOfNodes[i].Count => outputsOfNodes[i][o],
                    _ => throw new FormatException($"tensor reference '{r}' points nowhere"),
                };
            }
            foreach (var n in arch["nodes"] as JsonArray ?? throw new FormatException("no nodes"))
            {
                var node = n as JsonObject ?? throw new FormatException("a node is not an object");
                var ins = (node["inputs"] as JsonArray ?? throw new FormatException("a node has no inputs")).Select(e => Resolve(e!.GetValue<string>())).ToArray();
                var layer = LayerAt(ModelConfig.Int(node, "layer"));
                if (node["mask"] is JsonNode maskRef)
                {
                    if (ins.Length == 0) throw new FormatException("a node with a mask has no inputs");
                    outputsOfNodes.Add(layer.ApplyWithMask(ins[0], Resolve(maskRef.GetValue<string>()), ins[1..]));
                }
                else outputsOfNodes.Add(layer.ApplyAll(ins));
            }
            var outputs = (arch["outputs"] as JsonArray ?? throw new FormatException("no outputs")).Select(e => Resolve(e!.GetValue<string>())).ToArray();
            var model = new Model(inputs, outputs, ModelConfig.Str(arch, "name"));

            var byName = tensors.ToDictionary(t => t.Name);
            foreach (var w in model.Weights)
            {
                if (!byName.TryGetValue(w.Name, out var t)) throw new FormatException($"weight '{w.Name}' is missing");
                if (!t.Shape.SequenceEqual(w.Shape)) throw new FormatException($"weight '{w.Name}' has shape {ShapeUtil.Format(t.Shape)}, the architecture needs {ShapeUtil.Format(w.Shape.ToArray())}");
                t.Data.CopyTo(w.Values);
            }
            if (meta.TryGetValue(TrainingKey, out var trainJson))
            {
                var training = JsonNode.Parse(trainJson) as JsonObject ?? throw new FormatException("the training configuration is not an object");
                var optConfig = training["optimizer"] as JsonObject ?? throw new FormatException("no optimizer");
                var optimizer = ModelConfig.CreateOptimizer(optConfig);
                if (training["losses"] is JsonArray losses)
                {
                    var weights = training["loss_weights"] as JsonArray ?? throw new FormatException("no loss_weights");
                    model.Compile(optimizer,
                                  losses.Select(l => ModelConfig.CreateLoss(l as JsonObject ?? throw new FormatException("a loss is not an object"))).ToArray(),
                                  weights.Select(w => w is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw new FormatException("a loss weight is not a number")).ToArray());
                }
                else model.Compile(optimizer, ModelConfig.CreateLoss(training["loss"] as JsonObject ?? throw new FormatException("no loss")));
                if (ModelConfig.Bool(training, "has_state"))
                {
                    model.EnsureStore();
                    var slots = model._optimizer!.Slots;
                    for (int s = 0; s < slots.Length; s++)
                    {
                        if (!byName.TryGetValue($"optimizer/slot_{s}", out var t) || t.Data.Length != model.CountParams())
                            throw new FormatException($"optimizer state slot {s} is missing or has the wrong size");
                        int o = 0;
                        foreach (var w in model._weights) { t.Data.AsSpan(o, w.Length).CopyTo(slots[s].AsSpan(w.Offset)); o += w.Length; }
                    }
                    model._optimizer.Iterations = (long)ModelConfig.Num(optConfig, "iterations");
                }
            }
            metadata = meta.Where(p => p.Key.StartsWith(UserPrefix, StringComparison.Ordinal))
                           .ToDictionary(p => p.Key[UserPrefix.Length..], p => p.Value);
            return model;
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException or ArgumentException or KeyNotFoundException or NotSupportedException)
        {
            throw new DataFormatException(path, $"not a valid Latent model: {e.Message}");
        }
        finally
        {
            Layer.LoadBudget = null;
        }
    }

    /// <summary>Loads a model saved by <see cref="Save"/>, ignoring user metadata.</summary>
    public static Model Load(string path) => Load(path, out _);

    private bool WeightsAreInStore() => _store!.Holds(_weights);
}
