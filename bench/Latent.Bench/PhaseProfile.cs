using System.Diagnostics;

namespace Latent.Bench;

/// <summary>Where a training step's time goes: forward, loss, backward, optimizer, timed over many steps on one batch.</summary>
internal static class PhaseProfile
{
    public static void Run(string row, int steps)
    {
        var (model, batch) = EpochTimer.Build(row);
        var ex = model.CreateTrainingExecutor(batch, 1);
        // MNIST's first images, not random values: a Dense layer reading them multiplies only the lit pixels.
        var input = ex.Input(0, batch);
        Latent.Datasets.Mnist.LoadBytes().XTrain.CopyRows(0, batch, input);
        ex.SetTargetInput(0, 0);
        var optimizer = model.Optimizer!;
        var t = new double[4];
        var sw = new Stopwatch();
        int warmUp = Math.Min(50, Math.Max(5, steps));   // JIT tiers and caches; a few steps suffice for the big models
        for (int s = 0; s < steps + warmUp; s++)
        {
            bool measure = s >= warmUp;
            ex.Profile = measure;
            sw.Restart();
            ex.Forward(batch, training: true, needOutput: false);
            if (measure) t[0] += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            ex.ComputeLosses(batch, withGradient: true);
            if (measure) t[1] += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            ex.Backward(batch);
            if (measure) t[2] += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            model.ApplyOptimizerForBench();
            if (measure) t[3] += sw.Elapsed.TotalMilliseconds;
        }
        double total = t.Sum();
        string[] names = ["forward", "loss", "backward", "optimizer"];
        Console.WriteLine($"{row}: {total / steps * 1000:F1} us/step");
        for (int i = 0; i < 4; i++) Console.WriteLine($"  {names[i],-10} {t[i] / steps * 1000,8:F1} us  {100 * t[i] / total,5:F1}%");
        double usPerTick = 1e6 / Stopwatch.Frequency / steps;
        for (int n = 0; n < ex.NodeCount; n++)
            Console.WriteLine($"    {ex.NodeName(n),-28} forward {ex.ForwardTicks[n] * usPerTick,7:F1} us  backward {ex.BackwardTicks[n] * usPerTick,7:F1} us");
        _ = optimizer;

        // The step Fit runs on several cores: each core a share of the batch (forward, loss, backward); the
        // optimizer then adds the shares' gradients as it updates.
        if (Environment.GetEnvironmentVariable("LATENT_REPLICAS_PER_CORE") is { } rpc) Model.ReplicasPerCore = int.Parse(rpc, System.Globalization.CultureInfo.InvariantCulture);
        var dp = model.CreateParallelStepForBench(batch, 1);
        dp.SetTargetInputs([0]);
        var data = Tensor.FromArray(input.ToArray(), batch, input.Length / batch);
        double run = 0, opt = 0;
        for (int s = 0; s < steps + warmUp; s++)
        {
            for (int p = 0; p < dp.Replicas; p++) dp.Replica(p).Profile = s >= warmUp;
            sw.Restart();
            dp.Run([data], [data], null, 0, batch);
            if (s >= warmUp) run += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            model.ApplyOptimizerForBench(dp.Partials);
            if (s >= warmUp) opt += sw.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine($"  data-parallel step ({dp.Replicas} replicas): {(run + opt) / steps * 1000:F1} us = gather + forward + loss + backward {run / steps * 1000:F1} us, optimizer with the sum of the shares {opt / steps * 1000:F1} us");
        for (int p = 0; p < dp.Replicas; p++)
        {
            var r = dp.Replica(p);
            double layers = 0;
            for (int n = 0; n < r.NodeCount; n++)
            {
                Console.WriteLine($"    replica {p} {r.NodeName(n),-28} forward {r.ForwardTicks[n] * usPerTick,7:F1} us  backward {r.BackwardTicks[n] * usPerTick,7:F1} us");
                layers += (r.ForwardTicks[n] + r.BackwardTicks[n]) * usPerTick;
            }
            Console.WriteLine($"    replica {p} layers {layers:F1} us + loss {r.LossTicks * usPerTick:F1} us of the step's {run / steps * 1000:F1} us");
        }
    }

    /// <summary>
    /// A knob's two settings on whole training steps as Fit runs them (a share per core, or one for the whole batch; the batch
    /// gathered from MNIST's bytes in a shuffled order), switched every
    /// <paramref name="chunk"/> steps, so both see the same phases of a machine whose speed drifts.
    /// </summary>
    public static void RunAb(string row, string knob, int a, int b, int steps, int chunk = 25)
    {
        var (model, batch) = EpochTimer.Build(row);
        var xTrain = Latent.Datasets.Mnist.LoadBytes().XTrain;
        var (median, ratio, count) = Alternate([model, model], batch, xTrain, k => EpochTimer.SetKnob(knob, k == 0 ? a : b), steps, chunk);
        Console.WriteLine(FormattableString.Invariant(
            $"{row} {knob}: {a}: {median[0]:F1} us/step (median of {count} chunks), {b}: {median[1]:F1} us/step; ratio of totals {ratio:F3}"));
    }

    /// <summary>
    /// Like <see cref="RunAb"/> for a knob read when a model's executors are built: two models built alike (same
    /// seed), one under each setting, trained in turn <paramref name="chunk"/> steps at a time on the same batches
    /// (`ab-build ROW KNOB=a,b [steps]`).
    /// </summary>
    public static void RunAbBuild(string row, string knob, int a, int b, int steps, int chunk = 25)
    {
        var xTrain = Latent.Datasets.Mnist.LoadBytes().XTrain;
        var models = new Model[2];
        int batch = 0;
        for (int k = 0; k < 2; k++)
        {
            EpochTimer.SetKnob(knob, k == 0 ? a : b);
            (models[k], batch) = EpochTimer.Build(row);
            models[k].FitStepForBench(xTrain, [.. Enumerable.Range(0, batch)], 0, batch);   // builds its executors now
        }
        var (median, ratio, count) = Alternate(models, batch, xTrain, null, steps, chunk);
        Console.WriteLine(FormattableString.Invariant(
            $"{row} {knob} (at build): {a}: {median[0]:F1} us/step (median of {count} chunks), {b}: {median[1]:F1} us/step; ratio of totals {ratio:F3}"));
    }

    /// <summary>
    /// Training steps alternating between setting 0 and 1 every <paramref name="chunk"/> steps after four chunks of
    /// warm-up: <paramref name="set"/> is called before each chunk, and <c>models[k]</c> runs it. Each model walks its
    /// own position in one shuffled order. Returns each setting's median µs a step over its chunks and the ratio of the
    /// total times (1 ÷ 0).
    /// </summary>
    private static (double[] Median, double Ratio, int Count) Alternate(Model[] models, int batch, ByteTensor xTrain,
        Action<int>? set, int steps, int chunk)
    {
        int n = xTrain.Rows;
        var order = Enumerable.Range(0, n).ToArray();
        new Rng(1).Shuffle(order);
        var sw = new Stopwatch();
        var time = new double[2];
        var chunks = new List<double>[] { new(), new() };
        var start = new int[2];
        for (int s = 0, warm = 4 * chunk; s < steps + warm; s += chunk)
        {
            int k = s / chunk % 2;
            set?.Invoke(k);
            // One model alternating a knob keeps one position, as before: its batches run on in order.
            int at = ReferenceEquals(models[0], models[1]) ? 0 : k;
            sw.Restart();
            for (int j = 0; j < chunk; j++)
            {
                if (start[at] + 2 * batch > n) start[at] = 0;
                models[k].FitStepForBench(xTrain, order, start[at], batch);
                start[at] += batch;
            }
            double ms = sw.Elapsed.TotalMilliseconds;
            if (s < warm) continue;
            time[k] += ms;
            chunks[k].Add(ms / chunk * 1000);
        }
        return ([Stats.Median(chunks[0]), Stats.Median(chunks[1])], time[1] / time[0], chunks[0].Count);
    }
}
