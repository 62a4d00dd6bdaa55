using Latent.Layers;
using Latent.Losses;

namespace Latent;

/// <summary>
/// Runs a model's graph on batches of up to <see cref="Capacity"/> samples. Every buffer (activations, their
/// gradients, layer workspaces, the targets) is allocated here once; Forward and Backward allocate nothing.
/// </summary>
internal sealed class GraphExecutor
{
    private readonly Node[] _nodes;
    private readonly NodeContext[] _contexts;
    private readonly TensorBuffer[] _inputs;
    private readonly TensorBuffer _output;
    private readonly TensorBuffer[] _gradBuffers;   // every buffer with a gradient except the model output's
    private readonly NodeContext _outputContext;

    /// <param name="weightGradients">Null: weight gradients go to the model's store. Else a private array of the store's
    /// length (a data-parallel replica).</param>
    public GraphExecutor(Model model, int capacity, bool withGradients, Loss? loss, ulong seed, float[]? weightGradients = null)
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
        for (int n = 0; n < _nodes.Length; n++)
        {
            var node = _nodes[n];
            var ins = node.Inputs.Select(t => buffers[t]).ToArray();
            var inGrad = node.Inputs.Select(t => withGradients && needsGrad[t]).ToArray();
            bool outGrad = withGradients && (node.Layer.Weights.Count > 0 || inGrad.Any(g => g));
            var output = new TensorBuffer(node.Output.ShapeArray, capacity, outGrad);
            buffers[node.Output] = output;
            needsGrad[node.Output] = outGrad;
            int workspace = node.Layer.WorkspacePerSample(node.Inputs.Select(t => t.ShapeArray).ToArray(), node.Output.ShapeArray);
            _contexts[n] = new NodeContext(ins, output, inGrad, workspace, capacity, rng.NextULong()) { WeightGradients = weightGradients };
        }

