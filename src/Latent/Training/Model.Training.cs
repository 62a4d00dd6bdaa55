using System.Diagnostics;
using System.Runtime.CompilerServices;
using Latent.Losses;
using Latent.Optimizers;

namespace Latent;

public partial class Model
{
    private Optimizer? _optimizer;
    private Loss[]? _losses;
    private double[] _lossWeights = [];
    private string[] _outputLossNames = [];
    private ParameterStore? _store;
    private ParameterStore? _optimizerStore;
    private GraphExecutor? _batchExecutor;   // Fit, TrainOnBatch on one core (or on user-defined sample sets)
    private DataParallelStep? _parallelStep; // Fit, TrainOnBatch split by samples across the cores
    private bool _stepIsParallel;
    private float[][]? _pendingPartials;    // replica gradients the next optimizer step adds as it updates
    private bool _stepUpdated;               // the last BatchGradients also updated the weights (inside the data-parallel step)
    private GraphExecutor? _evalExecutor;    // Evaluate, Predict
    private Weight[] _regularized = [];
    private bool _stopRequested;
    private string? _stopReason;
    private double[] _stepOutputLosses = [];  // the last step's per-output losses
    private double _stepPenalty, _stepAdded;
    private bool _gradientsReady;              // ComputeGradients left finite gradients for ApplyGradients

    /// <summary>The optimizer given to <see cref="Compile(Optimizer, Loss)"/>.</summary>
    public Optimizer? Optimizer => _optimizer;

    /// <summary>The loss of the first (for most models, the only) output.</summary>
    public Loss? Loss => _losses?[0];

    /// <summary>One loss per output, in output order; empty before Compile.</summary>
    public IReadOnlyList<Loss> Losses => _losses ?? [];

    /// <summary>The weight of each output's loss in the total, <c>total = Σⱼ wⱼ·lossⱼ</c>.</summary>
    public IReadOnlyList<double> LossWeights => _lossWeights;

    /// <summary>Whether <see cref="Compile(Optimizer, Loss)"/> has been called.</summary>
    public bool IsCompiled => _optimizer is not null && _losses is not null;

    /// <summary>
    /// Sets the optimizer and loss, by name (<c>Compile("adagrad", "binary_crossentropy")</c>) or as objects
    /// with overrides (<c>Compile(new Adadelta(learningRate: 0.5), new BinaryCrossentropy())</c>). A model with
    /// several outputs applies <paramref name="loss"/> to each.
    /// </summary>
    public void Compile(Optimizer optimizer, Loss loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Compile(optimizer, Enumerable.Repeat(loss, _outputs.Length).ToArray());
    }

    /// <summary>
    /// Sets the optimizer and one loss per output, Keras's <c>compile(optimizer, loss=[...], loss_weights=[...])</c>:
    /// the model minimises <c>Σⱼ wⱼ·lossⱼ</c> (plus penalties and the losses layers add).
    /// </summary>
    /// <param name="lossWeights">wⱼ, finite and ≥ 0; all 1 when null.</param>
    /// <exception cref="ArgumentException">Not one loss (and weight) per output, or a weight that is negative or not finite.</exception>
    public void Compile(Optimizer optimizer, IReadOnlyList<Loss> losses, IReadOnlyList<double>? lossWeights = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(losses);
        if (losses.Count != _outputs.Length || losses.Any(l => l is null))
            throw new ArgumentException($"Model '{Name}' has {_outputs.Length} output(s) ({string.Join(", ", _outputs.Select(o => o.Name))}); received {losses.Count} loss(es).", nameof(losses));
        if (lossWeights is not null && lossWeights.Count != _outputs.Length)
            throw new ArgumentException($"Model '{Name}' has {_outputs.Length} output(s); received {lossWeights.Count} loss weight(s).", nameof(lossWeights));
        if (lossWeights?.FirstOrDefault(w => !(w >= 0 && double.IsFinite(w)), 0) is double bad && bad != 0)
            throw new ArgumentOutOfRangeException(nameof(lossWeights), bad, $"Loss weights must be finite and ≥ 0. Received: {bad}.");
        _optimizer = optimizer;
        _losses = [.. losses];
        _lossWeights = lossWeights is null ? [.. Enumerable.Repeat(1.0, _outputs.Length)] : [.. lossWeights];
        _outputLossNames = OutputLossNames();
        _stepOutputLosses = new double[_outputs.Length];
        _optimizerStore = null;
        InvalidateExecutors();
    }

    /// <summary>"layer_loss" per output, Keras's history keys; a tensor listed twice gets "_2".</summary>
    private string[] OutputLossNames()
    {
        var names = new string[_outputs.Length];
        for (int j = 0; j < names.Length; j++)
        {
            string name = _outputs[j].Name + "_loss";
            int k = 2;
            while (names.Take(j).Contains(name)) name = $"{_outputs[j].Name}_loss_{k++}";
            names[j] = name;
        }
        return names;
    }

