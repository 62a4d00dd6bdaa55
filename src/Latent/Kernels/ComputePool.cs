namespace Latent.Kernels;

/// <summary>A unit of work split into parts that may run on different cores.</summary>
internal interface IParallelWork
{
    /// <summary>Runs part <paramref name="part"/> of <c>parts</c>; parts must write disjoint memory.</summary>
    void Execute(int part);
}

/// <summary>
/// A fixed set of worker threads, one per core beyond the caller's, that spin briefly between jobs and
/// then sleep. The caller runs part 0 itself and spins until the workers finish, so a job costs no
/// allocation and, while training keeps the workers hot, well under a microsecond of hand-off, which is
/// what makes splitting a 256×784×32 multiply worth it. <see cref="System.Threading.Tasks.Parallel"/>
/// allocates per call and wakes threads through the thread pool, which costs more than such a multiply.
/// A worker claims its parts before running them; a caller that finishes its own parts first takes the parts of
/// any worker that has not yet claimed them (outside <see cref="RunConcurrently"/>), so on a machine whose cores are
/// busy with other programs a job never waits for a descheduled worker to be given a core.
/// </summary>
internal sealed class ComputePool
{
    /// <summary>The process-wide pool, with one worker per core beyond the first.</summary>
    public static readonly ComputePool Shared = new(Environment.ProcessorCount);

    /// <summary>
    /// How long an idle worker spins for the next job before it sleeps (1 ms): far longer than the gaps between a training
    /// loop's jobs, short enough not to keep a core busy while the application does something else (docs/PERFORMANCE.md).
    /// </summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 1000;

    private readonly object _sleepGate = new();
    private readonly object _callerGate = new();
    private readonly Thread[] _workers;
    private IParallelWork? _work;
    private int _parts;
    private volatile int _generation;
    private int _pending;
    private int _sleepers;
    private Exception? _error;
    // Per worker, for the current job: 2·generation while its parts are unclaimed, 2·generation + 1 once the worker
    // or the caller has claimed them. Tagged with the generation, so a worker that wakes late for a finished job
    // fails its claim instead of running a later job's parts under the old one's bookkeeping.
    private readonly int[] _claims;

