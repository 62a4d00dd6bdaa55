using System.Diagnostics;

namespace Latent;

/// <summary>
/// Where a data-parallel step's threads spend it (a benchmark's probe, off unless set on
/// <see cref="DataParallelStep.Timeline"/>): for each part of the step's job, the time from the step's start at which it
/// began, finished its replicas, finished the kernel gradients it ran as tasks, finished its update blocks and returned,
/// summed over steps. Steps whose replicas are tied one to a thread (layers that sum over the batch) are not timed.
/// </summary>
/// <remarks>
/// Why: the step's phases overlap across threads (a thread updates blocks while the other still runs its replica), so a
/// profile of one replica's layers does not say where the step's time goes; these marks do, at five clock reads a part.
/// </remarks>
internal sealed class StepTimeline(int parts)
{
    /// <summary>The marks of a part, in the order they are taken.</summary>
    public static readonly string[] MarkNames = ["start", "replicas", "posted", "update", "end"];

    private readonly long[] _ticks = new long[parts * MarkNames.Length];
    private long _began;

    /// <summary>Steps timed.</summary>
    public int Steps { get; private set; }

    /// <summary>Parts timed (a step's job with more parts leaves the rest out).</summary>
    public int Parts => parts;

    /// <summary>A step begins (on the calling thread, before its job runs).</summary>
    internal void Begin()
    {
        _began = Stopwatch.GetTimestamp();
        Steps++;
    }

    /// <summary>Part <paramref name="part"/> reached mark <paramref name="mark"/> (an index into <see cref="MarkNames"/>).</summary>
    internal void Mark(int part, int mark)
    {
        if (part < parts) _ticks[part * MarkNames.Length + mark] += Stopwatch.GetTimestamp() - _began;
    }

    /// <summary>The mean time from a step's start to part <paramref name="part"/>'s mark <paramref name="mark"/>, in µs.</summary>
    public double MeanMicroseconds(int part, int mark) =>
        Steps == 0 ? 0 : _ticks[part * MarkNames.Length + mark] * 1e6 / Stopwatch.Frequency / Steps;

    /// <summary>Forgets the steps timed so far.</summary>
    public void Clear()
    {
        Array.Clear(_ticks);
        Steps = 0;
    }
}
