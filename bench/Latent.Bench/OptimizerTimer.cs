using System.Diagnostics;
using Latent.Optimizers;

namespace Latent.Bench;

/// <summary>
/// Each optimizer's update alone, one thread: nanoseconds per parameter over the deep model's 222,208 parameters
/// (`Latent.Bench optimizers`). Medians of 15 rounds of 200 updates.
/// </summary>
internal static class OptimizerTimer
{
    public static void Run()
    {
        const int n = 222_208;
        Latent.Kernels.Gemm.MaxThreads = 1;
        foreach (var opt in new Optimizer[] { new Sgd(0.01, momentum: 0.9), new Adagrad(), new RmsProp(), new Adadelta(), new Adam() })
        {
            var store = new ParameterStore(n);
            var rng = new Random(1);
            for (int i = 0; i < store.Length; i++) { store.Values[i] = (float)(rng.NextDouble() - 0.5); store.Grads[i] = (float)(rng.NextDouble() - 0.5) * 0.01f; }
            opt.Build(store.Length);
            var rounds = new List<double>();
            for (int r = 0; r < 16; r++)
            {
                var sw = Stopwatch.StartNew();
                for (int s = 0; s < 200; s++) opt.UpdateRange(store, null, store.Base, store.Length, (float)opt.LearningRate);
                if (r > 0) rounds.Add(sw.Elapsed.TotalNanoseconds / 200 / n);   // the first round warms up
            }
            rounds.Sort();
            Console.WriteLine($"{opt.Name,-10} {rounds[rounds.Count / 2]:F3} ns/parameter (fastest round {rounds[0]:F3}), one thread, {n} parameters");
        }
    }
}
