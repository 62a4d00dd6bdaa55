using System.Diagnostics;
using System.Runtime.CompilerServices;
using Latent.Activations;
using Latent.Losses;

namespace Latent;

/// <summary>
/// Runs a model's graph on batches of up to <see cref="Capacity"/> samples. Every buffer (activations, their
/// gradients, layer workspaces, the targets) is allocated here once; Forward and Backward allocate nothing.
/// </summary>
/// <remarks>
/// Output activations live here, not in the layers: after a layer's Forward the executor applies its declared
/// <see cref="Layers.Layer.OutputActivation"/> in place, and before its Backward turns ∂loss/∂y into ∂loss/∂z.
/// For a model output whose loss has a fused form for that activation (<see cref="Loss.FusesWith"/>), that nothing
/// inside the model reads and that carries no activity penalty, the buffer keeps z: the loss reads z and writes
/// ∂loss/∂z, and y is computed only when someone asks for the output.
/// </remarks>
internal sealed class GraphExecutor
{
    private readonly Node[] _nodes;
    private readonly NodeContext[] _contexts;
    private readonly ActivationFunction?[] _activations; // per node: applied after Forward; null for none
    private readonly bool[] _fused;                       // per node: the buffer keeps z, the loss reads it
    private readonly bool[] _logitGrad;                   // per node: the loss wrote ∂loss/∂z this step
    private readonly TensorBuffer[] _inputs;
    private readonly OutputSlot[] _outputs;
    private readonly TensorBuffer[][] _clearBefore;       // per node, the gradients to clear before its Backward
    private readonly Weight[] _weights;                   // the model's, in store order
    private readonly int[] _weightWriter;                 // per weight: the node that may write its gradient, or −1
    private readonly LossJob _lossJob = new();
    private ReplicaSums? _sums;                           // where a data-parallel step's replicas meet (null on one executor)
    private int _replica;
    private readonly double[] _keptSum = new double[1];

    /// <summary>One model output: where its values are, its loss and targets.</summary>
    private sealed class OutputSlot
    {
        public required TensorBuffer Buffer;
        public int Node = -1;              // producing node; -1 when the output is a model input
        public bool Fused;
        public float[]? Activated;         // y = f(z) of a fused output, when asked for
        public required float[] Targets;
        public int TargetInput = -1;       // read targets from this model input instead (an autoencoder's)
        public float[]? GradScratch;       // a tensor listed twice as an output: the second loss adds through here
        public Loss? Loss;
        public double Weight = 1;
        public TensorBuffer? Mask;         // (timesteps) per sample: the output's steps that count in its loss
    }

