using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

// Compiled into both bench programs (Latent.Bench and Latent.Kernels.Bench).

/// <summary>
/// The FMA ceiling: twelve independent FMA chains in registers only (enough to fill two FMA pipes of four or five
/// cycles' latency), on every core or on <c>threads</c> of them, one dedicated thread each; GFLOPS counting an FMA as two operations,
/// best of ten.
/// </summary>
public static class FmaPeak
{
    public static double Measure() => Measure(Environment.ProcessorCount);

    public static double Measure(int threads)
    {
        const long iterations = 20_000_000;
        double best = 0;
        Loop(1000);
        for (int rep = 0; rep < 10; rep++)   // ~40 ms each; the best of ten rides out a neighbour's burst
        {
            double seconds = SecondsOnThreads(threads, _ => Loop(iterations));
            int lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
            best = Math.Max(best, threads * iterations * 12.0 * lanes * 2 / seconds / 1e9);
        }
        return best;
    }

    /// <summary>
    /// Seconds for <paramref name="work"/>(t) to run on <paramref name="threads"/> dedicated threads released together,
    /// until the last ends. Parallel.For let the calling thread run every item itself when the pool's worker started
    /// late, and the "two-core" peak came out as one core's.
    /// </summary>
    public static double SecondsOnThreads(int threads, Action<int> work)
    {
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() => { start.SignalAndWait(); work(id); }) { IsBackground = true };
            workers[t].Start();
        }
        start.SignalAndWait();
        var sw = Stopwatch.StartNew();
        foreach (var w in workers) w.Join();
        return sw.Elapsed.TotalSeconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop(long n)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(0.999999f);
            var a = Vector512.Create(1e-7f);
            Vector512<float> v0 = a, v1 = a, v2 = a, v3 = a, v4 = a, v5 = a, v6 = a, v7 = a, v8 = a, v9 = a, v10 = a, v11 = a;
            for (long i = 0; i < n; i++)
            {
                v0 = Vector512.FusedMultiplyAdd(v0, m, a); v1 = Vector512.FusedMultiplyAdd(v1, m, a);
                v2 = Vector512.FusedMultiplyAdd(v2, m, a); v3 = Vector512.FusedMultiplyAdd(v3, m, a);
                v4 = Vector512.FusedMultiplyAdd(v4, m, a); v5 = Vector512.FusedMultiplyAdd(v5, m, a);
                v6 = Vector512.FusedMultiplyAdd(v6, m, a); v7 = Vector512.FusedMultiplyAdd(v7, m, a);
                v8 = Vector512.FusedMultiplyAdd(v8, m, a); v9 = Vector512.FusedMultiplyAdd(v9, m, a);
                v10 = Vector512.FusedMultiplyAdd(v10, m, a); v11 = Vector512.FusedMultiplyAdd(v11, m, a);
            }
            return Vector512.Sum(v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11);
        }
        else
        {
            var m = Vector256.Create(0.999999f);
            var a = Vector256.Create(1e-7f);
            Vector256<float> v0 = a, v1 = a, v2 = a, v3 = a, v4 = a, v5 = a, v6 = a, v7 = a, v8 = a, v9 = a, v10 = a, v11 = a;
            for (long i = 0; i < n; i++)
            {
                v0 = Vector256.FusedMultiplyAdd(v0, m, a); v1 = Vector256.FusedMultiplyAdd(v1, m, a);
                v2 = Vector256.FusedMultiplyAdd(v2, m, a); v3 = Vector256.FusedMultiplyAdd(v3, m, a);
                v4 = Vector256.FusedMultiplyAdd(v4, m, a); v5 = Vector256.FusedMultiplyAdd(v5, m, a);
                v6 = Vector256.FusedMultiplyAdd(v6, m, a); v7 = Vector256.FusedMultiplyAdd(v7, m, a);
                v8 = Vector256.FusedMultiplyAdd(v8, m, a); v9 = Vector256.FusedMultiplyAdd(v9, m, a);
                v10 = Vector256.FusedMultiplyAdd(v10, m, a); v11 = Vector256.FusedMultiplyAdd(v11, m, a);
            }
            return Vector256.Sum(v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11);
        }
    }
}
