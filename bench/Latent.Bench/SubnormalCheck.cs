using System.Diagnostics;
using Latent.Datasets;

namespace Latent.Bench;

/// <summary>
/// Subnormal floats in a trained model: trains a row (EpochTimer's models) for some epochs, then counts the optimizer
/// state values that are subnormal, the share of test pixels whose logit has |z| > 10.9 (where e^{−|z|}'s eighth power
/// would be subnormal inside the loss), and times the optimizer's update of the whole store on the trained state
/// with the last step's gradient (a dead unit's entries are 0).
/// </summary>
internal static class SubnormalCheck
{
    public static void Run(string row, int epochs)
    {
        var (xTrain, _, xTest, _) = Mnist.Load();
        var (model, batch) = EpochTimer.Build(row);
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var sw = Stopwatch.StartNew();
            model.Fit(xTrain, xTrain, epochs: 1, batchSize: batch, shuffle: true, verbose: 0);
            long subnormal = 0, total = 0;
            foreach (var slot in model.Optimizer!.Slots)
                foreach (float v in slot) { total++; if (float.IsSubnormal(v)) subnormal++; }
            var p = model.Predict(xTest).ToArray();
            long extreme = p.LongCount(v => Math.Abs(Math.Log(v / (1.0 - v))) > 10.9 || v == 0 || v == 1);
            Console.WriteLine($"{row} epoch {epoch}: {sw.Elapsed.TotalSeconds:F3} s; optimizer state subnormal {subnormal} of {total}; " +
                              $"test logits with |z| > 10.9: {100.0 * extreme / p.Length:F1}%");
        }
        var times = new double[15];
        for (int r = 0; r < times.Length; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int k = 0; k < 100; k++) model.ApplyOptimizerForBench();
            times[r] = sw.Elapsed.TotalMicroseconds / 100;
        }
        Array.Sort(times);
        Console.WriteLine($"{row}: optimizer update of the whole store on the trained state: median {times[7]:F1} us, best {times[0]:F1} us");
    }
}