    /// <param name="losses">One loss per model output (null for an executor that only predicts).</param>
    /// <param name="lossWeights">Their weights in the total; null for all 1.</param>
    /// <param name="weightGradients">Null: weight gradients go to the model's store. Else a private array of the store's
    /// length (a data-parallel replica).</param>
    public GraphExecutor(Model model, int capacity, bool withGradients, IReadOnlyList<Loss>? losses, IReadOnlyList<double>? lossWeights,
                         ulong seed, float[]? weightGradients = null)
    {
        Capacity = capacity;
        _nodes = model.Nodes;
        var buffers = new Dictionary<SymbolicTensor, TensorBuffer>(ReferenceEqualityComparer.Instance);
        var needsGrad = new Dictionary<SymbolicTensor, bool>(ReferenceEqualityComparer.Instance);

        _inputs = new TensorBuffer[model.Inputs.Count];
        for (int i = 0; i < _inputs.Length; i++)
        {
            var t = model.Inputs[i];
            _inputs[i] = buffers[t] = new TensorBuffer(t.ShapeArray, capacity, withGrad: false);
            needsGrad[t] = false;
        }

        var rng = new Rng(seed);
        _contexts = new NodeContext[_nodes.Length];
        _activations = new ActivationFunction?[_nodes.Length];
        _fused = new bool[_nodes.Length];
        _logitGrad = new bool[_nodes.Length];
        for (int n = 0; n < _nodes.Length; n++)
        {
            var node = _nodes[n];
            var ins = node.Inputs.Select(t => buffers[t]).ToArray();
            var inGrad = node.Inputs.Select(t => withGradients && needsGrad[t]).ToArray();
            bool outGrad = withGradients && (node.Layer.Weights.Count > 0 || inGrad.Any(g => g));
            var outs = new TensorBuffer[node.Outputs.Length];
            for (int k = 0; k < outs.Length; k++)
            {
                outs[k] = buffers[node.Outputs[k]] = new TensorBuffer(node.Outputs[k].ShapeArray, capacity, outGrad);
                needsGrad[node.Outputs[k]] = outGrad;
            }
            int workspace = node.Layer.WorkspacePerSample(node.Inputs.Select(t => t.ShapeArray).ToArray(), node.Output.ShapeArray);
            var mask = node.InputMask is null ? null : buffers[node.InputMask];
            var repeated = node.Inputs.Select(t => t.Layer is Layers.RepeatVector).ToArray();
            var data = node.Inputs.Select(t => model.Inputs.Contains(t, ReferenceEqualityComparer.Instance)).ToArray();
            _contexts[n] = new NodeContext(ins, outs, inGrad, workspace, capacity, rng.NextULong(), mask)
            {
                WeightGradients = weightGradients,
                RepeatedInputs = repeated.Any(r => r) ? repeated : null,
                DataInputs = data.Any(d => d) ? data : null,
            };
            _activations[n] = node.Layer.OutputActivation is { IsLinear: false } f ? f : null;
        }

        if (losses is not null && losses.Count != model.Outputs.Count)
            throw new ArgumentException($"Model '{model.Name}' has {model.Outputs.Count} outputs but {losses.Count} losses were given.");
        if (withGradients && !model.Outputs.Any(t => needsGrad[t]))
            throw new InvalidOperationException($"Model '{model.Name}' has no trainable weights between its inputs and outputs ({string.Join(", ", model.Outputs.Select(o => o.Name))}).");
        _outputs = new OutputSlot[model.Outputs.Count];
        for (int j = 0; j < _outputs.Length; j++)
        {
            var t = model.Outputs[j];
            int node = Array.FindIndex(_nodes, nd => nd.Outputs.Contains(t, ReferenceEqualityComparer.Instance));
            bool repeated = model.Outputs.Take(j).Any(o => ReferenceEquals(o, t));
            var slot = _outputs[j] = new OutputSlot
            {
                Buffer = buffers[t],
                Node = node,
                Targets = new float[(long)capacity * buffers[t].SampleSize],
                Loss = losses?[j],
                Weight = lossWeights?[j] ?? 1,
                GradScratch = repeated && buffers[t].Grad is not null ? new float[buffers[t].Grad!.Length] : null,
                Mask = t.Mask is null ? null : buffers[t.Mask],
            };
            if (node < 0 || t.OutputIndex != 0 || slot.Loss is null || _activations[node] is not { } act) continue;
            // Fused only when the loss's gradient is all of ∂loss/∂y: nothing inside reads the output, no penalty on it.
            bool readInside = _nodes.Any(nd => nd.Reads.Any(i => ReferenceEquals(i, t)));
            bool listedTwice = model.Outputs.Count(o => ReferenceEquals(o, t)) > 1;
            if (slot.Loss.FusesWith(act) && !readInside && !listedTwice && _nodes[node].Layer.ActivityRegularizer is null)
            {
                slot.Fused = _fused[node] = true;
                slot.Activated = new float[(long)capacity * slot.Buffer.SampleSize];
            }
        }
        OutputLosses = new double[_outputs.Length];
        ForwardTicks = new long[_nodes.Length];
        BackwardTicks = new long[_nodes.Length];
        var outputBuffers = _outputs.Select(o => o.Buffer).ToHashSet(ReferenceEqualityComparer.Instance);
        var gradBuffers = _contexts.SelectMany(c => c.Outputs).Where(b => b.Grad is not null && !outputBuffers.Contains(b)).ToArray();   // all but the outputs'
        // Each gradient is cleared just before the first layer that adds into it runs backward (the last reader in
        // graph order; its producer when nothing reads it), so the clear leaves the lines in cache for the adds.
        var clearAt = new List<TensorBuffer>[_contexts.Length];
        for (int n = 0; n < clearAt.Length; n++) clearAt[n] = [];
        // A layer that can write its input gradient (not add) and reads the tensor once takes the clear's place.
        foreach (var b in gradBuffers)
        {
            int at = -1;
            for (int n = 0; n < _contexts.Length; n++)
                if (_contexts[n].Inputs.Contains(b) || (at < 0 && _contexts[n].Outputs.Contains(b))) at = n;
            var ctx = _contexts[at];
            int input = Array.IndexOf(ctx.Inputs, b);
            if (input >= 0 && _nodes[at].Layer.CanWriteInputGrads && ctx.NeedsInputGrad(input) && ctx.Output.Grad is not null && ctx.Inputs.Count(i => ReferenceEquals(i, b)) == 1)
                (ctx.FreshInputGrads ??= new bool[ctx.Inputs.Length])[input] = true;
            else clearAt[at].Add(b);
        }
        _clearBefore = [.. clearAt.Select(l => l.ToArray())];

        // A layer called once that can write its weights' gradients takes their clear's place (a shared layer adds
        // one call's gradient to the other's; a layer inside another, like TimeDistributed's, is no node here).
        _weights = [.. model.Weights];
        _weightWriter = new int[_weights.Length];
        for (int i = 0; i < _weights.Length; i++)
        {
            var layer = _weights[i].Layer;
            int at = Array.FindIndex(_nodes, nd => ReferenceEquals(nd.Layer, layer));
            bool once = at >= 0 && Array.FindLastIndex(_nodes, nd => ReferenceEquals(nd.Layer, layer)) == at;
            _weightWriter[i] = withGradients && once && layer.CanWriteWeightGrads && _contexts[at].Output.Grad is not null ? at : -1;
        }
        _readyAfter = ReadyOffsets(_nodes, _weights);
    }