    private void InvalidateExecutors()
    {
        _batchExecutor = null;
        _parallelStep = null;
        _evalExecutor = null;
        _gradientsReady = false;
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
    /// <remarks>
    /// An exception from a layer during a step (a custom layer's bug, say) ends Fit with that exception. The weights then
    /// hold the last completed step's values, except that where the step runs data-parallel with its update inside
    /// (several cores, a share of the batch each), the layers after the one that threw may already have taken the failed
    /// step's update: their gradients were final before it failed.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The model is not compiled.</exception>
    /// <exception cref="ArgumentException">Empty data, mismatched shapes or sample counts, NaN or infinite values, batchSize ≤ 0.</exception>
    public History Fit(SampleSet x, SampleSet y, int epochs = 1, int batchSize = 32, bool shuffle = true,
                       (SampleSet X, SampleSet Y)? validationData = null, int verbose = 1,
                       IReadOnlyList<Callback>? callbacks = null, int? seed = null, int initialEpoch = 0,
                       TextWriter? output = null) =>
        FitCore(Single(x, "x"), Single(y, "y"), epochs, batchSize, shuffle,
                validationData is { } v ? (Single(v.X, "validation x"), Single(v.Y, "validation y")) : null,
                verbose, callbacks, seed, initialEpoch, output);

    /// <summary>
    /// <see cref="Fit(SampleSet, SampleSet, int, int, bool, ValueTuple{SampleSet, SampleSet}?, int, IReadOnlyList{Callback}?, int?, int, TextWriter?)"/>
    /// for a model with several inputs or outputs: one sample set per input in <paramref name="x"/> and one per
    /// output in <paramref name="y"/>, all with the same number of samples. <see cref="History"/> records each
    /// output's loss apart.
    /// </summary>
    public History Fit(IReadOnlyList<SampleSet> x, IReadOnlyList<SampleSet> y, int epochs = 1, int batchSize = 32, bool shuffle = true,
                       (IReadOnlyList<SampleSet> X, IReadOnlyList<SampleSet> Y)? validationData = null, int verbose = 1,
                       IReadOnlyList<Callback>? callbacks = null, int? seed = null, int initialEpoch = 0,
                       TextWriter? output = null) =>
        FitCore(Named(x, "x"), Named(y, "y"), epochs, batchSize, shuffle,
                validationData is { } v ? (Named(v.X, "validation x"), Named(v.Y, "validation y")) : null,
                verbose, callbacks, seed, initialEpoch, output);

    /// <summary>One sample set per model input (or output), and what to call them in messages.</summary>
    private readonly record struct Data(IReadOnlyList<SampleSet> Sets, string Name)
    {
        public string NameOf(int i) => Sets.Count == 1 ? Name : $"{Name}[{i}]";
    }

    private static Data Single(SampleSet set, string name) => new([set], name);

    private static Data Named(IReadOnlyList<SampleSet> sets, string name)
    {
        ArgumentNullException.ThrowIfNull(sets, name);
        return new(sets, name);
    }

    // TrainOnBatch(x, y) reuses these rather than allocate two one-element arrays per step.
    private readonly SampleSet[] _oneX = new SampleSet[1], _oneY = new SampleSet[1];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private History FitCore(Data x, Data y, int epochs, int batchSize, bool shuffle, (Data X, Data Y)? validationData,
                            int verbose, IReadOnlyList<Callback>? callbacks, int? seed, int initialEpoch, TextWriter? output)
    {
        RequireCompiled(nameof(Fit));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"Expected epochs ≥ 0. Received: epochs={epochs}.");
        if (initialEpoch < 0) throw new ArgumentOutOfRangeException(nameof(initialEpoch), initialEpoch, "Expected initialEpoch ≥ 0.");
        CheckData(x, y);
        if (validationData is { } vd) CheckData(vd.X, vd.Y);
        var cbs = callbacks?.ToArray() ?? [];
        var writer = output ?? Console.Out;
        var xs = x.Sets;
        var ys = y.Sets;

        int n = xs[0].Rows;
        int capacity = Math.Min(batchSize, n);
        ulong baseSeed = seed is int s ? (ulong)(uint)s : Randomness.NextSeed();
        var store = EnsureStore();
        PlanStep(xs, ys, capacity, exact: true, baseSeed, TargetSources(xs, ys, compareContent: true));
        var evalEx = validationData is null ? null : EvalExecutor(Math.Min(batchSize, validationData.Value.X.Sets[0].Rows));
        float[]? lastGood = cbs.Any(c => c.NeedsLastGoodWeights) ? new float[store.Length] : null;
        var order = new int[n];
        var history = new History();
        foreach (var name in _outputLossNames) { history.OutputLosses[name] = []; if (validationData is not null) history.ValOutputLosses[name] = []; }
        bool multiOutput = _outputs.Length > 1;
        var outputSums = new double[_outputs.Length];
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

            double lossSum = 0, penaltySum = 0, addedSum = 0;
            Array.Clear(outputSums);
            int seen = 0;
            for (int b = 0; b < batches && !_stopRequested; b++)
            {
                int start = b * batchSize, count = Math.Min(batchSize, n - start);
                foreach (var cb in cbs) cb.OnBatchBegin(b);
                double loss = Step(BatchGradients(xs, ys, order, start, count, withUpdate: lastGood is null), lastGood);
                if (!double.IsFinite(loss) && lastGood is not null)
                {
                    // lastGood holds the store's values before the latest update: finite, and with a finite loss.
                    lastGood.CopyTo(store.Values, 0);
                    RequestStop($"batch {b + 1} of epoch {epoch + 1}: the loss or the weights became {loss}; " +
                                "training stopped and the last weights with a finite loss were restored");
                    break;
                }
                lossSum += loss * count;
                penaltySum += _stepPenalty * count;
                addedSum += _stepAdded * count;
                for (int j = 0; j < outputSums.Length; j++) outputSums[j] += _stepOutputLosses[j] * count;
                seen += count;
                foreach (var cb in cbs) cb.OnBatchEnd(b, loss);
                progress?.Update(b + 1, lossSum / seen, clock.Elapsed.TotalSeconds);
            }
            if (seen == 0) break;

            Evaluation? val = null;
            if (validationData is { } v && evalEx is not null) val = EvaluateCore(evalEx, v.X.Sets, v.Y.Sets, evalEx.Capacity);
            double seconds = clock.Elapsed.TotalSeconds;
            var outputLogs = new Dictionary<string, double>();
            for (int j = 0; j < _outputs.Length; j++)
            {
                history.OutputLosses[_outputLossNames[j]].Add(outputSums[j] / seen);
                if (multiOutput) outputLogs[_outputLossNames[j]] = outputSums[j] / seen;
                if (val is not null)
                {
                    history.ValOutputLosses[_outputLossNames[j]].Add(val.OutputLosses[j]);
                    if (multiOutput) outputLogs["val_" + _outputLossNames[j]] = val.OutputLosses[j];
                }
            }
            var logs = new EpochLogs(epoch, lossSum / seen, penaltySum / seen, val?.Loss, val?.Penalty, seconds)
            {
                AddedLoss = addedSum / seen,
                ValAddedLoss = val?.AddedLoss,
                OutputLosses = outputLogs,
            };
            history.Epochs.Add(epoch);
            history.Loss.Add(logs.Loss);
            history.Penalty.Add(logs.Penalty);
            history.AddedLoss.Add(logs.AddedLoss);
            if (val is not null) { history.ValLoss.Add(val.Loss); history.ValPenalty.Add(val.Penalty); history.ValAddedLoss.Add(val.AddedLoss); }
            history.Seconds.Add(seconds);
            progress?.Finish();
            if (verbose > 0) writer.WriteLine(FormatEpoch(logs, epochs, AddedLossName));
            foreach (var cb in cbs) cb.OnEpochEnd(logs);
        }
        foreach (var cb in cbs) cb.OnTrainEnd();
        history.StopReason = _stopReason;
        if (verbose > 0 && _stopReason is not null) writer.WriteLine($"Stopped: {_stopReason}.");
        return history;
    }

    /// <summary>What the epoch line calls the added losses: "kl" when they come from VAE sampling layers alone.</summary>
    public string AddedLossName => _layers.Any(l => l is Layers.Sampling) ? "kl" : "added_loss";

    /// <summary>
    /// The line printed after each epoch: <c>Epoch 3/100 - 1.2s - loss: 0.1032 - val_loss: 0.1011</c>; with added
    /// losses (a VAE's KL) also the data loss apart, <c>loss: 161.7 - reconstruction: 156.5 - kl: 5.2</c>.
    /// </summary>
    public static string FormatEpoch(EpochLogs logs, int epochs, string addedName = "added_loss")
    {
        ArgumentNullException.ThrowIfNull(logs);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var line = string.Create(inv, $"Epoch {logs.Epoch + 1}/{epochs} - {logs.Seconds:F1}s - loss: {logs.Loss:F4}");
        foreach (var (name, value) in logs.OutputLosses.Where(p => !p.Key.StartsWith("val_", StringComparison.Ordinal)))
            line += string.Create(inv, $" - {name}: {value:F4}");
        if (logs.Penalty != 0) line += string.Create(inv, $" - penalty: {logs.Penalty:F4}");
        if (logs.AddedLoss != 0)
            line += string.Create(inv, $" - reconstruction: {logs.Loss - logs.Penalty - logs.AddedLoss:F4} - {addedName}: {logs.AddedLoss:F4}");
        if (logs.ValLoss is double v) line += string.Create(inv, $" - val_loss: {v:F4}");
        return line;
    }

    /// <summary>
    /// One optimizer step on one batch, Keras's <c>train_on_batch</c>; returns the loss (penalties and added losses
    /// included) before the update. Allocates nothing once the first call has planned its buffers.
    /// </summary>
    public double TrainOnBatch(SampleSet x, SampleSet y)
    {
        (_oneX[0], _oneY[0]) = (x, y);
        try { return TrainOnBatchCore(new(_oneX, "x"), new(_oneY, "y")); }
        finally { (_oneX[0], _oneY[0]) = (null!, null!); }
    }

    /// <summary><see cref="TrainOnBatch(SampleSet, SampleSet)"/> for several inputs and outputs.</summary>
    public double TrainOnBatch(IReadOnlyList<SampleSet> x, IReadOnlyList<SampleSet> y) => TrainOnBatchCore(Named(x, "x"), Named(y, "y"));

    private double TrainOnBatchCore(Data x, Data y)
    {
        RequireCompiled(nameof(TrainOnBatch));
        PrepareBatch(x, y);
        return Step(BatchGradients(x.Sets, y.Sets, null, 0, x.Sets[0].Rows, withUpdate: true), null);
    }

    private void PrepareBatch(Data x, Data y)
    {
        CheckData(x, y);
        EnsureStore();
        PlanStep(x.Sets, y.Sets, x.Sets[0].Rows, exact: false, Randomness.NextSeed(), TargetSources(x.Sets, y.Sets, compareContent: false));
    }

    /// <summary>
    /// The gradient of the total loss on one batch for every weight, without updating anything: the first half of
    /// a custom training loop. Read or change the gradients through the result, then call
    /// <see cref="ApplyGradients"/> for one optimizer step with them:
    /// <code>
    /// var g = model.ComputeGradients([x], [y]);
    /// foreach (var w in model.Weights) TensorPrimitives.Multiply(g.Of(w), 0.5f, g.Of(w)); // any change
    /// model.ApplyGradients();
    /// </code>
    /// The gradients live in the model's gradient buffer until the next training call.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is not compiled.</exception>
    public Gradients ComputeGradients(IReadOnlyList<SampleSet> x, IReadOnlyList<SampleSet> y)
    {
        RequireCompiled(nameof(ComputeGradients));
        var dx = Named(x, "x");
        var dy = Named(y, "y");
        PrepareBatch(dx, dy);
        double total = BatchGradients(dx.Sets, dy.Sets, null, 0, dx.Sets[0].Rows);
        if (_pendingPartials is { } partials)
        {
            var grads = _store!.Grads.AsSpan(0, _store.Length);
            foreach (var p in partials) Kernels.Simd.Add(grads, p, grads);
            _pendingPartials = null;
        }
        _gradientsReady = double.IsFinite(total);
        return new Gradients(this, _store!, total, [.. _stepOutputLosses], _stepPenalty, _stepAdded);
    }

    /// <summary><see cref="ComputeGradients(IReadOnlyList{SampleSet}, IReadOnlyList{SampleSet})"/> for one input and one output.</summary>
    public Gradients ComputeGradients(SampleSet x, SampleSet y) => ComputeGradients([x], [y]);

    /// <summary>One optimizer step (clipping included) with the gradients the last <see cref="ComputeGradients(IReadOnlyList{SampleSet}, IReadOnlyList{SampleSet})"/> left, as they are now.</summary>
    /// <exception cref="InvalidOperationException">No gradients to apply: ComputeGradients was not called since the last step, or its loss was not finite.</exception>
    public void ApplyGradients()
    {
        RequireCompiled(nameof(ApplyGradients));
        if (!_gradientsReady || _store is null || !WeightsAreInStore())
            throw new InvalidOperationException($"Model '{Name}' has no gradients to apply: call ComputeGradients first (and check that its loss is finite).");
        _gradientsReady = false;
        _optimizer!.Apply(_store, _weights);
    }

    /// <summary>The loss (penalties and added losses included) on (x, y), in batches: the batch-size-weighted mean, Keras's <c>evaluate</c>.</summary>
    /// <remarks>An activity penalty summed over the batch (the default) grows with <paramref name="batchSize"/>; compare runs at one batch size, or use <see cref="EvaluateAll(IReadOnlyList{SampleSet}, IReadOnlyList{SampleSet}, int)"/>.</remarks>
    public double Evaluate(SampleSet x, SampleSet y, int batchSize = 32) => EvaluateParts(x, y, batchSize).Loss;

    /// <summary>Like <see cref="Evaluate"/>, also returning everything that is not the data loss (penalties and added losses): <c>Loss − Penalty</c> is the data loss.</summary>
    public (double Loss, double Penalty) EvaluateParts(SampleSet x, SampleSet y, int batchSize = 32)
    {
        var e = EvaluateAllCore(Single(x, "x"), Single(y, "y"), batchSize);
        return (e.Loss, e.Penalty + e.AddedLoss);
    }

    /// <summary>The total loss and its parts on (x, y): each output's loss, the penalties and the added losses.</summary>
    public Evaluation EvaluateAll(IReadOnlyList<SampleSet> x, IReadOnlyList<SampleSet> y, int batchSize = 32) =>
        EvaluateAllCore(Named(x, "x"), Named(y, "y"), batchSize);

    /// <summary><see cref="EvaluateAll(IReadOnlyList{SampleSet}, IReadOnlyList{SampleSet}, int)"/> for one input and one output.</summary>
    public Evaluation EvaluateAll(SampleSet x, SampleSet y, int batchSize = 32) => EvaluateAllCore(Single(x, "x"), Single(y, "y"), batchSize);

    private Evaluation EvaluateAllCore(Data x, Data y, int batchSize)
    {
        RequireCompiled(nameof(Evaluate));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        CheckData(x, y);
        int cap = Math.Min(batchSize, x.Sets[0].Rows);
        return EvaluateCore(EvalExecutor(cap), x.Sets, y.Sets, cap);
    }

    /// <summary>The model's output for every sample of <paramref name="x"/>, computed in batches (one input, one output).</summary>
    /// <returns>A tensor of shape (samples, …output shape).</returns>
    /// <exception cref="NotSupportedException">The model has several inputs or outputs: use <see cref="PredictAll(IReadOnlyList{SampleSet}, int)"/>.</exception>
    public Tensor Predict(SampleSet x, int batchSize = 32)
    {
        if (_inputs.Length != 1 || _outputs.Length != 1)
            throw new NotSupportedException($"Model '{Name}' has {_inputs.Length} inputs and {_outputs.Length} outputs; Predict supports one of each (PredictAll returns every output).");
        return PredictCore(Single(x, "x"), batchSize)[0];
    }

    /// <summary>Every output of the model for every sample of <paramref name="x"/> (a model with one input), in output order.</summary>
    public IReadOnlyList<Tensor> PredictAll(SampleSet x, int batchSize = 32) => PredictCore(Single(x, "x"), batchSize);

    /// <summary>Every output of the model for the samples of <paramref name="x"/> (one set per input), in output order.</summary>
    public IReadOnlyList<Tensor> PredictAll(IReadOnlyList<SampleSet> x, int batchSize = 32) => PredictCore(Named(x, "x"), batchSize);

    private Tensor[] PredictCore(Data x, int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        CheckData(x, null);
        var xs = x.Sets;
        int n = xs[0].Rows, cap = Math.Min(batchSize, n);
        var ex = EvalExecutor(cap);
        ex.Reseed(0); // layers that draw at inference (a VAE's sampling) give the same result on every call
        var results = _outputs.Select(o => new Tensor([n, .. o.ShapeArray])).ToArray();
        for (int start = 0; start < n; start += cap)
        {
            int count = Math.Min(cap, n - start);
            for (int i = 0; i < xs.Count; i++) xs[i].CopyRows(start, count, ex.Input(i, count));
            ex.Forward(count, training: false);
            for (int j = 0; j < results.Length; j++)
            {
                int size = ex.OutputSize(j);
                ex.Output(j, count).CopyTo(results[j].Span.Slice(start * size, count * size));
            }
        }
        return results;
    }

    /// <summary>
    /// Each sample's loss on (x, y) by the compiled loss, without penalties or added losses: a reconstruction error
    /// per sample, the score of an autoencoder anomaly detector. Computed on the output <see cref="Predict"/> gives
    /// (binary cross-entropy clipped as Keras clips it), each sample reduced as the loss reduces one sample (the mean
    /// over its values, or their sum for <see cref="Losses.LossReduction.SumOverFeatures"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is not compiled, or has several outputs.</exception>
    /// <exception cref="ArgumentException">x and y differ in rows, or y does not fit the output.</exception>
    public double[] LossPerSample(SampleSet x, SampleSet y, int batchSize = 256)
    {
        RequireCompiled(nameof(LossPerSample));
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (_outputs.Length != 1) throw new InvalidOperationException($"Model '{Name}' has {_outputs.Length} outputs; LossPerSample scores single-output models.");
        if (x.Rows != y.Rows) throw new ArgumentException($"x has {x.Rows} samples and y {y.Rows}.", nameof(y));
        int size = _outputs[0].Size;
        if (y.RowSize != size) throw new ArgumentException($"y has {y.RowSize} values per sample; the output has {size}.", nameof(y));
        var result = new double[x.Rows];
        var target = new float[(long)Math.Min(batchSize, Math.Max(1, x.Rows)) * size];
        var loss = _losses![0];
        // A masked output is scored on its kept steps, as its loss is (GraphExecutor.MaskedLoss), so padding does not count.
        var withMask = _outputs[0].Mask is { } mask ? new Model(_inputs, [_outputs[0], mask], name: $"{Name}_with_mask") : null;
        int steps = _outputs[0].Mask?.Size ?? 1;
        for (int start = 0; start < x.Rows; start += batchSize)
        {
            int count = Math.Min(batchSize, x.Rows - start);
            var xb = new Tensor([count, .. x.Shape.Skip(1)]);
            x.CopyRows(start, count, xb.Span);
            var outs = withMask is null ? [Predict(xb, batchSize)] : withMask.PredictAll([xb], batchSize);
            var pred = outs[0].Span;
            y.CopyRows(start, count, target.AsSpan(0, count * size));
            for (int i = 0; i < count; i++)
            {
                if (withMask is null)
                {
                    result[start + i] = loss.Compute(pred.Slice(i * size, size), target.AsSpan(i * size, size), default, samples: 1);
                    continue;
                }
                result[start + i] = loss.MaskedMean(pred.Slice(i * size, size), target.AsSpan(i * size, size), default,
                                                    outs[1].Span.Slice(i * steps, steps), loss.Denominator(1, size));
            }
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

    /// <summary>Whether the last planned training step is the data-parallel one (tests).</summary>
    internal bool StepIsParallel => _stepIsParallel;

    /// <summary>Dense calls whose kernel gradients the last planned data-parallel step computes itself (tests).</summary>
    internal int StepDeferred => _stepIsParallel && _parallelStep is not null ? _parallelStep.DeferredCount : 0;

    /// <summary>How many kernel gradients the last data-parallel step ran as tasks after its replicas' backward passes (tests).</summary>
    internal int StepPosted => _stepIsParallel && _parallelStep is not null ? _parallelStep.PostedCount : 0;

    /// <summary>Whether the last data-parallel step ran its replicas on the calling thread alone (tests).</summary>
    internal bool StepRanAlone => _stepIsParallel && _parallelStep is not null && _parallelStep.LastRanAlone;

    /// <summary>Replicas of the last planned data-parallel step (tests); 1 when the step is not data-parallel.</summary>
    internal int StepReplicas => _stepIsParallel && _parallelStep is not null ? _parallelStep.Replicas : 1;

    /// <summary>
    /// Fewest samples per core in a data-parallel step (a test knob): smaller shares make multiplies too thin to run
    /// well, and every replica costs a gradient array. A batch of 32 on 2 cores splits in two; on 64 cores, in four.
    /// </summary>
    internal static int ParallelStepMinRows = 8;

    /// <summary>Replicas per core in a data-parallel step: 0 chooses (<see cref="ReplicaCount"/>); a bench knob.</summary>
    internal static int ReplicasPerCore = 0;

    /// <summary>
    /// Shares of fewer rows than this run as one executor on the whole batch instead (a knob), when every layer with
    /// weights is a Dense layer whose product at the whole batch the multiply splits across the cores anyway (at least
    /// <see cref="Kernels.Gemm.ParallelFlops"/>): each replica writes a whole weight gradient for the optimizer to add,
    /// which a small share's work may not repay. The notebook's simple model at batch 32 (shares of 16) stepped 3–13%
    /// faster on one executor when this was set; since its shares multiply their sparse inputs, the two are even on a
    /// calm machine and the shares 10–21% faster when the machine is slow (one executor's many hand-offs between
    /// the cores each wait), so shares of 16 rows now stay shares. At batch 16 the products fall under the split
    /// threshold, and shares win (docs/PERFORMANCE.md).
    /// </summary>
    internal static int WholeBatchBelowRows = 16;

    /// <summary>Whether every layer with weights is a Dense layer whose forward product over <paramref name="capacity"/> rows is split across the cores.</summary>
    private bool EveryProductSplits(int capacity)
    {
        bool any = false;
        foreach (var layer in Layers)
        {
            if (layer.Weights.Count == 0) continue;
            if (layer is not Layers.Dense { Kernel: { } kernel } || 2L * capacity * kernel.Length < Kernels.Gemm.ParallelFlops) return false;
            any = true;
        }
        return any;
    }

    /// <summary>Most floats that the replicas' extra gradient arrays may hold together when a core runs several.</summary>
    private const long PartialGradientBudget = 1 << 20;

    /// <summary>
    /// How many replicas a data-parallel step over <paramref name="capacity"/> samples has: one per core, or, when a
    /// share's largest activation (one layer's output for all its samples) would not fit in the core's L2 cache, more,
    /// each core running several in turn, until it does or a share is down to <see cref="ParallelStepMinRows"/> samples.
    /// Why: a convolution's output then is still in L2 when the next layer (a pooling, an up-sampling, the next
    /// convolution) reads it, instead of going out to L3 and back: the blog's conv autoencoder steps ~9% faster with
    /// shares of 8 than of 64. The extra replicas' gradient arrays are summed by the optimizer, so models with many
    /// weights (dense ones) keep one replica per core (<see cref="PartialGradientBudget"/>); layers that meet across
    /// replicas (<see cref="Layers.Layer.SumsOverShares"/>) need one per core. A dense model with small shares whose
    /// products are split across the cores anyway gets no replicas at all (<see cref="WholeBatchBelowRows"/>).
    /// </summary>
    private int ReplicaCount(int capacity)
    {
        int threads = Kernels.ComputePool.Shared.Threads;
        long byRows = capacity / Math.Max(1L, ParallelStepMinRows);
        int replicas = (int)Math.Min(threads, byRows);
        if (replicas < threads || _sumsOverShares) return replicas;
        if (ReplicasPerCore > 0) return (int)Math.Min((long)threads * ReplicasPerCore, byRows);
        if (capacity / threads < WholeBatchBelowRows && EveryProductSplits(capacity)) return 1;
        long largest = 1;
        foreach (var node in Nodes)
            foreach (var t in node.Outputs)
                largest = Math.Max(largest, t.Size);
        long fits = Kernels.CacheSizes.L2Bytes / (largest * sizeof(float));
        long parameters = _store?.Length ?? 0;
        while (replicas < 16 * threads && (capacity + replicas - 1) / replicas > fits && 2L * replicas <= byRows &&
               (2L * replicas - 1) * parameters <= PartialGradientBudget)
            replicas *= 2;
        return replicas;
    }

    /// <summary>
    /// Plans (or reuses) what runs Fit's and TrainOnBatch's steps: a <see cref="DataParallelStep"/> over the cores for
    /// the library's sample sets, whose rows can be read from several threads at once; one executor otherwise.
    /// Reused across calls: fresh buffers cost a page fault per 4 KB on first touch.
    /// </summary>
    private void PlanStep(IReadOnlyList<SampleSet> xs, IReadOnlyList<SampleSet> ys, int capacity, bool exact, ulong seed, int[] targetInputs)
    {
        int replicas = ReplicaCount(capacity);
        // Replicas read rows from several threads at once (SampleSet.ReadableConcurrently).
        // Layers are safe by contract (no per-call state in fields; see Layer), the user's as well as ours.
        _stepIsParallel = replicas > 1 && AllLibrarySets(xs) && AllLibrarySets(ys) && !_needsWholeBatch &&
                          (!_sumsOverShares || replicas <= Kernels.ComputePool.Shared.ThreadsHere);
        if (_stepIsParallel)
        {
            if (_parallelStep is null || !ReferenceEquals(_parallelStep.Store, _store) ||
                (exact ? _parallelStep.Capacity != capacity : _parallelStep.Capacity < capacity) || _parallelStep.Replicas != replicas)
                _parallelStep = new DataParallelStep(this, capacity, _losses!, _lossWeights, seed, _store!, replicas, _sumsOverShares);
            _parallelStep.SetTargetInputs(targetInputs);
        }
        else
        {
            if (_batchExecutor is null || (exact ? _batchExecutor.Capacity != capacity : _batchExecutor.Capacity < capacity))
                _batchExecutor = new GraphExecutor(this, capacity, withGradients: true, _losses, _lossWeights, seed);
            for (int j = 0; j < targetInputs.Length; j++) _batchExecutor.SetTargetInput(j, targetInputs[j]);
        }
        static bool AllLibrarySets(IReadOnlyList<SampleSet> sets)
        {
            for (int i = 0; i < sets.Count; i++) if (!sets[i].ReadableConcurrently) return false;
            return true;
        }
    }

    /// <summary>Whether a data-parallel step may run the optimizer's update inside its own job (a bench knob).</summary>
    internal static bool UpdateInStep = true;

    /// <summary>
    /// Every weight's gradient of the total loss on rows <c>order[start..start+count)</c> (rows
    /// <c>[start, start+count)</c> without an order), by the step <see cref="PlanStep"/> chose; returns that total and
    /// leaves its parts in <see cref="_stepOutputLosses"/>, <see cref="_stepPenalty"/> and <see cref="_stepAdded"/>.
    /// With <paramref name="withUpdate"/> a data-parallel step may also run the optimizer's update, as far as the
    /// gradients of each range are final (<see cref="DataParallelStep.Run"/>); then <see cref="Step"/> only counts it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private double BatchGradients(IReadOnlyList<SampleSet> xs, IReadOnlyList<SampleSet> ys, int[]? order, int start, int count, bool withUpdate = false)
    {
        _stepUpdated = false;
        if (_stepIsParallel)
        {
            var step = _parallelStep!;
            // Weight penalties add to the gradients after the replicas, so those steps update afterwards.
            bool inStep = withUpdate && UpdateInStep && _regularized.Length == 0 && !_sumsOverShares && _optimizer!.UpdatesByRange(_store!, _weights);
            double data = step.Run(xs, ys, order, start, count, inStep ? _optimizer : null);
            _stepUpdated = step.UpdateApplied;
            _pendingPartials = _stepUpdated ? null : step.Partials; // the optimizer adds them as it updates
            step.OutputLosses.CopyTo(_stepOutputLosses, 0);
            _stepPenalty = step.Penalty + WeightPenalty();
            _stepAdded = step.AddedLoss;
            double total = data + _stepPenalty + _stepAdded;
            if (double.IsFinite(total)) AddWeightPenaltyGradients();
            return total;
        }
        var ex = _batchExecutor!;
        for (int i = 0; i < xs.Count; i++)
        {
            if (order is not null) RowGather.Copy(xs[i], order, start, count, ex.InputBuffer(i));
            else xs[i].CopyRows(start, count, ex.Input(i, count));
        }
        for (int j = 0; j < ys.Count; j++)
        {
            if (ex.TargetInput(j) >= 0) continue;
            if (order is not null) ys[j].CopyRows(order.AsSpan(start, count), ex.Targets(j));
            else ys[j].CopyRows(start, count, ex.Targets(j));
        }
        return ComputeStepGradients(ex, count);
    }

    /// <summary>One optimizer step with the gradients in the store, unless <paramref name="total"/> (the batch's loss) is not finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private double Step(double total, float[]? lastGood)
    {
        var partials = _pendingPartials;
        _pendingPartials = null;
        _gradientsReady = false;
        if (_stepUpdated)
        {
            _stepUpdated = false;
            _optimizer!.CountStep();
            return total;
        }
        if (!double.IsFinite(total)) return total;
        if (lastGood is null)
        {
            _optimizer!.Apply(_store!, _weights, partials);
            return total;
        }
        _store!.Values.AsSpan(0, _store.Length).CopyTo(lastGood);
        _optimizer!.Apply(_store, _weights, partials);
        // An update can overflow weights while the loss stays finite (a ReLU hides them): undo such a step.
        var values = _store.Values;
        if (Kernels.FiniteScan.FirstNonFinite(values) >= 0)
        {
            lastGood.CopyTo(values, 0);
            return double.NaN;
        }
        return total;
    }

    /// <summary>
    /// Forward and backward on the batch already in the executor: fills every weight's gradient of the total
    /// loss (data losses + penalties + added losses) and returns that total. Skips backward when it is not finite.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal double ComputeStepGradients(GraphExecutor ex, int count)
    {
        ex.Forward(count, training: true, needOutput: false);
        double data = ex.ComputeLosses(count, withGradient: true);
        ex.OutputLosses.CopyTo(_stepOutputLosses, 0);
        _stepPenalty = ex.Penalty + WeightPenalty();
        _stepAdded = ex.AddedLoss;
        double total = data + _stepPenalty + _stepAdded;
        if (!double.IsFinite(total))
        {
            _store!.Grads.AsSpan().Clear();
            return total;
        }
        ex.PrepareWeightGrads(_store!.Grads);
        ex.Backward(count);
        AddWeightPenaltyGradients();
        return total;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
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
        return ex.ComputeLosses(count, withGradient: false) + ex.Penalty + ex.AddedLoss + WeightPenalty();
    }

    /// <summary>Fit's training step on rows <c>order[start..start+count)</c> of an autoencoder's inputs (benchmarks).</summary>
    internal double FitStepForBench(SampleSet x, int[] order, int start, int count)
    {
        SampleSet[] xs = [x];
        EnsureStore();
        PlanStep(xs, xs, count, exact: true, 1, [0]); // again each call, so knobs that change the plan take effect
        return Step(BatchGradients(xs, xs, order, start, count, withUpdate: true), null);
    }

    /// <summary>One optimizer step with the gradients already computed (benchmarks time the phases apart).</summary>
    internal void ApplyOptimizerForBench(float[][]? partials = null) => _optimizer!.Apply(_store!, _weights, partials);

    /// <summary>Plans a data-parallel step over every core for benchmarks (its Run leaves the gradients in the store).</summary>
    internal DataParallelStep CreateParallelStepForBench(int capacity, ulong seed)
    {
        RequireCompiled("training");
        EnsureStore();
        return new DataParallelStep(this, capacity, _losses!, _lossWeights, seed, _store!, Math.Max(1, ReplicaCount(capacity)), _sumsOverShares);
    }

    /// <summary>Plans a training executor for tests and moves the weights into this model's store.</summary>
    internal GraphExecutor CreateTrainingExecutor(int capacity, ulong seed)
    {
        RequireCompiled("training");
        EnsureStore();
        return new GraphExecutor(this, capacity, withGradients: true, _losses, _lossWeights, seed);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private double WeightPenalty()
    {
        double p = 0;
        for (int i = 0; i < _regularized.Length; i++) p += _regularized[i].Regularizer!.Penalty(_regularized[i].Values);
        return p;
    }

    private Evaluation EvaluateCore(GraphExecutor ex, IReadOnlyList<SampleSet> xs, IReadOnlyList<SampleSet> ys, int batchSize)
    {
        int n = xs[0].Rows;
        double weightPenalty = WeightPenalty(), lossSum = 0, penaltySum = 0, addedSum = 0;
        var outputSums = new double[_outputs.Length];
        var sources = TargetSources(xs, ys, compareContent: true);
        for (int j = 0; j < sources.Length; j++) ex.SetTargetInput(j, sources[j]);
        ex.Reseed(0);
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            for (int i = 0; i < xs.Count; i++) xs[i].CopyRows(start, count, ex.Input(i, count));
            for (int j = 0; j < ys.Count; j++) if (sources[j] < 0) ys[j].CopyRows(start, count, ex.Targets(j));
            ex.Forward(count, training: false, needOutput: false);
            double data = ex.ComputeLosses(count, withGradient: false);
            double penalty = ex.Penalty + weightPenalty;
            lossSum += (data + penalty + ex.AddedLoss) * count;
            penaltySum += penalty * count;
            addedSum += ex.AddedLoss * count;
            for (int j = 0; j < outputSums.Length; j++) outputSums[j] += ex.OutputLosses[j] * count;
        }
        return new Evaluation(lossSum / n, outputSums.Select(s => s / n).ToArray(), penaltySum / n, addedSum / n);
    }

    private GraphExecutor EvalExecutor(int capacity)
    {
        if (_evalExecutor is null || _evalExecutor.Capacity < capacity)
            _evalExecutor = new GraphExecutor(this, capacity, withGradients: false, _losses, _losses is null ? null : _lossWeights, 0);
        return _evalExecutor;
    }

    /// <summary>
    /// Moves the weights into one contiguous store owned by this model, unless they are already there, and
    /// (re)builds the optimizer's state for it. Another model that shares layers then reads the same store.
    /// </summary>
    private ParameterStore EnsureStore()
    {
        if (_store is null || !WeightsAreInStore()) _store = ParameterStore.For(_weights);
        if (!ReferenceEquals(_optimizerStore, _store))
        {
            _optimizer!.Build(_store.Length, _store.NewInPhase);
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
    /// For each output, the input whose data are its targets (an autoencoder's), or −1, so the loss can read the
    /// input buffer. With <paramref name="compareContent"/> equal copies count too (<c>Fit(xs, xs)</c> on a
    /// <c>float[,]</c> converts it twice); that one vectorised pass per Fit saves a copy of every batch.
    /// </summary>
    private int[] TargetSources(IReadOnlyList<SampleSet> xs, IReadOnlyList<SampleSet> ys, bool compareContent)
    {
        var sources = _targetSources.Length == ys.Count ? _targetSources : _targetSources = new int[ys.Count];
        for (int j = 0; j < ys.Count; j++)
        {
            sources[j] = -1;
            for (int i = 0; i < xs.Count && sources[j] < 0; i++)
                if (_inputs[i].Size == _outputs[j].Size && SameData(xs[i], ys[j], compareContent)) sources[j] = i;
        }
        return sources;
    }

    private int[] _targetSources = [];

    private static bool SameData(SampleSet x, SampleSet y, bool compareContent) =>
        x.Rows == y.Rows && x.RowSize == y.RowSize &&
        (ReferenceEquals(x, y) || (x, y) switch
        {
            (Tensor a, Tensor b) => ReferenceEquals(a.Data, b.Data) || compareContent && a.Span.SequenceEqual(b.Span),
            (ByteTensor a, ByteTensor b) => a.Divisor == b.Divisor && (ReferenceEquals(a.Data, b.Data) || compareContent && a.Span.SequenceEqual(b.Span)),
            (ArraySampleSet a, ArraySampleSet b) => ReferenceEquals(a.Values, b.Values) || compareContent && a.All.SequenceEqual(b.All),
            _ => false,
        });

    /// <summary>Checks one set per input (and per output, when <paramref name="y"/> is given): counts, sizes, sample counts, finite values.</summary>
    private void CheckData(Data x, Data? y)
    {
        if (x.Sets.Count != _inputs.Length)
            throw new ArgumentException($"Model '{Name}' has {_inputs.Length} input(s) ({string.Join(", ", _inputs.Select(i => i.Name))}); received {x.Sets.Count} input set(s).");
        for (int i = 0; i < x.Sets.Count; i++)
        {
            var set = x.Sets[i];
            string name = x.NameOf(i);
            ArgumentNullException.ThrowIfNull(set, name);
            if (set.Shape.Count == 0 || set.Rows == 0)
                throw new ArgumentException($"{name} is empty: received shape {ShapeUtil.Format(set.Shape.ToArray())}.");
            var input = _inputs[i];
            if (set.RowSize != input.Size)
                throw new ArgumentException(
                    $"Model '{Name}' input {input.Name} expects {input.Size} features per sample {ShapeUtil.FormatBatch(input.ShapeArray)}, " +
                    $"received {set.RowSize} ({name} has shape {ShapeUtil.Format(set.Shape.ToArray())}).");
            if (set.Rows != x.Sets[0].Rows)
                throw new ArgumentException($"{x.NameOf(0)} has {x.Sets[0].Rows} samples but {name} has {set.Rows}.");
            CheckFinite(set, name);
        }
        if (y is not { } targets) return;
        if (targets.Sets.Count != _outputs.Length)
            throw new ArgumentException($"Model '{Name}' has {_outputs.Length} output(s) ({string.Join(", ", _outputs.Select(o => o.Name))}); received {targets.Sets.Count} target set(s).");
        int rows = x.Sets[0].Rows;
        for (int j = 0; j < targets.Sets.Count; j++)
        {
            var set = targets.Sets[j];
            string name = targets.NameOf(j);
            ArgumentNullException.ThrowIfNull(set, name);
            if (set.Shape.Count == 0 || set.Rows != rows)
                throw new ArgumentException($"{x.NameOf(0)} has {rows} samples but {name} has {(set.Shape.Count == 0 ? 0 : set.Rows)}.");
            var output = _outputs[j];
            if (set.RowSize != output.Size)
                throw new ArgumentException(
                    $"Model '{Name}' output {output.Name} has {output.Size} values per sample {ShapeUtil.FormatBatch(output.ShapeArray)}, " +
                    $"but {name} has {set.RowSize} (shape {ShapeUtil.Format(set.Shape.ToArray())}).");
            bool isAnInput = false;
            for (int i = 0; i < x.Sets.Count; i++) isAnInput |= ReferenceEquals(x.Sets[i], set) || SameData(x.Sets[i], set, compareContent: false);
            if (!isAnInput) CheckFinite(set, name);
        }
    }

    /// <summary>One pass over the data, once per call of Fit/Evaluate/Predict; bytes need none.</summary>
    private static void CheckFinite(SampleSet samples, string name)
    {
        switch (samples)
        {
            case ByteTensor:
                return; // bytes over a finite, positive divisor are finite
            case ArraySampleSet or Tensor:
            {
                var data = samples is Tensor t ? t.Span : ((ArraySampleSet)samples).All;
                int bad = Kernels.FiniteScan.FirstNonFinite(data);
                if (bad >= 0) Throw(data[bad], bad / samples.RowSize, bad % samples.RowSize);
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
                    int bad = Kernels.FiniteScan.FirstNonFinite(span);
                    if (bad >= 0) Throw(span[bad], start + bad / size, bad % size);
                }
                return;
            }
        }
        void Throw(float value, int sample, int element) => throw new ArgumentException(
            $"{name} contains {value} at sample {sample}, element {element}: inputs and targets must be finite.");
    }
}
