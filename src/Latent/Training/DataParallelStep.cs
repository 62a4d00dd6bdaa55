using Latent.Kernels;
using Latent.Losses;

namespace Latent;

/// <summary>
/// One training step's forward and backward split by samples across the cores: replica p gathers rows
/// <c>[count·p/P, count·(p+1)/P)</c> of the batch, runs the whole graph on them on its own core, and writes
/// its weight gradients into its own array (replica 0 into the store); the optimizer adds the others
/// (<see cref="Partials"/>) as it updates. With the update inside the step, the gradients of Dense kernels larger than
/// L2 are computed by the step itself from every replica's rows at once, block by block (see <see cref="PlanDeferred"/>).
/// Every term is scaled by the whole batch (loss reductions, activity penalties, added losses), so the shares add up
/// to the full batch's loss and gradient; random streams are keyed by a sample's position in the whole batch, so a
/// sample draws the same numbers on any replica.
/// </summary>
/// <remarks>
/// Why: a batch of 32 makes multiplies of 1–2 MFLOP; cut across two cores each costs a fork/join and
/// duplicated packing, and the backward pass ran no faster on two cores than on one. Whole half-batches per core
/// need one fork/join for forward, loss and backward together. The summation order differs from the
/// one-executor path (floats agree to rounding), but is fixed for a given core count, so a seed still reproduces a run.
/// </remarks>
internal sealed class DataParallelStep : IParallelWork
{
    private readonly GraphExecutor[] _replicas;
    private readonly float[][] _grads;          // per replica: the store's Grads for 0, a private array for the others
    private readonly double[] _dataLosses, _penalties, _added;
    private readonly double[][] _outputLosses;  // per replica, per output
    private IReadOnlyList<SampleSet>? _xs, _ys;
    private int[]? _order;
    private int _start, _count;
    private readonly ReplicaSums? _sums;        // where layers' batch statistics meet (null when no layer needs it)
    private Exception? _failure;                // the first replica's own error (the others then fail at the barrier)

    /// <param name="sumsOverShares">Whether layers meet to sum over the batch (<see cref="Layers.Layer.SumsOverShares"/>):
    /// then the replicas run at the same time, one per core.</param>
    public DataParallelStep(Model model, int capacity, IReadOnlyList<Loss> losses, IReadOnlyList<double> lossWeights, ulong seed, ParameterStore store, int replicas,
                            bool sumsOverShares = false)
    {
        Capacity = capacity;
        Store = store;
        int per = (capacity + replicas - 1) / replicas;
        _grads = new float[replicas][];
        _replicas = new GraphExecutor[replicas];
        for (int p = 0; p < replicas; p++)
        {
            _grads[p] = p == 0 ? store.Grads : store.NewInPhase(store.Length);
            // One seed for all: a sample's random numbers depend on its place in the batch, not on its replica.
            _replicas[p] = new GraphExecutor(model, per, withGradients: true, losses, lossWeights, seed, p == 0 ? null : _grads[p]);
        }
        if (sumsOverShares)
        {
            _sums = new ReplicaSums(replicas);
            for (int p = 0; p < replicas; p++) _replicas[p].JoinReplicas(_sums, p);
        }
        _dataLosses = new double[replicas];
        _penalties = new double[replicas];
        _added = new double[replicas];
        _outputLosses = [.. Enumerable.Range(0, replicas).Select(_ => new double[losses.Count])];
        OutputLosses = new double[losses.Count];
        Partials = _grads[1..];
        _boards = [.. Enumerable.Range(0, replicas).Select(_ => new HelpBoard())];
        if (!sumsOverShares)
        {
            PlanDeferred(model);
            if (replicas > 1) PlanPosted(model);
        }
    }

    /// <summary>
    /// Whether each replica's Dense kernel gradients run as tasks after its backward pass, on whichever core is free
    /// first (a knob; see <see cref="PlanPosted"/>).
    /// </summary>
    internal static bool PostKernelGrads = true;

    /// <summary>
    /// The most bytes of x and dz a posted kernel gradient reads (a knob): larger operands leave the core's caches before
    /// a product at the end of the backward pass reads them again, or cost more to move to the other core than the
    /// product takes.
    /// </summary>
    internal static int PostMaxBytes = 128 << 10;