    /// <summary>A pool of <paramref name="threads"/> threads, the caller's included (tests; code uses <see cref="Shared"/>).</summary>
    internal ComputePool(int threads)
    {
        Threads = Math.Max(1, threads);
        _workers = new Thread[Threads - 1];
        _claims = new int[_workers.Length];
        for (int i = 0; i < _workers.Length; i++)
        {
            int id = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = $"latent-compute-{id}" };
            _workers[i].Start();
        }
    }

    /// <summary>Tests: called on a worker that has seen a job, before it claims its parts (to hold it back).</summary>
    internal Action<int>? BeforeClaimForTests { get; init; }

    /// <summary>Number of threads a job can use, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>
    /// Part <paramref name="part"/> of <c>[0, length)</c> cut into <paramref name="parts"/> ranges whose starts are
    /// multiples of 64 (whole cache lines, whole vectors); the last part takes the rest. May be empty.
    /// </summary>
    public static (int Start, int End) PartRange(int length, int parts, int part)
    {
        int chunk = (length / parts + 63) & ~63;
        int start = Math.Min(length, part * chunk);
        return (start, part == parts - 1 ? length : Math.Min(length, start + chunk));
    }

    /// <summary>Set on a thread while it runs a part of a job: a job started there runs inline, on that thread.</summary>
    [ThreadStatic] private static bool t_inPart;

    /// <summary>
    /// Threads a job started on the current thread would get: <see cref="Threads"/>, or 1 inside a part of
    /// another job (a data-parallel replica's multiplies run on its own core), so callers cut no more parts than that.
    /// </summary>
    public int ThreadsHere => t_inPart ? 1 : Threads;

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>-1 of <paramref name="work"/>, part i on thread i mod Threads,
    /// and returns when all are done. If another thread is already using the pool, runs every part on the caller.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Run(IParallelWork work, int parts)
    {
        if (parts <= 1 || _workers.Length == 0 || t_inPart || !Monitor.TryEnter(_callerGate))
        {
            for (int p = 0; p < parts; p++) work.Execute(p);
            return;
        }
        RunEntered(work, parts, concurrent: false);
    }

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>-1 of <paramref name="work"/> one after another on the calling thread, each
    /// as a worker's part would run (<see cref="ThreadsHere"/> is 1 inside, so nothing in them is cut across the cores):
    /// the same work as <see cref="Run"/>, with no hand-off between cores.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    public static void RunOnCaller(IParallelWork work, int parts)
    {
        bool outer = t_inPart;
        t_inPart = true;
        try
        {
            for (int p = 0; p < parts; p++) work.Execute(p);
        }
        finally
        {
            t_inPart = outer;
        }
    }

    /// <summary>
    /// Like <see cref="Run"/>, but every part on its own thread, at the same time, so parts may wait for each other
    /// (a data-parallel step's replicas summing batch statistics): waits for the pool if another thread uses it.
    /// </summary>
    /// <exception cref="InvalidOperationException">More parts than <see cref="ThreadsHere"/>.</exception>
    public void RunConcurrently(IParallelWork work, int parts)
    {
        if (parts > ThreadsHere)
            throw new InvalidOperationException($"{parts} parts cannot run at once on {ThreadsHere} thread(s).");
        if (parts <= 1)
        {
            if (parts == 1) work.Execute(0);
            return;
        }
        Monitor.Enter(_callerGate);
        RunEntered(work, parts, concurrent: true);
    }

    /// <summary>
    /// Runs a job with <see cref="_callerGate"/> held, and releases it. Unless <paramref name="concurrent"/>, the
    /// caller also runs the parts of workers that have not claimed theirs by the time its own are done.
    /// </summary>
    private void RunEntered(IParallelWork work, int parts, bool concurrent)
    {
        try
        {
            _work = work;
            _parts = parts;
            Volatile.Write(ref _pending, _workers.Length);
            int generation = unchecked(_generation + 1);
            for (int w = 0; w < _claims.Length; w++) Volatile.Write(ref _claims[w], unchecked(2 * generation));
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepGate) Monitor.PulseAll(_sleepGate);

            Exception? workerError;
            try
            {
                t_inPart = true;
                for (int p = 0; p < parts; p += Threads) work.Execute(p);
                for (int w = 0; w < _claims.Length && !concurrent; w++)
                {
                    if (Interlocked.CompareExchange(ref _claims[w], unchecked(2 * generation + 1), unchecked(2 * generation)) != unchecked(2 * generation))
                        continue;
                    // Decremented before the parts run: if one throws, the wait below must still end.
                    Interlocked.Decrement(ref _pending);
                    for (int p = w + 1; p < parts; p += Threads) work.Execute(p);
                }
            }
            finally
            {
                t_inPart = false;
                // Even if our part threw, the workers must finish before the job's buffers can be reused, and their
                // error is taken now either way: left behind, it would surface in the next job.
                var spin = new SpinWait();
                while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
                _work = null;
                workerError = Interlocked.Exchange(ref _error, null);
            }
            if (workerError is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(workerError);
        }
        finally
        {
            Monitor.Exit(_callerGate);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private void WorkerLoop(int id)
    {
        t_inPart = true;
        int seen = 0;
        while (true)
        {
            long until = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            for (int spins = 1; _generation == seen; spins++)
            {
                Thread.SpinWait(8);
                if ((spins & 31) == 0 && System.Diagnostics.Stopwatch.GetTimestamp() > until) break;
            }
            if (_generation == seen)
            {
                lock (_sleepGate)
                {
                    Interlocked.Increment(ref _sleepers); // a full fence: pairs with the caller's increment of _generation
                    while (_generation == seen) Monitor.Wait(_sleepGate);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            seen = _generation;
            BeforeClaimForTests?.Invoke(id);
            // A job the caller finished alone (it took these parts) or one already replaced by the next: skip it.
            if (Interlocked.CompareExchange(ref _claims[id - 1], unchecked(2 * seen + 1), unchecked(2 * seen)) != unchecked(2 * seen))
                continue;
            var work = _work!;
            int parts = _parts;
            try
            {
                for (int p = id; p < parts; p += Threads) work.Execute(p);
            }
            catch (Exception e)
            {
                // Handed to the caller, which rethrows it; a worker must never die or the pool would hang.
                Interlocked.CompareExchange(ref _error, e, null);
            }
            Interlocked.Decrement(ref _pending);
        }
    }
}
