using System.Diagnostics;
using Latent.Losses;

namespace Latent.Bench;

/// <summary>The logit loss kernel alone, one thread: nanoseconds per element (loss and gradient).</summary>
internal static class LossTimer
{
    public static void Run()
    {
        const int n = 100_352; // 128 × 784: one core's half of a batch of 256
        var rng = new Random(1);
        var z = new float[n]; var t = new float[n]; var g = new float[n];
        for (int i = 0; i < n; i++) { z[i] = (float)(rng.NextDouble() * 16 - 8); t[i] = (float)rng.NextDouble(); }
        var loss = new BinaryCrossentropy();
        double sink = 0;
        for (int i = 0; i < 200; i++) sink += loss.SumFromLogits(z, t, g, 1f / n);
        var sw = Stopwatch.StartNew();
        const int reps = 2000;
        for (int i = 0; i < reps; i++) sink += loss.SumFromLogits(z, t, g, 1f / n);
        double ns = sw.Elapsed.TotalNanoseconds / reps / n;
        Console.WriteLine($"binary cross-entropy from logits, loss + gradient: {ns:F3} ns/element, {sw.Elapsed.TotalMicroseconds / reps:F1} us per {n} (checksum {sink:E3})");
        sw.Restart();
        for (int i = 0; i < reps; i++) sink += loss.SumFromLogits(z, t, Span<float>.Empty, 1f / n);
        Console.WriteLine($"binary cross-entropy from logits, loss only:       {sw.Elapsed.TotalNanoseconds / reps / n:F3} ns/element");
    }
}
