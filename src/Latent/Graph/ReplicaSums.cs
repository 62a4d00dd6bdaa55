namespace Latent;

/// <summary>
/// The meeting point of a data-parallel step's replicas for <see cref="NodeContext.SumOverShares"/>: each replica
/// posts its partial sums, waits until every replica that runs this step has posted, then adds all the posts in
/// replica order, so every replica gets the same numbers, bit for bit, whatever the timing.
/// </summary>
/// <remarks>
/// Posts alternate between two sets of slots: a replica can post call k + 1 while a slower one still reads call k's,
/// and cannot post call k + 2 before everyone has finished reading call k (it would have had to pass call k + 1's
/// barrier first). One barrier per call, then. The replicas must run at the same time, one per core
/// (<see cref="Kernels.ComputePool.RunConcurrently"/>); a replica that fails breaks the barrier so the others stop
/// instead of waiting forever.
/// </remarks>
internal sealed class ReplicaSums
{
    private readonly double[][][] _slots;   // [call parity][replica] → posted values
    private readonly int[][] _lengths;      // [call parity][replica] → length posted (all must agree)
    private readonly int[] _calls;          // per replica, calls made this step
    private readonly bool[] _active;        // replicas that run this step (a share may be empty)
    private int _participants;
    private int _waiting;                   // replicas still to arrive at the current barrier
    private volatile int _barrier;          // completed barriers this step
    private volatile bool _broken;

    public ReplicaSums(int replicas)
    {
        _slots = [new double[replicas][], new double[replicas][]];
        for (int s = 0; s < 2; s++)
            for (int p = 0; p < replicas; p++) _slots[s][p] = new double[16];
        _lengths = [new int[replicas], new int[replicas]];
        _calls = new int[replicas];
        _active = new bool[replicas];
    }

    /// <summary>Readies a step in which the replicas flagged in <paramref name="active"/> take part (before any of them runs).</summary>
    public void BeginStep(ReadOnlySpan<bool> active)
    {
        active.CopyTo(_active);
        _participants = 0;
        foreach (bool a in active) if (a) _participants++;
        Array.Clear(_calls);
        _waiting = _participants;
        _barrier = 0;
        _broken = false;
    }

    /// <summary>Stops the replicas waiting at (or later reaching) a barrier: one of them failed.</summary>
    public void Break() => _broken = true;

    /// <summary>Whether a replica has failed this step.</summary>
    public bool IsBroken => _broken;

    /// <summary>Replaces <paramref name="values"/> by their sum over the replicas that run this step.</summary>
    /// <exception cref="InvalidOperationException">Another replica failed, or replicas passed different lengths.</exception>
    public void Sum(int replica, Span<double> values)
    {
        if (_participants == 1) return;
        int call = _calls[replica]++;
        var slots = _slots[call & 1];
        if (slots[replica].Length < values.Length) slots[replica] = new double[Math.Max(values.Length, 2 * slots[replica].Length)];
        values.CopyTo(slots[replica]);
        var lengths = _lengths[call & 1];
        lengths[replica] = values.Length;
        Arrive(call);
        values.Clear();
        for (int p = 0; p < slots.Length; p++)
        {
            if (!_active[p]) continue;
            if (lengths[p] != values.Length)
                throw new InvalidOperationException($"Replicas summed different lengths in one call: {values.Length} and {lengths[p]}.");
            var post = slots[p].AsSpan(0, values.Length);
            for (int i = 0; i < values.Length; i++) values[i] += post[i];
        }
    }

    private void Arrive(int call)
    {
        if (Interlocked.Decrement(ref _waiting) == 0)
        {
            _waiting = _participants;   // written before the release below, which the others read with a fence
            _barrier = call + 1;
            return;
        }
        var spin = new SpinWait();
        while (_barrier <= call)
        {
            if (_broken) throw new InvalidOperationException("Another share of the batch failed while this one waited for its sums.");
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