    /// <summary>
    /// Per node n: the store offset from which every weight's gradient is final once <see cref="Backward"/> has run
    /// node n and every node after it. A weight is final once the lowest node whose layer holds it (a shared layer's
    /// first call, a wrapper's inner weights) has run; the offset is the end of the highest weight not yet final, 0
    /// when none is left. The store's ranges above it may be updated while earlier nodes still run backward.
    /// </summary>
    internal static int[] ReadyOffsets(Node[] nodes, Weight[] weights)
    {
        var lastNode = new Dictionary<Weight, int>(ReferenceEqualityComparer.Instance);
        for (int n = nodes.Length - 1; n >= 0; n--)
            foreach (var w in nodes[n].Layer.Weights) lastNode[w] = n;
        var ready = new int[nodes.Length];
        for (int n = 0; n < nodes.Length; n++)
            foreach (var w in weights)
                if (lastNode.TryGetValue(w, out int last) && last < n) ready[n] = Math.Max(ready[n], w.Offset + w.Length);
        return ready;
    }

    private readonly int[] _readyAfter;
    private int _readyFrom = int.MaxValue;

    /// <summary>
    /// The store offset from which this executor's weight gradients are final in the running step: <see cref="int.MaxValue"/>
    /// after <see cref="ResetReadiness"/>, lowered by <see cref="Backward"/> node by node, 0 once it has finished. Read
    /// from another thread: a value below <see cref="int.MaxValue"/> also means the step's losses are computed.
    /// </summary>
    internal int ReadyFrom => Volatile.Read(ref _readyFrom);

    /// <summary>The context of the node that writes weight <paramref name="weightIndex"/>'s gradient (a layer called once), or null.</summary>
    internal NodeContext? WriterContext(int weightIndex) => _weightWriter[weightIndex] is int n and >= 0 ? _contexts[n] : null;

    /// <summary>Marks nothing ready and no node run backward, before a step (see <see cref="ReadyFrom"/>, <see cref="BackwardAt"/>).</summary>
    internal void ResetReadiness()
    {
        Volatile.Write(ref _readyFrom, int.MaxValue);
        Volatile.Write(ref _backwardAt, int.MaxValue);
    }

    private int _backwardAt = int.MaxValue;

    /// <summary>
    /// The lowest node whose Backward has run in this step (<see cref="int.MaxValue"/> after <see cref="ResetReadiness"/>):
    /// another thread may read a node's output gradient and inputs once this is at most its index.
    /// </summary>
    internal int BackwardAt => Volatile.Read(ref _backwardAt);

    /// <summary>The node that writes weight <paramref name="weightIndex"/>'s gradient (a layer called once), or −1.</summary>
    internal int WriterNode(int weightIndex) => _weightWriter[weightIndex];

    /// <summary>Marks every gradient final (a replica with no rows, whose gradients are cleared).</summary>
    internal void MarkAllReady() => Volatile.Write(ref _readyFrom, 0);