    /// <summary>The Dense layer whose kernel <paramref name="weight"/> is, or null (a bias, another layer's weight).</summary>
    private static Layers.Dense? KernelOf(Weight weight) =>
        weight.Layer is Layers.Dense { Kernel: { } kernel } dense && ReferenceEquals(kernel, weight) ? dense : null;

    /// <summary>A replica's Dense call whose kernel gradient runs as a task: the node, its context, and where the kernel lies in the store.</summary>
    private sealed record Posted(int Replica, Layers.Dense Layer, NodeContext Context, int Node, int KernelStart, int KernelEnd);

    /// <summary>How many kernel gradients the last <see cref="Run"/> ran as tasks (tests).</summary>
    internal int PostedCount { get; private set; }

    private Posted[] _posted = [];
    private int[] _postedState = [];   // per task: Waiting, Claimed or Done
    private bool _posting;
    private const int Waiting = 0, Claimed = 1, Done = 2;

    /// <summary>
    /// Lists the Dense calls whose kernel gradient a replica leaves for later (each called once, its gradient written,
    /// and not deferred by <see cref="PlanDeferred"/>): per replica, from the store's end down, the order its backward
    /// pass reaches them and the update wants them.
    /// </summary>
    /// <remarks>
    /// Why: on a shared machine one core often runs markedly slower than the other at the same work, for seconds at a
    /// time, and the faster one then waited for the slower one's gradients before it could update their blocks. A replica's
    /// kernel gradients depend on nothing after them in its backward pass, so they can run later and elsewhere: each
    /// replica's backward skips them, and a thread that has finished its own share takes the slower replica's as soon as
    /// its backward pass is past the layer. The product, its operands and its destination are the ones the replica
    /// would have used, so the bits do not depend on who runs it (docs/PERFORMANCE.md).
    /// </remarks>
    private void PlanPosted(Model model)
    {
        var weights = model.Weights;
        var posted = new List<Posted>();
        for (int p = 0; p < _replicas.Length; p++)
            for (int i = weights.Count - 1; i >= 0; i--)
            {
                if (KernelOf(weights[i]) is not { } dense || _deferred.Any(d => ReferenceEquals(d.Layer, dense))) continue;
                int node = _replicas[p].WriterNode(i);
                if (node < 0 || _replicas[p].WriterContext(i) is not { } ctx) continue;
                posted.Add(new Posted(p, dense, ctx, node, weights[i].Offset, weights[i].Offset + weights[i].Length));
            }
        _posted = [.. posted.OrderBy(t => t.Replica).ThenByDescending(t => t.KernelStart)];
        _postedState = new int[_posted.Length];
    }

    /// <summary>
    /// Whether the gradients of Dense kernels larger than L2 are computed by the step after the replicas' backward
    /// passes, by blocks of rows, each just before its update (a knob; see <see cref="PlanDeferred"/>).
    /// </summary>
    internal static bool DeferWeightGrads = true;

    /// <summary>The fewest kernel values for which a Dense layer's gradient is deferred: more than fit in L2 (a test knob).</summary>
    internal static long DeferMinFloats = Kernels.CacheSizes.L2Bytes / sizeof(float) + 1;

    /// <summary>Kernel values a deferred block holds, in whole rows: an L2's worth (a knob).</summary>
    internal static int DeferBlockFloats = (int)(Kernels.CacheSizes.L2Bytes / sizeof(float));

    private readonly List<Deferred> _deferred = [];

    /// <summary>How many Dense calls' kernel gradients the step computes itself when it runs the update (tests).</summary>
    internal int DeferredCount => _deferred.Count;
    private (int Start, int End, int Layer)[] _deferBlocks = [];

    /// <summary>A Dense call whose kernel gradient the step computes: the layer, its call's context in each replica, and where the kernel lies in the store.</summary>
    private sealed record Deferred(Layers.Dense Layer, NodeContext[] Contexts, int Offset, int Units, int RowsPerBlock);

