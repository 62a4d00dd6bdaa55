using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>
/// What one fork/join through the compute pool costs (an empty two-part job, many times), and two probes of how much
/// of its second core a shared machine gives: two-part jobs of 50 µs a part with 5 µs between them (how often the
/// worker comes too late and the caller runs both parts, and what the jobs take), and one 100×128 · 128×784 multiply
/// on one thread against one such multiply on each core at once, each with its own arrays, and the CPU time idle workers
/// spend before they sleep (`Latent.Bench pool`).
/// </summary>
internal static class PoolTimer
{
    /// <summary>Busy-waits <see cref="Microseconds"/> a part; counts the second parts the caller ran itself.</summary>
    private sealed class Spin(int caller) : IParallelWork
    {
        public double Microseconds = 50;
        public int Taken;
        public void Execute(int part)
        {
            long end = Stopwatch.GetTimestamp() + (long)(Microseconds * Stopwatch.Frequency / 1e6);
            while (Stopwatch.GetTimestamp() < end) { }
            if (part == 1 && Environment.CurrentManagedThreadId == caller) Taken++;
        }
    }

    private sealed class Empty : IParallelWork
    {
        public int Hits;
        public void Execute(int part) { if (part == 1) Hits++; }
    }

    public static void Run()
    {
        var job = new Empty();
        for (int i = 0; i < 10000; i++) ComputePool.Shared.Run(job, 2);
        const int reps = 200_000;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) ComputePool.Shared.Run(job, 2);
        Console.WriteLine($"fork/join of an empty two-part job: {sw.Elapsed.TotalNanoseconds / reps:F0} ns ({job.Hits} parts ran on the worker)");
        LateWorker();
        ConcurrentMultiplies();
        PingPong();
        IdleSpin();
    }

    /// <summary>The process's CPU time while the caller sleeps 500 ms after a job: what the idle workers spin before they sleep.</summary>
    private static void IdleSpin()
    {
        var job = new Empty();
        var times = new double[5];
        for (int r = 0; r < times.Length; r++)
        {
            ComputePool.Shared.Run(job, 2);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            Thread.Sleep(500);
            times[r] = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        }
        Console.WriteLine(FormattableString.Invariant($"CPU time in the 500 ms after a job (idle workers spinning, then asleep): {string.Join(", ", times.Select(t => t.ToString("F1")))} ms"));
    }

    private sealed class Line { public long Value; }

    /// <summary>A cache line passed back and forth between two threads: the round trip, the latency of the cores' sharing.</summary>
    private static void PingPong()
    {
        if (Environment.ProcessorCount < 2) return;
        var line = new Line();
        const int trips = 200_000;
        var other = new Thread(() =>
        {
            for (long i = 1; i <= trips; i++)
            {
                while (Volatile.Read(ref line.Value) != 2 * i - 1) { }
                Volatile.Write(ref line.Value, 2 * i);
            }
        });
        other.Start();
        var sw = Stopwatch.StartNew();
        for (long i = 1; i <= trips; i++)
        {
            Volatile.Write(ref line.Value, 2 * i - 1);
            while (Volatile.Read(ref line.Value) != 2 * i) { }
        }
        double ns = sw.Elapsed.TotalNanoseconds / trips;
        other.Join();
        Console.WriteLine(FormattableString.Invariant($"a cache line between two threads: {ns:F0} ns a round trip"));
    }

    private static void LateWorker()
    {
        var spin = new Spin(Environment.CurrentManagedThreadId);
        const int jobs = 2000;
        var times = new double[jobs];
        for (int i = 0; i < jobs; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            ComputePool.Shared.Run(spin, 2);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            long gap = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 200_000;   // 5 µs
            while (Stopwatch.GetTimestamp() < gap) { }
        }
        Array.Sort(times);
        Console.WriteLine(FormattableString.Invariant(
            $"two-part jobs of 50 µs a part, 5 µs apart: median {times[jobs / 2]:F1} µs, p90 {times[jobs * 9 / 10]:F1}, p99 {times[jobs * 99 / 100]:F1}, mean {times.Average():F1}; the caller ran the second part of {spin.Taken} of {jobs}"));
    }

    private static void ConcurrentMultiplies()
    {
        const int m = 100, n = 784, k = 128, reps = 200;
        int saved = Gemm.MaxThreads;
        Gemm.MaxThreads = 1;
        try
        {
            double Rate(int threads)
            {
                var rng = new Random(1);
                var sets = Enumerable.Range(0, threads).Select(_ =>
                    (A: Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray(),
                     B: Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble()).ToArray(), C: new float[m * n])).ToArray();
                void Work(int t) { var s = sets[t]; for (int i = 0; i < reps; i++) Gemm.Multiply(false, false, m, n, k, s.A, k, s.B, n, s.C, n, false); }
                for (int t = 0; t < threads; t++) Work(t);   // warm-up
                var sw = Stopwatch.StartNew();
                var others = Enumerable.Range(1, threads - 1).Select(t => new Thread(() => Work(t))).ToArray();
                foreach (var th in others) th.Start();
                Work(0);
                foreach (var th in others) th.Join();
                return 2.0 * m * n * k * reps * threads / sw.Elapsed.TotalSeconds / 1e9;
            }
            double one = Rate(1), all = Rate(Environment.ProcessorCount);
            Console.WriteLine(FormattableString.Invariant(
                $"{m}x{k} . {k}x{n} multiplies, one thread each: {one:F1} GFLOPS on one core, {all:F1} on {Environment.ProcessorCount} at once ({all / one:F2}x)"));
        }
        finally { Gemm.MaxThreads = saved; }
    }
}