    /// <summary>Whether layers may write their weights' gradients (a benchmark knob: false clears all and adds).</summary>
    internal static bool WriteWeightGrads = true;

    /// <summary>
    /// Readies <paramref name="grads"/> (the store's layout) for <see cref="Backward"/>: tells each layer that can write
    /// its weights' gradients to do so, and clears every other range, since Backward adds into those. A layer frozen
    /// since (not <see cref="Layers.Layer.Trainable"/>) writes nothing, so its ranges are cleared too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void PrepareWeightGrads(Span<float> grads)
    {
        int clearFrom = 0, clearTo = 0;    // the pending run of ranges to clear, merged while contiguous
        for (int i = 0; i < _weights.Length; i++)
        {
            var w = _weights[i];
            int node = _weightWriter[i];
            bool writes = node >= 0 && w.Layer.Trainable && WriteWeightGrads;
            if (node >= 0) _contexts[node].WritesWeightGrads = writes;
            if (writes) continue;
            if (w.Offset != clearTo)
            {
                grads[clearFrom..clearTo].Clear();
                clearFrom = w.Offset;
            }
            clearTo = w.Offset + w.Length;
        }
        grads[clearFrom..clearTo].Clear();
    }

    /// <summary>Per-node forward and backward times in Stopwatch ticks, accumulated while <see cref="Profile"/> is set (benchmarks).</summary>
    internal long[] ForwardTicks { get; }
    internal long[] BackwardTicks { get; }
    internal long LossTicks { get; private set; }
    internal bool Profile { get; set; }
    internal string NodeName(int n) => $"{_nodes[n].Layer.Name} ({_nodes[n].Layer.TypeName})";
    internal int NodeCount => _nodes.Length;

    /// <summary>The largest batch this executor can run.</summary>
    public int Capacity { get; }

    /// <summary>Each output's loss from the last <see cref="ComputeLosses"/> (unweighted; a replica's share of it).</summary>
    public double[] OutputLosses { get; }

    /// <summary>Activity penalties of the last Forward (a replica's share of them).</summary>
    public double Penalty { get; private set; }

    /// <summary>Losses that layers added in the last Forward (<see cref="NodeContext.AddLoss"/>; a replica's share of them).</summary>
    public double AddedLoss { get; private set; }

    /// <summary>The buffer of model input <paramref name="i"/>: write the batch here before Forward.</summary>
    public Span<float> Input(int i, int batch) => _inputs[i].Value.AsSpan(0, batch * _inputs[i].SampleSize);

    /// <summary>The buffer behind input <paramref name="i"/> (at least <see cref="Capacity"/> samples).</summary>
    internal float[] InputBuffer(int i) => _inputs[i].Value;

    /// <summary>Elements per sample of input <paramref name="i"/>.</summary>
    public int InputSize(int i) => _inputs[i].SampleSize;

    /// <summary>Elements per sample of output <paramref name="j"/>.</summary>
    public int OutputSize(int j) => _outputs[j].Buffer.SampleSize;

    /// <summary>Targets of output <paramref name="j"/>: Capacity × its size; callers fill the first rows (unless they come from an input).</summary>
    public float[] Targets(int j) => _outputs[j].Targets;

    /// <summary>Output <paramref name="j"/> of the last Forward run with <c>needOutput</c>.</summary>
    public ReadOnlySpan<float> Output(int j, int batch) =>
        (_outputs[j].Fused ? _outputs[j].Activated! : _outputs[j].Buffer.Value).AsSpan(0, batch * _outputs[j].Buffer.SampleSize);

    /// <summary>Makes this executor replica <paramref name="replica"/> of a data-parallel step whose layers meet at <paramref name="sums"/>.</summary>
    public void JoinReplicas(ReplicaSums sums, int replica)
    {
        (_sums, _replica) = (sums, replica);
        foreach (var ctx in _contexts)
        {
            ctx.Sums = sums;
            ctx.Replica = replica;
        }
    }

    /// <summary>
    /// Makes output <paramref name="j"/>'s loss read its targets from model input <paramref name="input"/> (−1: from
    /// <see cref="Targets"/>): an autoencoder's targets are its inputs, so Fit need not copy each batch twice.
    /// </summary>
    public void SetTargetInput(int j, int input)
    {
        if (input >= 0 && _inputs[input].SampleSize != _outputs[j].Buffer.SampleSize)
            throw new InvalidOperationException($"Targets of {_outputs[j].Buffer.SampleSize} values cannot be read from an input of {_inputs[input].SampleSize}.");
        _outputs[j].TargetInput = input;
    }

