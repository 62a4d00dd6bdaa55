using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Training;

/// <summary>
/// The benchmarks' probe of a data-parallel step (<see cref="StepTimeline"/>): every timed step marks each thread's part
/// in order, and with the replicas run one after another on the caller, the second part starts after the first ends.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // sets DataParallelStep's static timeline and threading knob
public class StepTimelineTests
{
    private static StepTimeline Run(int threading)
    {
        float[,] x = Synthetic.LowRank(150, 60, 4, seed: 3);
        var saved = DataParallelStep.Threading;
        var timeline = new StepTimeline(Latent.Kernels.ComputePool.Shared.Threads);
        DataParallelStep.Threading = threading;
        try
        {
            Randomness.SetSeed(5);
            var input = Input.Create(60);
            var model = new Model(input, new Dense(60, "sigmoid").Apply(new Dense(12, "relu").Apply(input)));
            model.Compile("adagrad", "binary_crossentropy");
            model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0, seed: 9);   // builds the step (and its first steps run untimed)
            DataParallelStep.Timeline = timeline;
            model.Fit(x, x, epochs: 2, batchSize: 32, verbose: 0, seed: 9);
            Assert.True(model.StepIsParallel);
        }
        finally
        {
            DataParallelStep.Timeline = null;
            DataParallelStep.Threading = saved;
        }
        return timeline;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EveryPartMarksItsPhasesInOrder(int threading)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return; // one thread: no data-parallel step's parts to time
        var timeline = Run(threading);
        Assert.InRange(timeline.Steps, 2, 10);   // 150 rows at 32 a batch, two epochs: 10 steps, the short last ones perhaps not parallel
        for (int part = 0; part < 2; part++)
        {
            double previous = 0;
            for (int mark = 0; mark < StepTimeline.MarkNames.Length; mark++)
            {
                double t = timeline.MeanMicroseconds(part, mark);
                Assert.True(t >= previous, $"part {part}: {StepTimeline.MarkNames[mark]} at {t} µs, before the previous mark at {previous} µs");
                previous = t;
            }
            Assert.True(previous > 0, $"part {part} ended at {previous} µs");
        }
        if (threading == 1)
            Assert.True(timeline.MeanMicroseconds(1, 0) >= timeline.MeanMicroseconds(0, StepTimeline.MarkNames.Length - 1),
                        "one after another on the caller, the second part starts after the first returns");
    }

    [Fact]
    public void ClearForgetsTheSteps()
    {
        var timeline = new StepTimeline(1);
        timeline.Begin();
        timeline.Mark(0, 0);
        timeline.Mark(5, 0);   // a part beyond those timed is left out
        Assert.Equal(1, timeline.Steps);
        timeline.Clear();
        Assert.Equal(0, timeline.Steps);
        Assert.Equal(0, timeline.MeanMicroseconds(0, 0));
    }
}
