using System.Diagnostics;

namespace Latent;

/// <summary>
/// Chooses, by timing both, whether a data-parallel step's replicas run on all the step's threads or one after another
/// on the calling thread (<see cref="Kernels.ComputePool.RunOnCaller"/>). Both ways compute the same products in the
/// same order, so the choice changes the time and never a bit of the result, and may follow the machine.
/// </summary>
/// <remarks>
/// Spreading replicas over cores pays in compute and costs in traffic: every step each core reads the gradients the
/// other wrote and the weights the other updated. Where a cache line takes ~0.5 µs between two cores (two vCPUs on
/// different dies of an AMD EPYC Zen 5), the notebook's simple model at batch 32 stepped 1.3× faster on one core, at
/// batch 256 1.5× slower (docs/PERFORMANCE.md). So trial rounds of <see cref="RoundSteps"/> steps alternate between the
/// two ways (one thread first), and the faster by the median of its counted steps runs until the next trial, since a
/// shared machine's speed drifts: for <see cref="HoldSeconds"/> (or 30 times the trial, if longer), doubled after each
/// trial that keeps the way, up to <see cref="MaxHoldSeconds"/>, so a row whose way never changes loses little to trials.
/// <list type="bullet">
/// <item>A round's first <see cref="SettleSteps"/> steps are not counted: after a switch the weights, gradients and
/// optimizer state move to the cores that now use them, which made two threads look 1.6× slower than they run
/// (simple-256 at 128 rows a core).</item>
/// <item>A trial during which the runtime compiled code is thrown away and run again after <see cref="RetrySeconds"/>:
/// the JIT's background thread takes a core, which made simple-256's first trial, in its warm-up, pick one thread in
/// three processes of four.</item>
/// <item>Steps of <see cref="LongStepSeconds"/> or more on all threads are not tried on one: their arithmetic outweighs
/// any exchange (deep-100's 0.5 ms steps ran 1.5× slower on one thread), and a trial of a convolutional model's long
/// steps would cost seconds.</item>
/// </list>
/// </remarks>
internal sealed class StepThreading(Func<long>? compiledMethods = null)
{
    /// <summary>Methods the runtime has compiled so far (tests give their own count: other tests compile at any time).</summary>
    private readonly Func<long> _compiledMethods = compiledMethods ?? (() => System.Runtime.JitInfo.GetCompiledMethodCount());

    /// <summary>Steps a trial round runs one way.</summary>
    private const int RoundSteps = 16;

    /// <summary>Steps at the start of a round that are run but not counted.</summary>
    private const int SettleSteps = 4;

    /// <summary>Trial rounds, half each way.</summary>
    private const int Rounds = 6;

    /// <summary>How long the chosen way runs before the next trial, after a trial that changed it.</summary>
    private const double HoldSeconds = 0.5;

    /// <summary>How long before a trial spoiled by the JIT is run again.</summary>
    private const double RetrySeconds = 0.25;

    /// <summary>The longest hold, after trials that kept the way.</summary>
    private const double MaxHoldSeconds = 16.0;

    /// <summary>A step on all threads at least this long is not tried on one.</summary>
    private const double LongStepSeconds = 0.002;

    /// <summary>Steps on all threads timed before a decision to try one thread or not (the first steps compile code).</summary>
    private const int ProbeSteps = 8;

    /// <summary>Counted steps of a trial each way.</summary>
    private const int StepsEachWay = Rounds / 2 * (RoundSteps - SettleSteps);

    private readonly long[] _stepTicks = new long[2 * StepsEachWay];   // a trial's counted steps: one thread's, then all threads'
    private int _trialStep = -1;       // steps into the trial; −1 while holding a choice (or before the first)
    private long _holdUntil, _trialStart, _trialCompiled;
    private bool _oneThread;
    private double _hold = HoldSeconds;
    private long _fastestAllTicks = long.MaxValue;   // the fastest step on all threads since the last decision
    private int _allSteps;                           // and how many ran

    /// <summary>The way chosen by the last trial (true: one thread); false before any.</summary>
    public bool ChoseOneThread => _oneThread;

    /// <summary>Trials completed (tests).</summary>
    public int Trials { get; private set; }

    /// <summary>Whether the next step runs on the calling thread alone.</summary>
    public bool NextOnOneThread()
    {
        if (_trialStep < 0)
        {
            long now = Stopwatch.GetTimestamp();
            if (now < _holdUntil) return _oneThread;
            if (!_oneThread)
            {
                if (_allSteps < ProbeSteps) return false;   // the first steps (and those after a long hold) are timed on all threads
                bool longSteps = _fastestAllTicks > LongStepSeconds * Stopwatch.Frequency;
                (_fastestAllTicks, _allSteps) = (long.MaxValue, 0);
                if (longSteps)
                {
                    _holdUntil = now + (long)(MaxHoldSeconds * Stopwatch.Frequency);
                    return false;
                }
            }
            _trialStep = 0;
        }
        if (_trialStep == 0)
        {
            _trialStart = Stopwatch.GetTimestamp();
            _trialCompiled = _compiledMethods();
        }
        return _trialStep / RoundSteps % 2 == 0;
    }

    /// <summary>Records the time of the step that <see cref="NextOnOneThread"/> just placed (<paramref name="alone"/>: on one thread).</summary>
    public void Record(bool alone, long ticks)
    {
        if (!alone)
        {
            _fastestAllTicks = Math.Min(_fastestAllTicks, ticks);
            _allSteps++;
        }
        if (_trialStep < 0) return;
        int round = _trialStep / RoundSteps, inRound = _trialStep % RoundSteps;
        if (inRound >= SettleSteps)   // round r's counted steps go to way r % 2, after that way's earlier rounds
            _stepTicks[round % 2 * StepsEachWay + round / 2 * (RoundSteps - SettleSteps) + inRound - SettleSteps] = ticks;
        if (++_trialStep < RoundSteps * Rounds) return;
        _trialStep = -1;
        long now = Stopwatch.GetTimestamp();
        if (_compiledMethods() != _trialCompiled)
        {
            _holdUntil = now + (long)(RetrySeconds * Stopwatch.Frequency);
            return;
        }
        bool one = Median(0) <= Median(1);
        _hold = Trials > 0 && one == _oneThread ? Math.Min(2 * _hold, MaxHoldSeconds) : HoldSeconds;
        _oneThread = one;
        Trials++;
        _holdUntil = now + Math.Max((long)(_hold * Stopwatch.Frequency), 30 * (now - _trialStart));
    }

    /// <summary>
    /// The median of the counted steps that ran one way (0 on one thread, 1 on all): a step the host delayed by a
    /// millisecond (it does, now and then, on either way) moves it by one place, where it doubled a round's sum.
    /// </summary>
    private long Median(int way)
    {
        Span<long> ticks = stackalloc long[StepsEachWay];
        _stepTicks.AsSpan(way * StepsEachWay, StepsEachWay).CopyTo(ticks);
        ticks.Sort();
        return ticks[ticks.Length / 2];
    }
}