    /// <summary>
    /// Finds the Dense calls whose kernel gradient the step may compute itself (called once, writing their gradient,
    /// with at least <see cref="DeferMinFloats"/> values), and cuts the store into the blocks the update claims: whole
    /// kernel rows inside those kernels, <see cref="UpdateBlockFloats"/> elsewhere, from the store's end down.
    /// </summary>
    /// <remarks>
    /// Why: each replica's gradient of such a kernel (the VAE's 784 × 256, 800 KB) does not fit in L2, so it went out
    /// to L3 and came back for the update to add; and the two largest products of the step ended each replica's
    /// backward on its own core. Deferred, a block's rows are one product per replica (the first written, the others
    /// added inside the multiply: the same terms, rounded in another order), updated at once, and the blocks go to
    /// whichever core is free. The blocks' cut is fixed, so a seed still reproduces a run bit for bit.
    /// vae-100's step −5 to −8%; deep-100's kernels (400 KB) and simple-256's (100 KB) fit in L2 and were mixed
    /// (−5 to +3%) and slower (+9–11%) deferred (docs/PERFORMANCE.md).
    /// </remarks>
    private void PlanDeferred(Model model)
    {
        var weights = model.Weights;
        for (int i = 0; i < weights.Count; i++)
        {
            var kernel = weights[i];
            if (KernelOf(kernel) is not { } dense || kernel.Length < DeferMinFloats) continue;
            var contexts = _replicas.Select(r => r.WriterContext(i)).ToArray();
            if (contexts.Any(c => c is null)) continue;
            // Blocks of equal height (an L2's worth at most): claimed by whichever core is free, equal blocks end together.
            int rows = kernel.Length / dense.Units, most = Math.Max(1, DeferBlockFloats / dense.Units);
            int count = (rows + most - 1) / most;
            _deferred.Add(new Deferred(dense, contexts!, kernel.Offset, dense.Units, (rows + count - 1) / count));
        }
        var blocks = new List<(int, int, int)>();
        int end = Store.Length;
        foreach (var (d, index) in _deferred.Select((d, k) => (d, k)).OrderByDescending(t => t.d.Offset))
        {
            int kernelEnd = d.Offset + d.Layer.Kernel!.Length;
            Uniform(kernelEnd, end);
            for (int e = kernelEnd; e > d.Offset; e -= d.RowsPerBlock * d.Units)
                blocks.Add((Math.Max(d.Offset, e - d.RowsPerBlock * d.Units), e, index));
            end = d.Offset;
        }
        Uniform(0, end);
        _deferBlocks = [.. blocks];

        void Uniform(int from, int to)
        {
            int size = BlockFloats(Store.Length);
            for (int e = to; e > from; e -= size) blocks.Add((Math.Max(from, e - size), e, -1));
        }
    }

    /// <summary>The replicas' own gradient arrays (all but replica 0's, which is the store's).</summary>
    public float[][] Partials { get; }

    /// <summary>Replica <paramref name="p"/>'s executor (benchmarks read its per-node times).</summary>
    internal GraphExecutor Replica(int p) => _replicas[p];

    /// <summary>How many shares the batch is cut into (one per core at most).</summary>
    public int Replicas => _replicas.Length;

    /// <summary>The largest batch a step takes.</summary>
    public int Capacity { get; }

    /// <summary>The store whose gradients replica 0 writes (a different store needs a new step object).</summary>
    public ParameterStore Store { get; }

    /// <summary>Each output's loss in the last step (unweighted).</summary>
    public double[] OutputLosses { get; }

    /// <summary>Activity penalties of the last step.</summary>
    public double Penalty { get; private set; }

    /// <summary>Losses layers added in the last step.</summary>
    public double AddedLoss { get; private set; }

    /// <summary>See <see cref="GraphExecutor.SetTargetInput"/>: for each output, the input its targets are read from, or −1.</summary>
    public void SetTargetInputs(int[] sources)
    {
        foreach (var r in _replicas)
            for (int j = 0; j < sources.Length; j++) r.SetTargetInput(j, sources[j]);
    }

    /// <summary>Restarts every replica's random streams from <paramref name="seed"/> (all alike: streams are keyed by sample position).</summary>
    public void Reseed(ulong seed)
    {
        foreach (var r in _replicas) r.Reseed(seed);
    }

