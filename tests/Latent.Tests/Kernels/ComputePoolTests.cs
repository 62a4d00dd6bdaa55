using Latent.Kernels;

namespace Latent.Tests.Kernels;

[Collection(GemmSettingsCollection.Name)] // uses the shared pool exclusively
public class ComputePoolTests
{
    private sealed class Job(int failOn) : IParallelWork
    {
        public int[] Done = new int[8];
        public void Execute(int part)
        {
            if (part == failOn) throw new InvalidOperationException($"part {part} failed");
            Done[part]++;
        }
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
}
