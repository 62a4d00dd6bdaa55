using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Training;

/// <summary>
/// A data-parallel step's replicas run on all its threads or one after another on the caller (<see cref="StepThreading"/>
/// picks by timing): the same bits either way, so the choice may follow the machine; and the chooser picks the faster way.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes DataParallelStep's and Dense's knobs
public class StepThreadingTests
{
    public static TheoryData<string> Configurations() => new(["dense", "sparse-posted", "deferred", "help"]);

    [Theory]
    [MemberData(nameof(Configurations))]
    public void OneThreadAndAllThreadsGiveTheSameBits(string configuration)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return; // one thread: nothing to choose
        float[,] x = Synthetic.LowRank(150, 60, 4, seed: 3);
        if (configuration == "sparse-posted")
        {
            var rng = new Random(4);
            for (int i = 0; i < x.GetLength(0); i++)
                for (int j = 0; j < x.GetLength(1); j++)
                    if (rng.NextDouble() < 0.85) x[i, j] = 0;
        }
        (float[][] Weights, List<double> Loss, bool Parallel, bool Alone) Run(int threading)
        {
            var saved = (DataParallelStep.Threading, DataParallelStep.DeferMinFloats, DataParallelStep.DeferBlockFloats,
                         Dense.SparseMinUnits, Latent.Kernels.Gemm.HelpFlops);
            DataParallelStep.Threading = threading;
            if (configuration == "sparse-posted") Dense.SparseMinUnits = 1;           // the input layer from its nonzeros
            if (configuration == "deferred") (DataParallelStep.DeferMinFloats, DataParallelStep.DeferBlockFloats) = (500, 300);
            if (configuration == "help") Latent.Kernels.Gemm.HelpFlops = 1;           // every multiply posted in two parts
            try
            {
                Randomness.SetSeed(5);
                var input = Input.Create(60);
                var h = new Dense(40, "relu").Apply(input);
                h = new Dense(12, "tanh").Apply(h);
                var model = new Model(input, new Dense(60, "sigmoid").Apply(h));
                model.Compile("adam", "binary_crossentropy");
                var history = model.Fit(x, x, epochs: 2, batchSize: 32, verbose: 0, seed: 9);
                return (model.GetWeights(), history.Loss, model.StepIsParallel, model.StepRanAlone);
            }
            finally
            {
                (DataParallelStep.Threading, DataParallelStep.DeferMinFloats, DataParallelStep.DeferBlockFloats,
                 Dense.SparseMinUnits, Latent.Kernels.Gemm.HelpFlops) = saved;
            }
        }
        var all = Run(2);
        var one = Run(1);
        var chosen = Run(0);
        Assert.True(all.Parallel && one.Parallel);
        Assert.False(all.Alone);
        Assert.True(one.Alone);
        Assert.Equal(all.Loss, one.Loss);
        Assert.Equal(all.Loss, chosen.Loss);
        for (int w = 0; w < all.Weights.Length; w++)
        {
            Assert.Equal(all.Weights[w], one.Weights[w]);
            Assert.Equal(all.Weights[w], chosen.Weights[w]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheChooserAlternatesInRoundsThenKeepsTheFasterWay(bool oneThreadFaster)
    {
        var choice = new StepThreading(() => 0);
        for (int step = 0; step < 8; step++)   // the first steps run on all threads, timed (the first is slow: it compiles)
        {
            Assert.False(choice.NextOnOneThread());
            choice.Record(false, step == 0 ? 1_000_000_000 : 130);
        }
        var ways = new List<bool>();
        for (int step = 0; step < 96; step++)
        {
            bool one = choice.NextOnOneThread();
            ways.Add(one);
            long ticks = one == oneThreadFaster ? 100 : 130;
            // The first steps after each switch are slow (state moving between the cores; here far slower for the
            // faster way), and one counted step of each way is disturbed: neither may decide.
            if (step % 16 < 4 && one == oneThreadFaster) ticks *= 100;
            if (step == 5 || step == 21) ticks *= 50;
            choice.Record(one, ticks);
        }
        for (int step = 0; step < 96; step++) Assert.Equal(step / 16 % 2 == 0, ways[step]);   // rounds of 16, one thread first
        Assert.Equal(1, choice.Trials);
        Assert.Equal(oneThreadFaster, choice.ChoseOneThread);
        for (int step = 0; step < 100; step++) Assert.Equal(oneThreadFaster, choice.NextOnOneThread());   // held for a second
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StepsTheHostDelayedInMostRoundsDoNotDecide(bool oneThreadFaster)
    {
        // The host now and then holds a vCPU for a millisecond, 12–14 steps of simple-32: here once in two of the three
        // rounds of the faster way, which doubled those rounds' sums and made the slower way look faster.
        var choice = new StepThreading(() => 0);
        for (int step = 0; step < 8; step++) { choice.NextOnOneThread(); choice.Record(false, 130); }
        for (int step = 0; step < 96; step++)
        {
            bool one = choice.NextOnOneThread();
            long ticks = one == oneThreadFaster ? 85 : 100;
            if (one == oneThreadFaster && step % 16 == 10 && step / 32 < 2) ticks += 1200;   // counted steps of its first two rounds
            choice.Record(one, ticks);
        }
        Assert.Equal(1, choice.Trials);
        Assert.Equal(oneThreadFaster, choice.ChoseOneThread);
    }

    [Fact]
    public void ATrialDuringWhichTheJitCompiledDecidesNothing()
    {
        // The JIT's background thread takes a core while it compiles: such a trial's rounds are not compared.
        long compiled = 0;
        var choice = new StepThreading(() => compiled);
        for (int step = 0; step < 8; step++) { choice.NextOnOneThread(); choice.Record(false, 130); }
        for (int step = 0; step < 96; step++)
        {
            bool one = choice.NextOnOneThread();
            if (step == 50) compiled++;
            choice.Record(one, one ? 100 : 130);
        }
        Assert.Equal(0, choice.Trials);
        Assert.False(choice.ChoseOneThread);
        Assert.False(choice.NextOnOneThread());   // the way it had, until the retry
    }

    [Fact]
    public void LongStepsAreNotTriedOnOneThread()
    {
        // A step of 5 ms on all threads: its arithmetic outweighs any exchange, and a trial would cost seconds.
        var choice = new StepThreading(() => 0);
        for (int step = 0; step < 200; step++)
        {
            Assert.False(choice.NextOnOneThread());
            choice.Record(false, (long)(0.005 * System.Diagnostics.Stopwatch.Frequency));
        }
        Assert.Equal(0, choice.Trials);
    }
}
