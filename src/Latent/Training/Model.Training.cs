using System.Diagnostics;
using Latent.Losses;
using Latent.Optimizers;

namespace Latent;

public partial class Model
{
    private Optimizer? _optimizer;
    private Loss? _loss;
    private ParameterStore? _store;
    private ParameterStore? _optimizerStore;
    private GraphExecutor? _batchExecutor;   // Fit, TrainOnBatch on one core (or on user-defined sample sets)
    private DataParallelStep? _parallelStep; // Fit, TrainOnBatch split by samples across the cores
    private bool _stepIsParallel;
    private float[][]? _pendingPartials;    // replica gradients the next optimizer step adds as it updates
    private GraphExecutor? _evalExecutor;    // Evaluate, Predict
    private Weight[] _regularized = [];
    private bool _stopRequested;
    private string? _stopReason;

    /// <summary>The optimizer given to <see cref="Compile"/>.</summary>
    public Optimizer? Optimizer => _optimizer;

    /// <summary>The loss given to <see cref="Compile"/>.</summary>
    public Loss? Loss => _loss;

    /// <summary>Whether <see cref="Compile"/> has been called.</summary>
    public bool IsCompiled => _optimizer is not null && _loss is not null;

    /// <summary>
    /// Sets the optimizer and loss, by name (<c>Compile("adagrad", "binary_crossentropy")</c>) or as objects
    /// with overrides (<c>Compile(new Adadelta(learningRate: 0.5), new BinaryCrossentropy())</c>).
    /// </summary>
    public void Compile(Optimizer optimizer, Loss loss)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        if (_outputs.Length != 1)
            throw new NotSupportedException($"Model '{Name}' has {_outputs.Length} outputs; training supports one output.");
        _optimizer = optimizer;
        _loss = loss;
        _optimizerStore = null;
        InvalidateExecutors();
    }

    private void InvalidateExecutors()
    {
        _batchExecutor = null;
        _parallelStep = null;
        _evalExecutor = null;
    }

    /// <summary>
    /// Trains for <paramref name="epochs"/> passes over (x, y), Keras's <c>fit</c>. Each epoch visits the samples in a
    /// new random order (with <paramref name="shuffle"/>) in batches of <paramref name="batchSize"/> (the last may be
    /// smaller), then evaluates <paramref name="validationData"/>. The same <paramref name="seed"/> gives
    /// bit-identical weights on one machine; epoch e's order depends only on (seed, e), so a run resumed at
    /// <paramref name="initialEpoch"/> sees the same batches as one that never stopped.
    /// </summary>
    /// <param name="x">Inputs, (samples, …input shape): a <see cref="Tensor"/>, or a <see cref="ByteTensor"/> converted batch by batch.</param>
    /// <param name="y">Targets, (samples, …output shape); for an autoencoder, x itself (then each batch is read once, for both).</param>
    /// <param name="verbose">0 silent, 1 a progress bar and a line per epoch, 2 a line per epoch.</param>
    /// <param name="output">Where progress goes (standard output by default).</param>
    /// <exception cref="InvalidOperationException">The model is not compiled.</exception>
    /// <exception cref="ArgumentException">Empty data, mismatched shapes or sample counts, NaN or infinite values, batchSize ≤ 0.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public History Fit(SampleSet x, SampleSet y, int epochs = 1, int batchSize = 32, bool shuffle = true,
                       (SampleSet X, SampleSet Y)? validationData = null, int verbose = 1,
                       IReadOnlyList<Callback>? callbacks = null, int? seed = null, int initialEpoch = 0,
                       TextWriter? output = null)
    {
        RequireCompiled(nameof(Fit));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"Expected epochs ≥ 0. Received: epochs={epochs}.");
        if (initialEpoch < 0) throw new ArgumentOutOfRangeException(nameof(initialEpoch), initialEpoch, "Expected initialEpoch ≥ 0.");
        CheckData(x, y, "x", "y");
        if (validationData is { } vd) CheckData(vd.X, vd.Y, "validation x", "validation y");
        var cbs = callbacks?.ToArray() ?? [];
        var writer = output ?? Console.Out;

        int n = x.Rows;
        int capacity = Math.Min(batchSize, n);
        ulong baseSeed = seed is int s ? (ulong)(uint)s : Randomness.NextSeed();
        var store = EnsureStore();
        PlanStep(x, y, capacity, exact: true, baseSeed, SameData(x, y, compareContent: true));
        var evalEx = validationData is null ? null : EvalExecutor(Math.Min(batchSize, validationData.Value.X.Rows));
        float[]? lastGood = cbs.Any(c => c.NeedsLastGoodWeights) ? new float[store.Length] : null;
        var order = new int[n];
        var history = new History();
        _stopRequested = false;
        _stopReason = null;
        int batches = (n + batchSize - 1) / batchSize;
        var progress = verbose == 1 ? new ProgressLine(writer, batches) : null;

        foreach (var cb in cbs) { cb.Model = this; cb.OnTrainBegin(); }
        for (int epoch = initialEpoch; epoch < epochs && !_stopRequested; epoch++)
        {
            var clock = Stopwatch.StartNew();
            foreach (var cb in cbs) cb.OnEpochBegin(epoch);
            for (int i = 0; i < n; i++) order[i] = i;
            var epochRng = new Rng(baseSeed + (ulong)(epoch + 1) * 0x9E3779B97F4A7C15UL);
            if (shuffle) epochRng.Shuffle(order);
            if (_stepIsParallel) _parallelStep!.Reseed(epochRng.NextULong());
            else _batchExecutor!.Reseed(epochRng.NextULong());
            progress?.Start();

            double lossSum = 0, penaltySum = 0;
            int seen = 0;
            for (int b = 0; b < batches && !_stopRequested; b++)
            {
                int start = b * batchSize, count = Math.Min(batchSize, n - start);
                foreach (var cb in cbs) cb.OnBatchBegin(b);
                double loss = Step(BatchGradients(x, y, order, start, count, out double penalty), lastGood);
                if (!double.IsFinite(loss) && lastGood is not null)
                {
                    // lastGood holds the weights before the latest update: finite, and with a finite loss.
                    RestoreWeights(lastGood);
                    RequestStop($"batch {b + 1} of epoch {epoch + 1}: the loss or the weights became {loss}; " +
                                "training stopped and the last weights with a finite loss were restored");
                    break;
                }
                lossSum += loss * count;
                penaltySum += penalty * count;
                seen += count;
                foreach (var cb in cbs) cb.OnBatchEnd(b, loss);
                progress?.Update(b + 1, lossSum / seen, clock.Elapsed.TotalSeconds);
            }
            if (seen == 0) break;

            double? valLoss = null, valPenalty = null;
            if (validationData is { } v && evalEx is not null)
            {
                var (vl, vp) = EvaluateCore(evalEx, v.X, v.Y, evalEx.Capacity);
                valLoss = vl;
                valPenalty = vp;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var logs = new EpochLogs(epoch, lossSum / seen, penaltySum / seen, valLoss, valPenalty, seconds);
            history.Epochs.Add(epoch);
            history.Loss.Add(logs.Loss);
            history.Penalty.Add(logs.Penalty);
            if (valLoss is double vlv) { history.ValLoss.Add(vlv); history.ValPenalty.Add(valPenalty!.Value); }
            history.Seconds.Add(seconds);
            progress?.Finish();
            if (verbose > 0) writer.WriteLine(FormatEpoch(logs, epochs));
            foreach (var cb in cbs) cb.OnEpochEnd(logs);
        }
        foreach (var cb in cbs) cb.OnTrainEnd();
        history.StopReason = _stopReason;
        if (verbose > 0 && _stopReason is not null) writer.WriteLine($"Stopped: {_stopReason}.");
        return history;
    }

    /// <summary>The line printed after each epoch: <c>Epoch 3/100 - 1.2s - loss: 0.1032 - val_loss: 0.1011</c>.</summary>
    public static string FormatEpoch(EpochLogs logs, int epochs)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var line = string.Create(inv, $"Epoch {logs.Epoch + 1}/{epochs} - {logs.Seconds:F1}s - loss: {logs.Loss:F4}");
        if (logs.Penalty != 0) line += string.Create(inv, $" - penalty: {logs.Penalty:F4}");
        if (logs.ValLoss is double v) line += string.Create(inv, $" - val_loss: {v:F4}");
        return line;
    }

    /// <summary>
    /// One optimizer step on one batch, Keras's <c>train_on_batch</c>; returns the loss (penalties included)
    /// before the update. Allocates nothing once the first call has planned its buffers.
    /// </summary>
    public double TrainOnBatch(SampleSet x, SampleSet y)
    {
        RequireCompiled(nameof(TrainOnBatch));
        CheckData(x, y, "x", "y");
        EnsureStore();
        int count = x.Rows;
        PlanStep(x, y, count, exact: false, Randomness.NextSeed(), SameData(x, y));
        return Step(BatchGradients(x, y, null, 0, count, out _), null);
    }

    /// <summary>The loss (penalties included) on (x, y), in batches: the batch-size-weighted mean, Keras's <c>evaluate</c>.</summary>
    /// <remarks>An activity penalty summed over the batch (the default) grows with <paramref name="batchSize"/>; compare runs at one batch size, or use <see cref="EvaluateParts"/>.</remarks>
    public double Evaluate(SampleSet x, SampleSet y, int batchSize = 32) => EvaluateParts(x, y, batchSize).Loss;

    /// <summary>Like <see cref="Evaluate"/>, also returning the penalty part: <c>Loss − Penalty</c> is the reconstruction loss.</summary>
    public (double Loss, double Penalty) EvaluateParts(SampleSet x, SampleSet y, int batchSize = 32)
    {
        RequireCompiled(nameof(Evaluate));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        CheckData(x, y, "x", "y");
        var ex = EvalExecutor(Math.Min(batchSize, x.Rows));
        return EvaluateCore(ex, x, y, Math.Min(batchSize, x.Rows));
    }

    /// <summary>The model's output for every sample of <paramref name="x"/>, computed in batches.</summary>
    /// <returns>A tensor of shape (samples, …output shape).</returns>
    public Tensor Predict(SampleSet x, int batchSize = 32)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        if (_inputs.Length != 1 || _outputs.Length != 1)
            throw new NotSupportedException($"Model '{Name}' has {_inputs.Length} inputs and {_outputs.Length} outputs; Predict supports one of each.");
        CheckData(x, null, "x", "");
        int n = x.Rows, cap = Math.Min(batchSize, n);
        var ex = EvalExecutor(cap);
        var outShape = _outputs[0].ShapeArray;
        var result = new Tensor([n, .. outShape]);
        int outSize = ex.OutputSize, inSize = ex.InputSize(0);
        for (int start = 0; start < n; start += cap)
        {
            int count = Math.Min(cap, n - start);
            x.CopyRows(start, count, ex.Input(0, count));
            ex.Forward(count, training: false);
            ex.Output(count).CopyTo(result.Span.Slice(start * outSize, count * outSize));
        }
        return result;
    }

    /// <summary>Copies of every weight's values, in <see cref="Weights"/> order (Keras's <c>get_weights</c>).</summary>
    public float[][] GetWeights() => _weights.Select(w => w.Values.ToArray()).ToArray();

    /// <summary>Overwrites every weight (Keras's <c>set_weights</c>).</summary>
    /// <exception cref="ArgumentException">Wrong number of arrays or a wrong length; nothing is changed then.</exception>
    public void SetWeights(IReadOnlyList<float[]> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != _weights.Length)
            throw new ArgumentException($"Model '{Name}' has {_weights.Length} weights, received {values.Count} arrays.");
        for (int i = 0; i < _weights.Length; i++)
            if (values[i].Length != _weights[i].Length)
                throw new ArgumentException($"Weight {_weights[i].Name} has {_weights[i].Length} values, received {values[i].Length}.");
        for (int i = 0; i < _weights.Length; i++) values[i].CopyTo(_weights[i].Values);
    }

    /// <summary>Asks Fit to stop after the current batch (callbacks use this).</summary>
    internal void RequestStop(string reason)
    {
        _stopRequested = true;
        _stopReason ??= reason;
    }

    /// <summary>All weights into one flat array (reused when large enough).</summary>
    internal float[] SnapshotWeights(float[]? reuse)
    {
        int total = CountParams();
        var snap = reuse is not null && reuse.Length == total ? reuse : new float[total];
        int o = 0;
        foreach (var w in _weights) { w.Values.CopyTo(snap.AsSpan(o, w.Length)); o += w.Length; }
        return snap;
    }

    /// <summary>Writes back a <see cref="SnapshotWeights"/> array.</summary>
    internal void RestoreWeights(float[] snapshot)
    {
        int o = 0;
        foreach (var w in _weights) { snapshot.AsSpan(o, w.Length).CopyTo(w.Values); o += w.Length; }
    }

    /// <summary>
    /// Fewest samples per core in a data-parallel step (a test knob): smaller shares make multiplies too thin to run
    /// well, and every replica costs a gradient array. A batch of 32 on 2 cores splits in two; on 64 cores, in four.
    /// </summary>
    internal static int ParallelStepMinRows = 8;

    /// <summary>
    /// Plans (or reuses) what runs Fit's and TrainOnBatch's steps: a <see cref="DataParallelStep"/> over the cores for
    /// the library's sample sets, whose rows can be read from several threads at once; one executor otherwise.
    /// Reused across calls: fresh buffers cost a page fault per 4 KB on first touch (~8 ms for batch 256 here).
    /// </summary>
    private void PlanStep(SampleSet x, SampleSet y, int capacity, bool exact, ulong seed, bool targetsAreInput)
    {
        int replicas = (int)Math.Min(Kernels.ComputePool.Shared.Threads, capacity / Math.Max(1L, ParallelStepMinRows));
        // Replicas run layers on several threads at once and read rows concurrently: only for the library's own
        // layers (stateless between calls) and sample sets; a user's layer or SampleSet keeps the one-executor path.
        _stepIsParallel = replicas > 1 && x is Tensor or ByteTensor && y is Tensor or ByteTensor && OnlyBuiltInLayers();
        if (_stepIsParallel)
        {
            if (_parallelStep is null || !ReferenceEquals(_parallelStep.Store, _store) ||
                (exact ? _parallelStep.Capacity != capacity : _parallelStep.Capacity < capacity) || _parallelStep.Replicas != replicas)
                _parallelStep = new DataParallelStep(this, capacity, _loss!, seed, _store!, replicas);
            _parallelStep.TargetsAreInput = targetsAreInput;
        }
        else
        {
            if (_batchExecutor is null || (exact ? _batchExecutor.Capacity != capacity : _batchExecutor.Capacity < capacity))
                _batchExecutor = new GraphExecutor(this, capacity, withGradients: true, _loss, seed);
            _batchExecutor.TargetsAreInput = targetsAreInput;
        }
    }

    private bool OnlyBuiltInLayers()
    {
        foreach (var layer in _layers)
            if (layer.GetType().Assembly != typeof(Layers.Layer).Assembly) return false;
        return true;
    }

    /// <summary>
    /// Every weight's gradient of the total loss on rows <c>order[start..start+count)</c> of (x, y) (rows
    /// <c>[start, start+count)</c> without an order), by the step <see cref="PlanStep"/> chose; returns that total.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private double BatchGradients(SampleSet x, SampleSet y, int[]? order, int start, int count, out double penalty)
    {
        if (_stepIsParallel)
        {
            double data = _parallelStep!.Run(x, y, order, start, count, out double activity);
            _pendingPartials = _parallelStep.Partials; // the optimizer adds them as it updates
            penalty = activity + WeightPenalty();
            double total = data + penalty;
            if (double.IsFinite(total)) AddWeightPenaltyGradients();
            return total;
        }
        var ex = _batchExecutor!;
        if (order is not null) x.CopyRows(order.AsSpan(start, count), ex.Input(0, count));
        else x.CopyRows(start, count, ex.Input(0, count));
        if (!ex.TargetsAreInput)
        {
            if (order is not null) y.CopyRows(order.AsSpan(start, count), ex.Targets);
            else y.CopyRows(start, count, ex.Targets);
        }
        return ComputeGradients(ex, count, out penalty);
    }

    /// <summary>One optimizer step with the gradients in the store, unless <paramref name="total"/> (the batch's loss) is not finite.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private double Step(double total, float[]? lastGood)
    {
        var partials = _pendingPartials;
        _pendingPartials = null;
        if (!double.IsFinite(total)) return total;
        if (lastGood is null)
        {
            _optimizer!.Apply(_store!, _weights, partials);
            return total;
        }
        _store!.Values.CopyTo(lastGood);
        _optimizer!.Apply(_store, _weights, partials);
        // An update can overflow weights while the loss stays finite (a ReLU hides them): undo such a step.
        var values = _store.Values;
        int worst = System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude(values);
        if (worst >= 0 && !float.IsFinite(values[worst]))
        {
            lastGood.CopyTo(values, 0);
            return double.NaN;
        }
        return total;
    }

    /// <summary>
    /// Forward and backward on the batch already in the executor: fills every weight's gradient of the total
    /// loss (data loss + activity and weight penalties) and returns that total. Skips backward when it is not finite.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal double ComputeGradients(GraphExecutor ex, int count, out double penalty)
    {
        _store!.Grads.AsSpan().Clear();
        ex.Forward(count, training: true, needOutput: false);
        double loss = ex.ComputeLoss(_loss!, count, withGradient: true);
        penalty = ex.Penalty + WeightPenalty();
        double total = loss + penalty;
        if (!double.IsFinite(total)) return total;
        ex.Backward(count);
        AddWeightPenaltyGradients();
        return total;
    }

    private void AddWeightPenaltyGradients()
    {
        for (int i = 0; i < _regularized.Length; i++)
        {
            var w = _regularized[i];
            w.Regularizer!.AddGradient(w.Values, w.Grads);
        }
    }

    /// <summary>The total loss of the batch in the executor, forward only, in training mode (for gradient checks).</summary>
    internal double ComputeTotalLoss(GraphExecutor ex, int count)
    {
        ex.Forward(count, training: true, needOutput: false);
        return ex.ComputeLoss(_loss!, count, withGradient: false) + ex.Penalty + WeightPenalty();
    }

    /// <summary>One optimizer step with the gradients already computed (benchmarks time the phases apart).</summary>
    internal void ApplyOptimizerForBench(float[][]? partials = null) => _optimizer!.Apply(_store!, _weights, partials);

    /// <summary>Plans a data-parallel step over every core for benchmarks (its Run leaves the gradients in the store).</summary>
    internal DataParallelStep CreateParallelStepForBench(int capacity, ulong seed)
    {
        RequireCompiled("training");
        EnsureStore();
        return new DataParallelStep(this, capacity, _loss!, seed, _store!, Math.Min(Kernels.ComputePool.Shared.Threads, Math.Max(1, capacity / ParallelStepMinRows)));
    }

    /// <summary>Plans a training executor for tests and moves the weights into this model's store.</summary>
    internal GraphExecutor CreateTrainingExecutor(int capacity, ulong seed)
    {
        RequireCompiled("training");
        EnsureStore();
        return new GraphExecutor(this, capacity, withGradients: true, _loss, seed);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private double WeightPenalty()
    {
        double p = 0;
        for (int i = 0; i < _regularized.Length; i++) p += _regularized[i].Regularizer!.Penalty(_regularized[i].Values);
        return p;
    }

    private (double Loss, double Penalty) EvaluateCore(GraphExecutor ex, SampleSet x, SampleSet y, int batchSize)
    {
        int n = x.Rows;
        double weightPenalty = WeightPenalty(), lossSum = 0, penaltySum = 0;
        ex.TargetsAreInput = SameData(x, y, compareContent: true);
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            x.CopyRows(start, count, ex.Input(0, count));
            if (!ex.TargetsAreInput) y.CopyRows(start, count, ex.Targets);
            ex.Forward(count, training: false, needOutput: false);
            double loss = ex.ComputeLoss(_loss!, count, withGradient: false);
            double penalty = ex.Penalty + weightPenalty;
            lossSum += (loss + penalty) * count;
            penaltySum += penalty * count;
        }
        return (lossSum / n, penaltySum / n);
    }

    private GraphExecutor EvalExecutor(int capacity)
    {
        if (_evalExecutor is null || _evalExecutor.Capacity < capacity)
            _evalExecutor = new GraphExecutor(this, capacity, withGradients: false, _loss, 0);
        return _evalExecutor;
    }

    /// <summary>
    /// Moves the weights into one contiguous store owned by this model, unless they are already there, and
    /// (re)builds the optimizer's state for it. Another model that shares layers then reads the same store.
    /// </summary>
    private ParameterStore EnsureStore()
    {
        if (_store is null || !WeightsAreInStore())
        {
            var store = new ParameterStore(CountParams());
            int offset = 0;
            foreach (var w in _weights) { w.MoveTo(store, offset); offset += w.Length; }
            _store = store;
        }
        if (!ReferenceEquals(_optimizerStore, _store))
        {
            _optimizer!.Build(_store.Length);
            _optimizerStore = _store;
        }
        return _store;
    }

    private void RequireCompiled(string method)
    {
        if (!IsCompiled)
            throw new InvalidOperationException($"Model '{Name}' must be compiled before {method}: call Compile(optimizer, loss) first.");
    }

    /// <summary>
    /// Whether y is x (an autoencoder's targets), so the loss can read the input buffer. With
    /// <paramref name="compareContent"/> equal copies count too (<c>Fit(xs, xs)</c> on a <c>float[,]</c> converts it twice);
    /// that one vectorised pass per Fit saves a copy of every batch.
    /// </summary>
    private bool SameData(SampleSet x, SampleSet y, bool compareContent = false) =>
        _inputs[0].Size == _outputs[0].Size && x.Rows == y.Rows && x.RowSize == y.RowSize &&
        (ReferenceEquals(x, y) || (x, y) switch
        {
            (Tensor a, Tensor b) => ReferenceEquals(a.Data, b.Data) || compareContent && a.Span.SequenceEqual(b.Span),
            (ByteTensor a, ByteTensor b) => a.Divisor == b.Divisor && (ReferenceEquals(a.Data, b.Data) || compareContent && a.Span.SequenceEqual(b.Span)),
            _ => false,
        });

    private void CheckData(SampleSet x, SampleSet? y, string xName, string yName)
    {
        ArgumentNullException.ThrowIfNull(x, xName);
        if (x.Shape.Count == 0 || x.Rows == 0)
            throw new ArgumentException($"{xName} is empty: received shape {ShapeUtil.Format(x.Shape.ToArray())}.");
        var input = _inputs[0];
        if (x.RowSize != input.Size)
            throw new ArgumentException(
                $"Model '{Name}' input {input.Name} expects {input.Size} features per sample {ShapeUtil.FormatBatch(input.ShapeArray)}, " +
                $"received {x.RowSize} ({xName} has shape {ShapeUtil.Format(x.Shape.ToArray())}).");
        CheckFinite(x, xName);
        if (y is null) return;
        var output = _outputs[0];
        if (y.Shape.Count == 0 || y.Rows != x.Rows)
            throw new ArgumentException($"{xName} has {x.Rows} samples but {yName} has {(y.Shape.Count == 0 ? 0 : y.Rows)}.");
        if (y.RowSize != output.Size)
            throw new ArgumentException(
                $"Model '{Name}' output {output.Name} has {output.Size} values per sample {ShapeUtil.FormatBatch(output.ShapeArray)}, " +
                $"but {yName} has {y.RowSize} (shape {ShapeUtil.Format(y.Shape.ToArray())}).");
        CheckFinite(y, yName);
    }

    /// <summary>One pass over the data, once per call of Fit/Evaluate/Predict; bytes need none.</summary>
    private static void CheckFinite(SampleSet samples, string name)
    {
        switch (samples)
        {
            case ByteTensor:
                return; // bytes over a finite, positive divisor are finite
            case Tensor t:
            {
                var data = t.Span;
                // IndexOfMaxMagnitude returns the first NaN if there is one, else the largest |value|: one pass finds both.
                int bad = System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude(data);
                if (bad >= 0 && !float.IsFinite(data[bad])) Throw(data[bad], bad / t.RowSize, bad % t.RowSize);
                return;
            }
            default:
            {
                int size = samples.RowSize, chunk = Math.Max(1, (1 << 16) / Math.Max(1, size));
                var buffer = new float[(long)chunk * size];
                for (int start = 0; start < samples.Rows; start += chunk)
                {
                    int count = Math.Min(chunk, samples.Rows - start);
                    var span = buffer.AsSpan(0, count * size);
                    samples.CopyRows(start, count, span);
                    int bad = System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude(span);
                    if (bad >= 0 && !float.IsFinite(span[bad])) Throw(span[bad], start + bad / size, bad % size);
                }
                return;
            }
        }
        void Throw(float value, int sample, int element) => throw new ArgumentException(
            $"{name} contains {value} at sample {sample}, element {element}: inputs and targets must be finite.");
    }
}
