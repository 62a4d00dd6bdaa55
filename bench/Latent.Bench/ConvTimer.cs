using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>
/// The convolution kernels alone, one core, on the shapes of the blog's convolutional autoencoder (conv-128) and
/// keras.io's convolutional VAE: forward, kernel gradient and input gradient of 64 samples (a core's half of a
/// batch of 128), best of several runs, with the GFLOPS each reaches.
/// </summary>
internal static class ConvTimer
{
    public static void Run()
    {
        Console.WriteLine($"CPU: {FuzzRun.CpuModel()}; one thread, 64 samples; GFLOPS = 2·positions·P·F / time");
        Console.WriteLine($"{"layer",-34} {"forward",16} {"kernel grad",16} {"input grad",16}");
        // name, H, W, C, F, k, stride, same
        (string, int, int, int, int, int, int, bool)[] shapes =
        [
            ("conv 1→16 28×28 same", 28, 28, 1, 16, 3, 1, true),
            ("conv 16→8 14×14 same", 14, 14, 16, 8, 3, 1, true),
            ("conv 8→8 7×7 same", 7, 7, 8, 8, 3, 1, true),
            ("conv 8→8 8×8 same", 8, 8, 8, 8, 3, 1, true),
            ("conv 8→16 16×16 valid", 16, 16, 8, 16, 3, 1, false),
            ("conv 16→1 28×28 same", 28, 28, 16, 1, 3, 1, true),
            ("vae conv 1→32 28×28 s2 same", 28, 28, 1, 32, 3, 2, true),
            ("vae conv 32→64 14×14 s2 same", 14, 14, 32, 64, 3, 2, true),
        ];
        const int batch = 64;
        foreach (var (name, h, w, c, f, k, s, same) in shapes)
        {
            var g = ConvGeometry.Forward(h, w, c, k, k, s, s, same);
            var x = Random(batch * h * w * c, 1);
            var kernel = Random(g.PatchSize * f, 2);
            var bias = new float[f];
            var y = new float[batch * g.Positions * f];
            var dz = Random(y.Length, 3);
            var dK = new float[kernel.Length];
            var dX = new float[x.Length];
            double flops = 2.0 * batch * g.Positions * g.PatchSize * f;
            double fwd = Best(() => Conv.Forward(g, batch, x, kernel, bias, f, y, accumulate: false));
            double dk = Best(() => Conv.Backward(g, batch, x, dz, kernel, f, dK, default));
            double dx = Best(() => Conv.Backward(g, batch, x, dz, kernel, f, default, dX));
            Console.WriteLine($"{name,-34} {Cell(fwd, flops),16} {Cell(dk, flops),16} {Cell(dx, flops),16}");
        }
    }

    private static string Cell(double seconds, double flops) => $"{seconds * 1e3,6:F2} ms {flops / seconds / 1e9,5:F1}";

    private static double Best(Action run)
    {
        run();
        double best = double.MaxValue;
        for (int r = 0; r < 7; r++)
        {
            var sw = Stopwatch.StartNew();
            run();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