        var outTensor = model.Outputs[0];
        _output = buffers[outTensor];
        if (!needsGrad[outTensor] && withGradients)
            throw new InvalidOperationException($"Model '{model.Name}' has no trainable weights between its inputs and output {outTensor.Name}.");
        int outNode = Array.FindIndex(_nodes, nd => ReferenceEquals(nd.Output, outTensor));
        _outputContext = _contexts[outNode];
        var outLayer = _nodes[outNode].Layer;
        // The logit path hands the output layer dL/dz directly, so nothing else may add to dL/dy.
        bool consumedInside = _nodes.Any(nd => nd.Inputs.Any(t => ReferenceEquals(t, outTensor)));
        UsesLogits = loss is { AcceptsSigmoidLogits: true } && outLayer.HasSigmoidOutput && !consumedInside
                     && outLayer.ActivityRegularizer is null;
        if (UsesLogits) _outputContext.LogitsBuffer = new float[(long)capacity * _output.SampleSize];
        Targets = new float[(long)capacity * _output.SampleSize];
        ForwardTicks = new long[_nodes.Length];
        BackwardTicks = new long[_nodes.Length];
        _gradBuffers = _contexts.Select(c => c.Output).Where(b => b.Grad is not null && !ReferenceEquals(b, _output)).ToArray();
    }

    /// <summary>Per-node forward and backward times in Stopwatch ticks, accumulated while <see cref="Profile"/> is set (benchmarks).</summary>
    internal long[] ForwardTicks { get; }
    internal long[] BackwardTicks { get; }
    internal bool Profile { get; set; }
    internal string NodeName(int n) => $"{_nodes[n].Layer.Name} ({_nodes[n].Layer.TypeName})";
    internal int NodeCount => _nodes.Length;

    /// <summary>The largest batch this executor can run.</summary>
    public int Capacity { get; }

    /// <summary>Whether the loss is computed from the output layer's logits.</summary>
    public bool UsesLogits { get; }

    /// <summary>Targets for the current batch, Capacity × output size; callers fill the first Batch rows.</summary>
    public float[] Targets { get; }

    /// <summary>Elements per sample of the output.</summary>
    public int OutputSize => _output.SampleSize;

    /// <summary>Sum of the activity penalties and auxiliary losses of the last Forward.</summary>
    public double Penalty { get; private set; }

    /// <summary>The buffer of model input <paramref name="i"/>: write the batch here before Forward.</summary>
    public Span<float> Input(int i, int batch) => _inputs[i].Value.AsSpan(0, batch * _inputs[i].SampleSize);

    /// <summary>Elements per sample of input <paramref name="i"/>.</summary>
    public int InputSize(int i) => _inputs[i].SampleSize;

    /// <summary>The output of the last Forward.</summary>
    public ReadOnlySpan<float> Output(int batch) => _output.Value.AsSpan(0, batch * _output.SampleSize);

    /// <summary>Restarts every node's random stream (dropout) from <paramref name="seed"/>.</summary>
    public void Reseed(ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var ctx in _contexts) ctx.Rng = new Rng(rng.NextULong());
    }

    /// <summary>
    /// When set, the loss reads its targets from model input 0 instead of <see cref="Targets"/>: an autoencoder's
    /// targets are its inputs, so Fit need not copy each batch twice.
    /// </summary>
    public bool TargetsAreInput
    {
        get;
        set => field = !value || _inputs[0].SampleSize == _output.SampleSize ? value
            : throw new InvalidOperationException($"Targets of {_output.SampleSize} values cannot be read from an input of {_inputs[0].SampleSize}.");
    }

    /// <summary>Runs every layer in topological order.</summary>
    /// <param name="needOutput">False when only the loss will be read (it may come from the logits), so the output layer can skip y.</param>
    /// <param name="fullBatch">The whole batch this one is a part of (a data-parallel replica's share), for activity
    /// penalties averaged over the batch; 0 when <paramref name="batch"/> is the whole batch.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Forward(int batch, bool training, bool needOutput = true, int fullBatch = 0)
    {
        if ((uint)batch > (uint)Capacity || batch == 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Batch must be in [1, {Capacity}].");
        double penalty = 0;
        _outputContext.OutputNeeded = needOutput || !UsesLogits;
        for (int n = 0; n < _contexts.Length; n++)
        {
            var ctx = _contexts[n];
            ctx.Batch = batch;
            ctx.Training = training;
            ctx.AuxiliaryLoss = 0;
            ctx.OutputGradIsLogitGrad = false;
            var layer = _nodes[n].Layer;
            long t0 = Profile ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            layer.Forward(ctx);
            if (Profile) ForwardTicks[n] += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
            penalty += ctx.AuxiliaryLoss;
            if (layer.ActivityRegularizer is { } reg)
                penalty += reg.Penalty(ctx.OutputValues) * ActivityScale(reg, fullBatch > 0 ? fullBatch : batch);
        }
        Penalty = penalty;
    }

    /// <summary>Loss of the last Forward against <see cref="Targets"/>; with <paramref name="withGradient"/> it also seeds the output gradient.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public double ComputeLoss(Loss loss, int batch, bool withGradient)
    {
        int n = batch * _output.SampleSize;
        if (!UsesLogits)
            return loss.Compute(Output(batch), (TargetsAreInput ? _inputs[0].Value : Targets).AsSpan(0, n),
                                withGradient ? _output.Grad.AsSpan(0, n) : Span<float>.Empty);
        return ComputeLossSum(loss, batch, withGradient, 1f / n) / n;
    }

    /// <summary>
    /// The loss summed over the batch's elements (the mean × their count), with the output gradient scaled by
    /// <paramref name="gradScale"/> per element: 1/elements for this batch's mean, 1/(elements of the whole batch)
    /// for a data-parallel replica's share.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public double ComputeLossSum(Loss loss, int batch, bool withGradient, float gradScale)
    {
        var targets = (TargetsAreInput ? _inputs[0].Value : Targets).AsSpan(0, batch * _output.SampleSize);
        var grad = withGradient ? _output.Grad.AsSpan(0, batch * _output.SampleSize) : Span<float>.Empty;
        if (UsesLogits)
        {
            _outputContext.OutputGradIsLogitGrad = withGradient;
            int count = targets.Length;
            // Memory-bound: two cores stream twice the bytes. Parts are 64-aligned, their sums added in order.
            int parts = count >= 1 << 14 ? Kernels.ComputePool.Shared.ThreadsHere : 1;
            _lossJob.Set(loss, _outputContext.LogitsBuffer!, TargetsAreInput ? _inputs[0].Value : Targets,
                         withGradient ? _output.Grad : null, count, parts, gradScale);
            Kernels.ComputePool.Shared.Run(_lossJob, parts);
            return _lossJob.Total();
        }
        // Compute gives the mean over these elements and its gradient (scaled 1/n): rescale to the requested form.
        int n = targets.Length;
        double mean = loss.Compute(Output(batch), targets, grad);
        if (withGradient && gradScale != 1f / n) System.Numerics.Tensors.TensorPrimitives.Multiply(grad, gradScale * n, grad);
        return mean * n;
    }

    /// <summary>Runs every layer's Backward in reverse order; the output gradient must already be seeded.</summary>
    /// <param name="fullBatch">As in <see cref="Forward"/>.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Backward(int batch, int fullBatch = 0)
    {
        foreach (var b in _gradBuffers) b.Grad.AsSpan(0, batch * b.SampleSize).Clear();
        for (int n = _contexts.Length - 1; n >= 0; n--)
        {
            var ctx = _contexts[n];
            if (ctx.Output.Grad is null) continue;
            var layer = _nodes[n].Layer;
            if (layer.ActivityRegularizer is { } reg)
                reg.AddGradient(ctx.OutputValues, ctx.OutputGrad, (float)ActivityScale(reg, fullBatch > 0 ? fullBatch : batch));
            long t0 = Profile ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            layer.Backward(ctx);
            if (Profile) BackwardTicks[n] += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
        }
    }

    private readonly LogitLossJob _lossJob = new();

    /// <summary>A logit loss over [0, count) cut into parts, each summing its own range.</summary>
    private sealed class LogitLossJob : Kernels.IParallelWork
    {
        private Loss? _loss;
        private float[]? _logits, _targets, _grad;
        private int _count, _parts;
        private float _gradScale;
        private readonly double[] _sums = new double[64];

        public void Set(Loss loss, float[] logits, float[] targets, float[]? grad, int count, int parts, float gradScale)
        {
            (_loss, _logits, _targets, _grad, _count, _parts, _gradScale) = (loss, logits, targets, grad, count, Math.Min(parts, 64), gradScale);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
        public void Execute(int part)
        {
            var (start, end) = Kernels.ComputePool.PartRange(_count, _parts, part);
            var grad = _grad is null ? Span<float>.Empty : _grad.AsSpan(start, end - start);
            _sums[part] = end > start ? _loss!.SumFromLogits(_logits.AsSpan(start, end - start), _targets.AsSpan(start, end - start), grad, _gradScale) : 0;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
        public double Total()
        {
            double total = 0;
            for (int p = 0; p < _parts; p++) total += _sums[p];
            return total;
        }
    }

    private static double ActivityScale(Regularizer reg, int batch) => reg.Reduction == ActivityReduction.Mean ? 1.0 / batch : 1.0;
}
