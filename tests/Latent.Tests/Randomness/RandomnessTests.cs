namespace Latent.Tests; // not Latent.Tests.Randomness: that would hide the Randomness class from every test

/// <summary>The global seed: what a thread builds after seeding does not depend on other threads drawing meanwhile.</summary>
public class RandomnessTests
{
    [Fact]
    public async Task ASeededThreadIsNotDisturbedByOthersDrawing()
    {
        Randomness.SetSeed(11);
        var expected = Enumerable.Range(0, 200).Select(_ => Randomness.NextSeed()).ToArray();
        using var stop = new CancellationTokenSource();
        var noise = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) Randomness.NextSeed();   // an unseeded thread, drawing all along
        });
        try
        {
            for (int round = 0; round < 20; round++)
            {
                Randomness.SetSeed(11);
                var drawn = Enumerable.Range(0, 200).Select(_ => Randomness.NextSeed()).ToArray();
                Assert.Equal(expected, drawn);
            }
        }
        finally
        {
            stop.Cancel();
            await noise;
        }
    }

    [Fact]
    public void AnUnseededThreadDrawsFromTheStreamTheSeedRestarted()
    {
        // A thread that never seeded draws from the shared stream, which SetSeed restarted: the same numbers as a
        // seeded thread's first draws.
        var results = new ulong[2];
        var seeding = new Thread(() =>
        {
            Randomness.SetSeed(21);
            results[0] = Randomness.NextSeed();
            var other = new Thread(() => results[1] = Randomness.NextSeed());
            other.Start();
            other.Join();
        });
        seeding.Start();
        seeding.Join();
        Assert.Equal(results[0], results[1]);
    }
}
