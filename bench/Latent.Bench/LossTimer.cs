using System.Diagnostics;
using Latent.Losses;

namespace Latent.Bench;

/// <summary>
/// The logit loss kernel alone, one thread: nanoseconds per element (loss and gradient), on logits spread over
/// [−8, 8] and on logits in [−16, −11], where a trained model puts most background pixels (their e^{−|z|} is so small
/// that its eighth power is subnormal).
/// </summary>
internal static class LossTimer
{
    public static void Run()
    {
        const int n = 100_352; // 128 × 784: one core's half of a batch of 256
        foreach (var (lo, hi) in new[] { (-8.0, 8.0), (-16.0, -11.0) })
        {
            var rng = new Random(1);
            var z = new float[n]; var t = new float[n]; var g = new float[n];
            for (int i = 0; i < n; i++) { z[i] = (float)(lo + rng.NextDouble() * (hi - lo)); t[i] = (float)rng.NextDouble(); }
            var loss = new BinaryCrossentropy();
            double sink = 0;
            for (int i = 0; i < 200; i++) sink += loss.SumFromLogits(z, t, g, 1f / n);
            var sw = Stopwatch.StartNew();
            const int reps = 2000;
            for (int i = 0; i < reps; i++) sink += loss.SumFromLogits(z, t, g, 1f / n);
            double ns = sw.Elapsed.TotalNanoseconds / reps / n;
            Console.WriteLine($"binary cross-entropy from logits in [{lo}, {hi}], loss + gradient: {ns:F3} ns/element, {sw.Elapsed.TotalMicroseconds / reps:F1} us per {n} (checksum {sink:E3})");
            sw.Restart();
            for (int i = 0; i < reps; i++) sink += loss.SumFromLogits(z, t, Span<float>.Empty, 1f / n);
            Console.WriteLine($"binary cross-entropy from logits in [{lo}, {hi}], loss only:       {sw.Elapsed.TotalNanoseconds / reps / n:F3} ns/element");
        }
    }
}
