using Latent.Kernels;

namespace Latent.Tests.Kernels;

[Collection(GemmSettingsCollection.Name)] // uses the shared pool exclusively
public class ComputePoolTests
{
    private sealed class Job(int failOn, int failAlsoOn = -1) : IParallelWork
    {
        public int[] Done = new int[8];
        public void Execute(int part)
        {
            if (part == failOn || part == failAlsoOn) throw new InvalidOperationException($"part {part} failed");
            Done[part]++;
        }
    }

    /// <summary>Parts 0 and 1 wait for each other: they only finish if they run at the same time.</summary>
    private sealed class Rendezvous : IParallelWork
    {
        private int _arrived;
        public void Execute(int part)
        {
            Interlocked.Increment(ref _arrived);
            var spin = new SpinWait();
            while (Volatile.Read(ref _arrived) < 2) spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    [Fact]
    public void WhenTheCallersPartAndAWorkersPartBothFailTheWorkersErrorDoesNotReachTheNextJob()
    {
        if (ComputePool.Shared.Threads < 2) return;
        var e = Assert.Throws<InvalidOperationException>(() => ComputePool.Shared.Run(new Job(0, 1), 2));
        Assert.Contains("part 0", e.Message);
        var ok = new Job(failOn: -1);
        ComputePool.Shared.Run(ok, 2);          // threw the left-over "part 1" error before
        Assert.Equal([1, 1], ok.Done[..2]);
    }

    [Fact]
    public void RunConcurrentlyRunsThePartsAtTheSameTime()
    {
        if (ComputePool.Shared.Threads < 2) return;
        ComputePool.Shared.RunConcurrently(new Rendezvous(), 2);   // would spin forever if run one after the other
        var e = Assert.Throws<InvalidOperationException>(() => ComputePool.Shared.RunConcurrently(new Job(-1), ComputePool.Shared.Threads + 1));
        Assert.Contains("cannot run at once", e.Message);
    }

    [Fact]
    public void EveryPartRunsOnce()
    {
        var job = new Job(failOn: -1);
        ComputePool.Shared.Run(job, 8);
        Assert.All(job.Done, d => Assert.Equal(1, d));
    }

    [Fact]
    public void AnExceptionInAnyPartReachesTheCallerAndThePoolKeepsWorking()
    {
        for (int failing = 0; failing < 2; failing++)
        {
            var e = Assert.Throws<InvalidOperationException>(() => ComputePool.Shared.Run(new Job(failing), 2));
            Assert.Contains($"part {failing}", e.Message);
        }
        var ok = new Job(failOn: -1);
        ComputePool.Shared.Run(ok, 4);
        Assert.Equal([1, 1, 1, 1], ok.Done[..4]);
    }

    /// <summary>Records the thread each part ran on.</summary>
    private sealed class ThreadJob : IParallelWork
    {
        public int[] Runs = new int[4];
        public int[] Threads = new int[4];
        public void Execute(int part)
        {
            Interlocked.Increment(ref Runs[part]);
            Threads[part] = Environment.CurrentManagedThreadId;
        }
    }

    [Fact]
    public async Task TheCallerRunsThePartsOfAWorkerThatHasNotStarted()
    {
        // A worker kept from its core (a busy machine) must not hold a job up: the caller takes its parts.
        using var held = new ManualResetEventSlim(false);
        var pool = new ComputePool(2) { BeforeClaimForTests = _ => held.Wait() };
        var first = new ThreadJob();
        int caller = -1;
        var run = Task.Run(() => { caller = Environment.CurrentManagedThreadId; pool.Run(first, 4); });
        await run.WaitAsync(TimeSpan.FromSeconds(60));        // TimeoutException: the job waited for the held worker
        Assert.All(first.Runs, r => Assert.Equal(1, r));
        Assert.All(first.Threads, t => Assert.Equal(caller, t));

        held.Set();                                           // the worker wakes for a job already done: it must skip it
        for (int i = 0; i < 50; i++)
        {
            var next = new ThreadJob();
            pool.Run(next, 4);
            Assert.All(next.Runs, r => Assert.Equal(1, r));
        }
        Assert.All(first.Runs, r => Assert.Equal(1, r));
        pool.RunConcurrently(new Rendezvous(), 2);           // and the released worker still takes its share
    }
}
