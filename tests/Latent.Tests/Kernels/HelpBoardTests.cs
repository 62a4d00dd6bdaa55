using Latent.Kernels;
using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Kernels;

/// <summary>
/// <see cref="HelpBoard"/>: every part of every posted job runs exactly once, whether the poster or a helper runs it,
/// and a helper never runs a part of a job that has ended; multiplies posted by a data-parallel step's replicas give
/// the bits of the same multiplies run whole.
/// </summary>
[Collection(GemmSettingsCollection.Name)] // changes Gemm.HelpFlops, SparseRows.HelpFlops and Model.ParallelStepMinRows
public class HelpBoardTests
{
    private sealed class CountingWork(int parts) : IParallelWork
    {
        public readonly int[] Runs = new int[parts];
        public volatile bool Ended;
        public int Stale;

        public void Execute(int part)
        {
            if (Ended) Interlocked.Increment(ref Stale);
            Interlocked.Increment(ref Runs[part]);
            Thread.SpinWait(50 * (part % 3)); // parts of unequal length, so claims interleave
        }
    }

    [Fact]
    public void EveryPartOfEveryJobRunsOnceWithHelpersTakingSome()
    {
        var board = new HelpBoard();
        int helped = 0;
        bool stop = false;
        Exception? error = null;
        var helpers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            try
            {
                while (!Volatile.Read(ref stop))
                    if (board.TryHelp()) Interlocked.Increment(ref helped);
            }
            catch (Exception e)
            {
                error = e; // a part of another job run under this one's work: kept for the assertion, not a crashed test host
            }
        }) { IsBackground = true }).ToArray();
        foreach (var t in helpers) t.Start();
        var jobs = new List<CountingWork>();
        // On a thread of its own, so that a lost or doubled part (a poster waiting forever) fails the test instead of hanging it.
        var poster = new Thread(() =>
        {
            try
            {
                for (int j = 0; j < 20_000; j++)
                {
                    var work = new CountingWork(1 + j % 5);
                    board.Run(work, work.Runs.Length);
                    work.Ended = true;
                    jobs.Add(work);
                }
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true };
        poster.Start();
        bool finished = poster.Join(TimeSpan.FromSeconds(60));
        Volatile.Write(ref stop, true);
        Assert.True(finished, $"the poster hung after {jobs.Count} jobs");
        Assert.Null(error);
        foreach (var t in helpers) t.Join();
        Assert.Null(error);
        foreach (var work in jobs)
        {
            Assert.All(work.Runs, runs => Assert.Equal(1, runs));
            Assert.Equal(0, work.Stale);
        }
        if (Environment.ProcessorCount > 1) Assert.True(helped > 0, "no helper ever ran a part");
    }

    [Fact]
    public void NothingToHelpWithWhenNothingIsPosted()
    {
        var board = new HelpBoard();
        Assert.False(board.TryHelp());
        var work = new CountingWork(2);
        board.Run(work, 2);
        Assert.False(board.TryHelp());
        Assert.Equal([1, 1], work.Runs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]  // a fifth of the inputs lit: the first layer's products are the sparse ones (SparseRows)
    public void PostedMultipliesGiveTheBitsOfWholeOnes(bool sparseInput)
    {
        if (ComputePool.Shared.Threads < 2) return; // no replicas on one core
        float[,] x = Synthetic.LowRank(96, 300, 6, seed: 14);
        if (sparseInput) Synthetic.Sparsify(x, 0.2, 15);
        float[][] Run(long helpFlops)
        {
            var saved = (Gemm.HelpFlops, SparseRows.HelpFlops, Model.ParallelStepMinRows);
            (Gemm.HelpFlops, SparseRows.HelpFlops, Model.ParallelStepMinRows) = (helpFlops, helpFlops, 1);
            try
            {
                Randomness.SetSeed(12);
                var input = Input.Create(300);
                var h = new Dense(64, "relu").Apply(input);
                var model = new Model(input, new Dense(300, "sigmoid").Apply(new Dense(64, "relu").Apply(h)));
                model.Compile("adam", "binary_crossentropy");
                model.Fit(x, x, epochs: 2, batchSize: 48, verbose: 0, seed: 3);
                Assert.True(model.StepIsParallel);
                return model.GetWeights();
            }
            finally
            {
                (Gemm.HelpFlops, SparseRows.HelpFlops, Model.ParallelStepMinRows) = saved;
            }
        }
        var whole = Run(long.MaxValue);
        var posted = Run(1); // every multiply of every replica's backward posted, and helped with when a thread is free
        for (int w = 0; w < whole.Length; w++) Assert.Equal(whole[w], posted[w]);
    }
}
