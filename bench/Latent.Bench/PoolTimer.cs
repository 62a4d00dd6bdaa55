using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>What one fork/join through the compute pool costs: an empty two-part job, many times.</summary>
internal static class PoolTimer
{
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
    }
}
