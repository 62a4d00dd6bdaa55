using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>
/// The convolution kernels alone, one core, on the shapes of the blog's convolutional autoencoder (conv-128) and
/// keras.io's convolutional VAE and the denoisers: forward, kernel gradient and input gradient of 64 samples (a core's
/// half of a batch of 128), best of several runs, with the GFLOPS each reaches, routed as now and with the routing of
/// 32-filter convolutions through the GEMM off.
/// </summary>
internal static class ConvTimer
{
    public static void Run()
    {
        Console.WriteLine($"CPU: {FuzzRun.CpuModel()}; one thread, 64 samples; GFLOPS = 2·positions·P·F / time");
        // LATENT_CONV_KNOB=EightWide compares 8-filter blocks of eight positions against four instead of the routing.
        bool eightWide = Environment.GetEnvironmentVariable("LATENT_CONV_KNOB") == "EightWide";
        Console.WriteLine(eightWide
            ? "Each cell: as now, then with Conv.EightWide off (8-filter convolutions four positions per block)."
            : "Each cell: as routed now, then with Conv.GemmRouting off (32+ filters on the direct kernels whatever the stride and width).");
        Console.WriteLine($"{"layer",-36} {"forward",30} {"kernel grad",30} {"input grad",30}");
        // name, H, W, C, F, k, stride, same: the convolution (a transposed one is the input gradient of the one listed)
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
            ("vae transpose 64→64 7×7 s2 (as conv)", 14, 14, 64, 64, 3, 2, true),
            ("vae transpose 64→32 14×14 s2 (as conv)", 28, 28, 32, 64, 3, 2, true),
            ("denoise conv 32→32 28×28 same", 28, 28, 32, 32, 3, 1, true),
            ("denoise conv 32→32 14×14 same", 14, 14, 32, 32, 3, 1, true),
            ("denoise transpose 32→32 s2 (as conv)", 28, 28, 32, 32, 3, 2, true),
        ];
        const int batch = 64;
        int savedThreads = Gemm.MaxThreads;
        Gemm.MaxThreads = 1;
        try
        {
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
                var cells = new string[3];
                for (int phase = 0; phase < 3; phase++)
                {
                    Action run = phase switch
                    {
                        0 => () => Conv.Forward(g, batch, x, kernel, bias, f, y, accumulate: false),
                        1 => () => Conv.Backward(g, batch, x, dz, kernel, f, dK, default),
                        _ => () => Conv.Backward(g, batch, x, dz, kernel, f, default, dX, overwriteSrc: true),
                    };
                    var (now, off) = BestAlternating(run, eightWide);
                    cells[phase] = $"{Cell(now, flops)} / {flops / off / 1e9,5:F1}";
                }
                Console.WriteLine($"{name,-36} {cells[0],30} {cells[1],30} {cells[2],30}");
            }
        }
        finally
        {
            Gemm.MaxThreads = savedThreads;
            Conv.GemmRouting = true;
        }
    }

    /// <summary>Best of seven runs with the knob (<see cref="Conv.GemmRouting"/>, or <see cref="Conv.EightWide"/>) on and seven with it off, alternating.</summary>
    private static (double On, double Off) BestAlternating(Action run, bool eightWide)
    {
        double on = double.MaxValue, off = double.MaxValue;
        for (int r = 0; r < 16; r++)
        {
            if (eightWide) Conv.EightWide = r % 2 == 0;
            else Conv.GemmRouting = r % 2 == 0;
            var sw = Stopwatch.StartNew();
            run();
            double t = sw.Elapsed.TotalSeconds;
            if (r < 2) continue;   // first of each: warm-up
            if (r % 2 == 0) on = Math.Min(on, t); else off = Math.Min(off, t);
        }
        Conv.GemmRouting = true;
        Conv.EightWide = true;
        return (on, off);
    }

    private static string Cell(double seconds, double flops) => $"{seconds * 1e3,6:F2} ms {flops / seconds / 1e9,5:F1}";

    private static float[] Random(int n, int seed)
    {
        var rng = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