    /// <summary>
    /// Forward, loss and backward on rows <c>order[start..start+count)</c> of the inputs and targets (or rows
    /// <c>[start, start+count)</c> when <paramref name="order"/> is null); the batch's gradient is the store's plus
    /// <see cref="Partials"/>.
    /// </summary>
    /// <param name="update">An optimizer to run the step's update with inside the same job (see the remarks), or null to
    /// leave the gradients for the caller (the store's plus <see cref="Partials"/>).</param>
    /// <returns>The weighted data loss <c>Σⱼ wⱼ·lossⱼ</c>; the parts are in <see cref="OutputLosses"/>, <see cref="Penalty"/>, <see cref="AddedLoss"/>.</returns>
    /// <remarks>
    /// With <paramref name="update"/> (which must be <see cref="Optimizers.Optimizer.UpdatesByRange"/> for the store),
    /// a thread that has finished its replicas updates the store in blocks, from its end down, each as soon as every
    /// replica's backward has passed the layers whose weights lie there (<see cref="GraphExecutor.ReadyFrom"/>): a core
    /// whose share ran faster updates the last layers while the other still runs backward through the first, instead
    /// of waiting for it and then for a second hand-off. The sums and updates are the same element-wise operations as
    /// <see cref="Optimizers.Optimizer.Apply"/>'s, so the bits are too. The update is skipped when the step's loss is not
    /// finite, as Fit skips it; <see cref="UpdateApplied"/> tells which happened. A replica that throws ends the step with
    /// its error, but blocks whose gradients were already final (the layers after the failing one) may have been updated.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    public double Run(IReadOnlyList<SampleSet> xs, IReadOnlyList<SampleSet> ys, int[]? order, int start, int count, Optimizers.Optimizer? update = null)
    {
        if ((uint)count > (uint)Capacity || count == 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Batch must be in [1, {Capacity}].");
        if (update is not null && _sums is not null)
            throw new InvalidOperationException("A step whose replicas meet to sum over the batch cannot run the update inside it.");
        (_xs, _ys, _order, _start, _count) = (xs, ys, order, start, count);
        UpdateApplied = false;
        if (_sums is null)
        {
            _update = update;
            _defer = update is not null && DeferWeightGrads && _deferred.Count > 0;
            foreach (var d in _deferred)
                foreach (var c in d.Contexts) c.DefersWeightGrad = _defer;
            int posted = 0;
            for (int t = 0; t < _posted.Length; t++)
            {
                var task = _posted[t];
                int n = Share(task.Replica).Count;
                bool post = PostKernelGrads && OperandBytes(task, n) <= PostMaxBytes;
                task.Context.PostsWeightGrad = post;
                _postedState[t] = n == 0 || !post ? Done : Waiting;   // an empty share clears its gradients
                if (_postedState[t] == Waiting) posted++;
            }
            PostedCount = posted;
            _posting = posted > 0;
            if (update is not null || _posting)
                foreach (var r in _replicas) r.ResetReadiness();
            if (update is not null)
            {
                _learningRate = (float)update.LearningRate;
                _nextBlock = 0;
            }
            _nextReplica = _finished = _failed = 0;
            int threads = Math.Min(_replicas.Length, ComputePool.Shared.ThreadsHere);
            bool choosing = threads > 1 && Threading == 0;
            bool alone = threads > 1 && (Threading == 1 || (choosing && _threading.NextOnOneThread()));
            LastRanAlone = alone;
            long began = choosing ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            Timeline?.Begin();
            try
            {
                if (alone) ComputePool.RunOnCaller(this, threads);
                else ComputePool.Shared.Run(this, threads);
            }
            finally
            {
                _update = null;
            }
            if (choosing) _threading.Record(alone, System.Diagnostics.Stopwatch.GetTimestamp() - began);
            // The threads updated blocks only if the losses were finite, and by now they are all in: the same question.
            UpdateApplied = update is not null && LossesFinite();
        }
        else
        {
            Span<bool> active = stackalloc bool[_replicas.Length];   // a share may be empty when the batch is small
            for (int p = 0; p < active.Length; p++) active[p] = Share(p).Count > 0;
            _sums.BeginStep(active);
            _failure = null;
            try
            {
                ComputePool.Shared.RunConcurrently(this, _replicas.Length);
            }
            catch when (_failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
            }
        }
        double data = 0, penalty = 0, added = 0;
        Array.Clear(OutputLosses);
        for (int p = 0; p < _replicas.Length; p++)
        {
            data += _dataLosses[p];
            penalty += _penalties[p];
            added += _added[p];
            for (int j = 0; j < OutputLosses.Length; j++) OutputLosses[j] += _outputLosses[p][j];
        }
        Penalty = penalty;
        AddedLoss = added;
        return data;
    }

    /// <summary>Whether the last <see cref="Run"/> also updated the weights (given an optimizer and a finite loss).</summary>
    public bool UpdateApplied { get; private set; }

    /// <summary>
    /// Where the replicas run (a knob): 0 as <see cref="StepThreading"/> finds faster, by timing both now and then; 1 one
    /// after another on the calling thread; 2 on as many of the pool's threads as there are replicas. The same bits
    /// every way: a replica's products are cut the same on any thread, and the update sums the shares in their order.
    /// </summary>
    internal static int Threading;

    private readonly StepThreading _threading = new();

    /// <summary>Where each thread's part of the step goes, when a benchmark sets it (see <see cref="StepTimeline"/>); null otherwise.</summary>
    internal static StepTimeline? Timeline;

    /// <summary>Whether the last <see cref="Run"/> ran its replicas one after another on the calling thread (tests).</summary>
    internal bool LastRanAlone { get; private set; }

    /// <summary>Store elements a thread claims and updates at a time inside the step (a multiple of 64).</summary>
    internal static int UpdateBlockFloats = 4096;

    /// <summary>About how many blocks a step's update is cut into, once the store holds more than that many of the smallest (a knob; 0: blocks of <see cref="UpdateBlockFloats"/> whatever the store).</summary>
    internal static int UpdateBlocksPerStep = 16;

    /// <summary>
    /// Floats in a block of the update: <see cref="UpdateBlockFloats"/>, or a store of more than
    /// <see cref="UpdateBlocksPerStep"/> such blocks cut into about that many, a multiple of 64. Each claim of a block is
    /// an atomic on a line both cores write; where a cache line takes ~0.5 µs between them (AMD EPYC Zen 5 here) the
    /// 55 claims of deep-100's store cost more than the balance they buy (docs/PERFORMANCE.md).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private static int BlockFloats(int length) =>
        UpdateBlocksPerStep <= 0 ? UpdateBlockFloats : Math.Max(UpdateBlockFloats, (length / UpdateBlocksPerStep + 63) / 64 * 64);

    private Optimizers.Optimizer? _update;
    private bool _defer;
    private float _learningRate;
    private int _nextReplica, _nextBlock;
    private int _failed, _finished;
    private readonly HelpBoard[] _boards;       // per replica: where its backward posts its large multiplies

    /// <summary>
    /// Thread <paramref name="part"/>'s share of the step: replicas claimed one at a time until none is left (without
    /// layers that meet, whose replicas are tied one to a thread), then, with an update, blocks of the store.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    public void Execute(int part)
    {
        var timeline = _sums is null ? Timeline : null;   // replicas tied to threads (layers that meet) are not timed
        timeline?.Mark(part, 0);
        if (_sums is null)
        {
            Span<bool> mine = stackalloc bool[_replicas.Length];
            int r;
            while ((r = Interlocked.Increment(ref _nextReplica) - 1) < _replicas.Length)
            {
                mine[r] = true;
                try
                {
                    ExecuteShare(r);
                }
                catch
                {
                    Volatile.Write(ref _failed, 1); // a thread waiting for this replica's gradients must not wait forever
                    throw;
                }
                finally
                {
                    Interlocked.Increment(ref _finished);
                }
            }
            timeline?.Mark(part, 1);
            // Our replicas' posted gradients first (their operands are in this core's caches), then anyone's.
            if (_posting)
                for (int t = 0; t < _posted.Length; t++)
                    if (mine[_posted[t].Replica]) TryRunPosted(t);
            timeline?.Mark(part, 2);
            if (_update is not null) UpdateBlocks();
            timeline?.Mark(part, 3);
            // Nothing left of our own: run posted gradients, or parts of the multiplies the replicas still running post,
            // until they end.
            var spin = new SpinWait();
            while (Volatile.Read(ref _finished) < _replicas.Length || (_posting && !AllPostedDone()))
            {
                if (Volatile.Read(ref _failed) != 0) return;
                if (RunAnyPosted() || Help()) spin = default;
                else spin.SpinOnce(sleep1Threshold: -1);
            }
            timeline?.Mark(part, 4);
            return;
        }
        try
        {
            ExecuteShare(part);
        }
        catch (Exception e)
        {
            if (!_sums.IsBroken) Interlocked.CompareExchange(ref _failure, e, null);
            _sums.Break();
            throw;
        }
    }

    /// <summary>
    /// Claims blocks of the store from its end down and updates each once every replica's gradients are final there.
    /// Every replica has been claimed by a running thread by now, so each wait ends, unless a replica fails.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private void UpdateBlocks()
    {
        int length = Store.Length, size = BlockFloats(length);
        int blocks = _defer ? _deferBlocks.Length : (length + size - 1) / size;
        bool lossChecked = false;
        int j;
        while ((j = Interlocked.Increment(ref _nextBlock) - 1) < blocks)
        {
            var (s, e, layer) = _defer ? _deferBlocks[j] : ((blocks - 1 - j) * size, Math.Min((blocks - j) * size, length), -1);
            var spin = new SpinWait();
            while (!Ready(s, e))
            {
                if (Volatile.Read(ref _failed) != 0) return;
                if (RunAnyPosted() || Help()) spin = default;
                else spin.SpinOnce(sleep1Threshold: -1);
            }
            if (!lossChecked)
            {
                // Every replica has started backward, so its losses are in (written before its first ReadyFrom); every
                // thread asks the same question of the same values, so all update, or none does.
                if (!LossesFinite()) return;
                lossChecked = true;
            }
            if (layer >= 0)
            {
                DeferredGradient(_deferred[layer], s, e);
                _update!.UpdateRange(Store, null, s, e, _learningRate);   // the replicas' shares are summed in already
            }
            else
                _update!.UpdateRange(Store, Partials, s, e, _learningRate);
        }
    }

    /// <summary>
    /// The kernel gradient's rows in store range [s, e) of a deferred Dense call: every replica's <c>xᵀ·dz</c> on those
    /// rows, the first written and the others added, into the store's gradients, just before the block's update.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private void DeferredGradient(Deferred d, int s, int e)
    {
        var rows = Store.Grads.AsSpan(s, e - s);
        int from = (s - d.Offset) / d.Units, to = (e - d.Offset) / d.Units;
        bool first = true;
        for (int p = 0; p < _replicas.Length; p++)
        {
            if (Share(p).Count == 0) continue;
            d.Layer.WeightGradRows(d.Contexts[p], from, to, rows, accumulate: !first);
            first = false;
        }
        if (first) rows.Clear();
    }

    /// <summary>Runs one part of a multiply some replica posted (<see cref="HelpBoard"/>), if there is one.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private bool Help()
    {
        foreach (var b in _boards) if (b.TryHelp()) return true;
        return false;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private bool Ready(int start, int end)
    {
        foreach (var r in _replicas) if (r.ReadyFrom > start) return false;
        if (_posting)
            for (int t = 0; t < _posted.Length; t++)
                if (_posted[t].KernelEnd > start && _posted[t].KernelStart < end && Volatile.Read(ref _postedState[t]) != Done) return false;
        return true;
    }

    /// <summary>
    /// Runs posted kernel gradient <paramref name="t"/> if no thread has taken it and its replica's backward pass is past
    /// its layer; false otherwise.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private bool TryRunPosted(int t)
    {
        var task = _posted[t];
        if (Volatile.Read(ref _postedState[t]) != Waiting || _replicas[task.Replica].BackwardAt > task.Node ||
            Interlocked.CompareExchange(ref _postedState[t], Claimed, Waiting) != Waiting) return false;
        try
        {
            task.Layer.PostedKernelGradient(task.Context);
        }
        catch
        {
            Volatile.Write(ref _failed, 1);
            throw;
        }
        finally
        {
            Volatile.Write(ref _postedState[t], Done);   // after the gradient's stores: a reader that sees Done sees them
        }
        return true;
    }

    /// <summary>
    /// What a posted kernel gradient of <paramref name="rows"/> rows reads: dz, and x as a dense batch or, read from the
    /// model's input where sparse batches are taken (<see cref="Layers.Dense.SparseInputDensity"/>), as the nonzeros
    /// (value and column) of a batch at that density, the most it multiplies sparse.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private static long OperandBytes(Posted task, int rows)
    {
        long x = (long)rows * task.Layer.InputFeatures;
        long xBytes = task.Context.InputIsData(0) && Layers.Dense.SparseInputDensity > 0
            ? (long)(x * Layers.Dense.SparseInputDensity) * (sizeof(float) + sizeof(int))
            : x * sizeof(float);
        return xBytes + (long)rows * task.Layer.Units * sizeof(float);
    }

    /// <summary>Runs the first posted kernel gradient that is free to run, of any replica; false when there is none.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private bool RunAnyPosted()
    {
        if (!_posting) return false;
        for (int t = 0; t < _posted.Length; t++)
            if (TryRunPosted(t)) return true;
        return false;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private bool AllPostedDone()
    {
        for (int t = 0; t < _postedState.Length; t++)
            if (Volatile.Read(ref _postedState[t]) != Done) return false;
        return true;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private bool LossesFinite()
    {
        for (int p = 0; p < _replicas.Length; p++)
            if (!double.IsFinite(_dataLosses[p]) || !double.IsFinite(_penalties[p]) || !double.IsFinite(_added[p])) return false;
        return true;
    }

    /// <summary>Replica <paramref name="part"/>'s samples of the step: rows <c>[count·p/P, count·(p+1)/P)</c> of the batch.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private (int Start, int Count) Share(int part)
    {
        int lo = (int)((long)_count * part / _replicas.Length), hi = (int)((long)_count * (part + 1) / _replicas.Length);
        return (lo, hi - lo);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    private void ExecuteShare(int part)
    {
        var ex = _replicas[part];
        var (lo, n) = Share(part);
        _dataLosses[part] = _penalties[part] = _added[part] = 0;
        Array.Clear(_outputLosses[part]);
        if (n == 0)
        {
            _grads[part].AsSpan().Clear();
            ex.SkipRandomStep(); // stay in step with the replicas that ran
            ex.MarkAllReady();
            return;
        }
        for (int i = 0; i < _xs!.Count; i++)
        {
            if (_order is not null) RowGather.Copy(_xs[i], _order, _start + lo, n, ex.InputBuffer(i));
            else _xs[i].CopyRows(_start + lo, n, ex.Input(i, n));
        }
        for (int j = 0; j < _ys!.Count; j++)
        {
            if (ex.TargetInput(j) >= 0) continue;
            var targets = ex.Targets(j).AsSpan(0, n * ex.OutputSize(j));
            if (_order is not null) _ys[j].CopyRows(_order.AsSpan(_start + lo, n), targets);
            else _ys[j].CopyRows(_start + lo, n, targets);
        }
        ex.Forward(n, training: true, needOutput: false, fullBatch: _count, offset: lo);
        _dataLosses[part] = ex.ComputeLosses(n, withGradient: true, fullBatch: _count);
        ex.OutputLosses.CopyTo(_outputLosses[part], 0);
        _penalties[part] = ex.Penalty;
        _added[part] = ex.AddedLoss;
        ex.PrepareWeightGrads(_grads[part]);
        // Posted only without layers that meet: their replicas are tied one to a thread and may wait for each other.
        if (_sums is null) HelpBoard.Enter(_boards[part]);
        try
        {
            ex.Backward(n);
        }
        finally
        {
            HelpBoard.Enter(null);
        }
    }
}
