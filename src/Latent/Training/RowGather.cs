namespace Latent;

/// <summary>
/// A batch's shuffled rows copied out of a library sample set, cut by rows across the cores when the caller has them
/// (one executor on the whole batch: simple-32's step). Rows drawn at random from tens of megabytes wait on DRAM, and
/// one core's misses in flight are the limit: two cores gather a batch in about half the time. A data-parallel step's
/// replicas already gather their own shares on their own cores (there the pool gives one thread, and this copies
/// on the caller).
/// </summary>
internal sealed class RowGather : Kernels.IParallelWork
{
    /// <summary>Fewest values worth a hand-off to the other core (a 32-row MNIST batch is 25,088).</summary>
    private const int MinValues = 1 << 13;

    [ThreadStatic] private static RowGather? t_job;

    private SampleSet? _set;
    private int[]? _order;
    private float[]? _destination;
    private int _start, _count, _parts;

    /// <summary>Experiment knob: false always gathers on the calling thread.</summary>
    internal static bool OnCores = true;

    /// <summary>
    /// Rows <c>order[start..start+count)</c> of <paramref name="set"/> into the start of <paramref name="destination"/>,
    /// as <see cref="SampleSet.CopyRows(ReadOnlySpan{int}, Span{float})"/> would.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void Copy(SampleSet set, int[] order, int start, int count, float[] destination)
    {
        int threads = Kernels.ComputePool.Shared.ThreadsHere;
        if (!OnCores || threads < 2 || (long)count * set.RowSize < MinValues || !set.ReadableConcurrently)
        {
            set.CopyRows(order.AsSpan(start, count), destination);
            return;
        }
        var job = t_job ??= new RowGather();
        (job._set, job._order, job._start, job._count, job._destination, job._parts) = (set, order, start, count, destination, Math.Min(threads, count));
        try { Kernels.ComputePool.Shared.Run(job, job._parts); }
        finally { (job._set, job._order, job._destination) = (null, null, null); }
    }

    public void Execute(int part)
    {
        int lo = (int)((long)_count * part / _parts), hi = (int)((long)_count * (part + 1) / _parts);
        int size = _set!.RowSize;
        _set.CopyRows(_order.AsSpan(_start + lo, hi - lo), _destination.AsSpan(lo * size, (hi - lo) * size));
    }
}
