using System.Diagnostics;
using Latent.Layers;

namespace Latent.Bench;

/// <summary>
/// A masked sequence autoencoder (Masking → LSTM(64) → RepeatVector → LSTM(28, sequences), MSE, Adam, batch 128) on
/// 6,400 random sequences of 28 × 28 whose last 0–6 steps are padding: epochs alternating between one executor and the
/// data-parallel step, in one process, and the median of each.
/// </summary>
internal static class MaskedTimer
{
    public static void Run(int repetitions)
    {
        Console.WriteLine($"CPU: {FuzzRun.CpuModel()}; {Kernels.ComputePool.Shared.Threads} threads");
        const int n = 6400, t = 28, d = 28;
        var rng = new Random(3);
        var data = new float[n * t * d];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        for (int b = 0; b < n; b++)
            for (int s = t - b % 7; s < t; s++) data.AsSpan((b * t + s) * d, d).Clear();
        var x = Tensor.FromArray(data, n, t, d);
        Model Build()
        {
            Randomness.SetSeed(1);
            var input = Input.Create(t, d);
            var code = new LSTM(64).Apply(new Masking(0).Apply(input));
            var m = new Model(input, new LSTM(d, returnSequences: true).Apply(new RepeatVector(t).Apply(code)));
            m.Compile("adam", "mse");
            return m;
        }
        Model[] models = [Build(), Build()];
        string[] names = ["one executor", "data-parallel"];
        var times = new List<double>[] { [], [] };
        int saved = Model.ParallelStepMinRows;
        try
        {
            for (int rep = 0; rep < repetitions; rep++)
                for (int k = 0; k < 2; k++)
                {
                    Model.ParallelStepMinRows = k == 0 ? int.MaxValue : saved;
                    var sw = Stopwatch.StartNew();
                    models[k].Fit(x, x, epochs: 1, batchSize: 128, verbose: 0, seed: 1);
                    times[k].Add(sw.Elapsed.TotalSeconds);
                    Console.WriteLine($"{names[k]}: {sw.Elapsed.TotalSeconds:F3} s (data-parallel step: {models[k].StepIsParallel})");
                }
        }
        finally
        {
            Model.ParallelStepMinRows = saved;
        }
        Console.WriteLine($"medians: one executor {Stats.Median(times[0]):F3} s, data-parallel {Stats.Median(times[1]):F3} s");
    }
}