    /// <summary>The model input output <paramref name="j"/> reads its targets from, or −1.</summary>
    public int TargetInput(int j) => _outputs[j].TargetInput;

    /// <summary>Restarts every node's random stream from <paramref name="seed"/> (the same seed gives the same streams).</summary>
    public void Reseed(ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var ctx in _contexts) ctx.Random.Reset(rng.NextULong());
    }

    /// <summary>Moves every random stream one step on without running (a data-parallel share with no samples).</summary>
    public void SkipRandomStep()
    {
        foreach (var ctx in _contexts) ctx.Random.SkipStep();
    }

    /// <summary>Runs every layer in topological order, then the output activations.</summary>
    /// <param name="needOutput">False when only the loss will be read, so a fused output can skip y.</param>
    /// <param name="fullBatch">The whole batch this one is a part of (a data-parallel replica's share), for terms
    /// averaged over the batch; 0 when <paramref name="batch"/> is the whole batch.</param>
    /// <param name="offset">Position of this share's first sample in the whole batch (for the random streams).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Forward(int batch, bool training, bool needOutput = true, int fullBatch = 0, int offset = 0)
    {
        if ((uint)batch > (uint)Capacity || batch == 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Batch must be in [1, {Capacity}].");
        int full = fullBatch > 0 ? fullBatch : batch;
        double penalty = 0, added = 0;
        for (int n = 0; n < _contexts.Length; n++)
        {
            var ctx = _contexts[n];
            ctx.Batch = batch;
            ctx.FullBatch = full;
            ctx.BatchOffset = offset;
            ctx.Training = training;
            ctx.AddedLoss = 0;
            ctx.Random.BeginStep(offset, batch);
            _logitGrad[n] = false;
            var layer = _nodes[n].Layer;
            long t0 = Profile ? Stopwatch.GetTimestamp() : 0;
            layer.Forward(ctx);
            if (_activations[n] is { } f && !_fused[n]) f.Forward(ctx.OutputValues, ctx.OutputValues, ctx.Output.SampleShape[^1]);
            if (Profile) ForwardTicks[n] += Stopwatch.GetTimestamp() - t0;
            added += ctx.AddedLoss;
            if (layer.ActivityRegularizer is { } reg)
                penalty += reg.Penalty(ctx.OutputValues) * ActivityScale(reg, full);
        }
        if (needOutput)
            foreach (var o in _outputs)
                if (o.Fused)
                {
                    var ctx = _contexts[o.Node];
                    _activations[o.Node]!.Forward(ctx.OutputValues, o.Activated.AsSpan(0, batch * o.Buffer.SampleSize), o.Buffer.SampleShape[^1]);
                }
        Penalty = penalty;
        AddedLoss = added;
    }

    /// <summary>
    /// Every output's loss on the last Forward, each reduced as its loss says over <paramref name="fullBatch"/> samples
    /// (this batch when 0), into <see cref="OutputLosses"/>; returns <c>Σⱼ wⱼ·lossⱼ</c>. With <paramref name="withGradient"/>
    /// it also seeds the output gradients with <c>wⱼ·∂lossⱼ/∂output</c>, so a replica's share adds up to the batch's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public double ComputeLosses(int batch, bool withGradient, int fullBatch = 0)
    {
        long t0 = Profile ? Stopwatch.GetTimestamp() : 0;
        double total = LossesOf(batch, withGradient, fullBatch);
        if (Profile) LossTicks += Stopwatch.GetTimestamp() - t0;
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private double LossesOf(int batch, bool withGradient, int fullBatch)
    {
        int full = fullBatch > 0 ? fullBatch : batch;
        double total = 0;
        for (int j = 0; j < _outputs.Length; j++)
        {
            var o = _outputs[j];
            var loss = o.Loss ?? throw new InvalidOperationException("This executor has no losses.");
            int size = o.Buffer.SampleSize, count = batch * size;
            double denominator = loss.Denominator(full, size);
            var grad = withGradient && o.Buffer.Grad is not null ? o.GradScratch ?? o.Buffer.Grad : null;
            var targets = o.TargetInput >= 0 ? _inputs[o.TargetInput].Value : o.Targets;
            double value;
            if (o.Mask is not null)
            {
                // Only the kept steps count: the mean over those of the whole batch, so the shares add their counts.
                var mask = o.Mask.Value.AsSpan(0, batch * o.Mask.SampleSize);
                long kept = Loss.CountKept(mask);
                if (_sums is not null)
                {
                    _keptSum[0] = kept;
                    _sums.Sum(_replica, _keptSum);
                    kept = (long)_keptSum[0];
                }
                value = loss.MaskedMean(o.Buffer.Value.AsSpan(0, count), targets.AsSpan(0, count), grad is null ? default : grad.AsSpan(0, count),
                                        mask, denominator, o.Weight, o.Fused, kept, (long)full * o.Mask.SampleSize);
            }
            else
            {
                // Memory-bound: two cores stream twice the bytes. Parts are 64-aligned, their sums added in order.
                int parts = count >= 1 << 14 ? Kernels.ComputePool.Shared.ThreadsHere : 1;
                _lossJob.Set(loss, o.Fused, o.Buffer.Value, targets, grad, count, parts, (float)(o.Weight / denominator));
                Kernels.ComputePool.Shared.Run(_lossJob, parts);
                value = _lossJob.Total() / denominator;
            }
            if (grad is not null && o.GradScratch is not null)
                Kernels.Simd.Add(o.Buffer.Grad.AsSpan(0, count), o.GradScratch.AsSpan(0, count), o.Buffer.Grad.AsSpan(0, count));
            if (o.Fused && grad is not null) _logitGrad[o.Node] = true;
            OutputLosses[j] = value;
            total += o.Weight * value;
        }
        return total;
    }

    /// <summary>Runs every layer's Backward in reverse order; the output gradients must already be seeded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Backward(int batch)
    {
        for (int n = _contexts.Length - 1; n >= 0; n--)
        {
            foreach (var b in _clearBefore[n]) b.Grad.AsSpan(0, batch * b.SampleSize).Clear();
            var ctx = _contexts[n];
            if (ctx.Output.Grad is not null)
            {
                var layer = _nodes[n].Layer;
                long t0 = Profile ? Stopwatch.GetTimestamp() : 0;
                if (layer.ActivityRegularizer is { } reg)
                    reg.AddGradient(ctx.OutputValues, ctx.OutputGrad, (float)ActivityScale(reg, ctx.FullBatch));
                if (_activations[n] is { } f && !_logitGrad[n])
                    f.Backward(ctx.OutputValues, ctx.OutputGrad, ctx.OutputGrad, ctx.Output.SampleShape[^1]);
                layer.Backward(ctx);
                if (Profile) BackwardTicks[n] += Stopwatch.GetTimestamp() - t0;
            }
            Volatile.Write(ref _backwardAt, n);
            Volatile.Write(ref _readyFrom, _readyAfter[n]);
        }
    }

    /// <summary>One output's loss over [0, count) cut into parts, each summing its own range.</summary>
    private sealed class LossJob : Kernels.IParallelWork
    {
        private Loss? _loss;
        private bool _fused;
        private float[]? _pred, _targets, _grad;
        private int _count, _parts;
        private float _gradScale;
        private readonly double[] _sums = new double[64];

        public void Set(Loss loss, bool fused, float[] pred, float[] targets, float[]? grad, int count, int parts, float gradScale) =>
            (_loss, _fused, _pred, _targets, _grad, _count, _parts, _gradScale) = (loss, fused, pred, targets, grad, count, Math.Min(parts, 64), gradScale);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
        public void Execute(int part)
        {
            var (start, end) = Kernels.ComputePool.PartRange(_count, _parts, part);
            if (end <= start) { _sums[part] = 0; return; }
            var grad = _grad is null ? Span<float>.Empty : _grad.AsSpan(start, end - start);
            var p = _pred.AsSpan(start, end - start);
            var t = _targets.AsSpan(start, end - start);
            _sums[part] = _fused ? _loss!.SumFromLogits(p, t, grad, _gradScale) : _loss!.Sum(p, t, grad, _gradScale);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
        public double Total()
        {
            double total = 0;
            for (int p = 0; p < _parts; p++) total += _sums[p];
            return total;
        }
    }

    private static double ActivityScale(Regularizer reg, int fullBatch) => reg.Reduction == ActivityReduction.Mean ? 1.0 / fullBatch : 1.0;
}
