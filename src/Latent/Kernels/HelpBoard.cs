namespace Latent.Kernels;

/// <summary>
/// Where a thread running one replica of a data-parallel step posts a multiply cut into parts, so that a thread with
/// nothing left to do (its replicas and the ready part of the update done) runs some of them instead of waiting.
/// The cut does not depend on whether help comes: the poster runs every part nobody took, so the bits are the same.
/// </summary>
/// <remarks>
/// Why: the replicas do equal work, but the two cores of a shared machine do not always run at equal speed; the
/// faster one used to wait at the end of every step for the slower one's last products (the first layers'
/// weight gradients, the largest).
/// </remarks>
internal sealed class HelpBoard
{
    [ThreadStatic] private static HelpBoard? t_current;

    /// <summary>The board the current thread posts its multiplies on, or null (multiplies then run whole).</summary>
    public static HelpBoard? Current => t_current;

    /// <summary>Sets <see cref="Current"/> for the current thread (null to stop posting).</summary>
    public static void Enter(HelpBoard? board) => t_current = board;

    private IParallelWork? _work;
    private int _done;
    // generation << 32 | parts << 16 | next unclaimed part. A claim is a compare-and-swap of the whole word, so it
    // counts only against the parts of the job that word belongs to: a helper holding a stale view can never claim a
    // part of the next job, nor a part past the end of a finished one.
    private long _state;

    /// <summary>Runs parts 0..<paramref name="parts"/>-1 of <paramref name="work"/>, with whatever help comes, and returns when all are done.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More than 65,535 parts.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Run(IParallelWork work, int parts)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parts, ushort.MaxValue);
        _done = 0;
        _work = work;
        long generation = (Volatile.Read(ref _state) >> 32) + 1;
        Volatile.Write(ref _state, generation << 32 | (long)parts << 16);   // publishes the job: parts claimable from here
        while (TryClaim(out int part))
        {
            work.Execute(part);
            Interlocked.Increment(ref _done);
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) != parts) spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
    }

    /// <summary>Runs one unclaimed part of the posted job, if there is one; whether it did.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public bool TryHelp()
    {
        var work = Volatile.Read(ref _work);
        if (work is null || !TryClaim(out int part, work)) return false;
        try
        {
            work.Execute(part);
        }
        finally
        {
            Interlocked.Increment(ref _done);
        }
        return true;
    }

    /// <summary>
    /// Claims the next part of the live job. With <paramref name="seen"/> (a helper's view of the job), only while that
    /// job is still the posted one: read after it, an open state word belongs to it, since a job is replaced only after
    /// all its parts are claimed.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private bool TryClaim(out int part, IParallelWork? seen = null)
    {
        while (true)
        {
            long s = Volatile.Read(ref _state);
            part = (int)(s & 0xFFFF);
            if (part >= (int)((s >> 16) & 0xFFFF)) return false;
            if (seen is not null && !ReferenceEquals(Volatile.Read(ref _work), seen)) return false;
            if (Interlocked.CompareExchange(ref _state, s + 1, s) == s) return true;
        }
    }
}
