using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>
/// The GEMM's row-panel cut and loop order on the models' per-core shapes, one thread, hot in cache
/// (`Latent.Bench panels`): uniform panels with column panels outermost (the base), exact six-and-five panels
/// (<c>ExactPanels</c>), row panels outermost for small B slabs (<c>RowPanelsOuter</c>), and both. The four run in
/// turn, 60 rounds of 200 calls each; medians, and a check that all four wrote the same bits.
/// </summary>
internal static class PanelOrderTimer
{
    public static void Run()
    {
        var shapes = new (string Name, bool Ta, bool Tb, int M, int N, int K, bool Bias)[]
        {
            ("fwd 128x32 . 32x784 + b", false, false, 128, 784, 32, true),
            ("dW  (128x32)T . 128x784", true, false, 32, 784, 128, false),
            ("dX  128x784 . (32x784)T", false, true, 128, 32, 784, false),
            ("fwd 128x784 . 784x32", false, false, 128, 32, 784, false),
            ("dW  (128x784)T . 128x32", true, false, 784, 32, 128, false),
            ("fwd 32x32 . 32x784 + b", false, false, 32, 784, 32, true),
            ("dW  (32x32)T . 32x784", true, false, 32, 784, 32, false),
            ("fwd 50x128 . 128x784 + b", false, false, 50, 784, 128, true),
            ("dW  (50x128)T . 50x784", true, false, 128, 784, 50, false),
            ("fwd 50x64 . 64x128 + b", false, false, 50, 128, 64, true),
        };
        var (maxThreads, exact, rowOuter) = (Gemm.MaxThreads, Gemm.ExactPanels, Gemm.RowPanelsOuter);
        Gemm.MaxThreads = 1;
        var rng = new Random(1);
        float[] Random(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() - 0.5); return a; }
        Console.WriteLine($"GEMM panels and loop order, {Gemm.BestIsa}, one thread, hot; µs a call (medians), change against the base");
        foreach (var s in shapes)
        {
            int lda = s.Ta ? s.M : s.K, ldb = s.Tb ? s.K : s.N;
            var a = Random(s.M * s.K); var b = Random(s.K * s.N); var bias = Random(s.N);
            var c = new float[4][];
            var times = new List<double>[4];
            for (int v = 0; v < 4; v++) { c[v] = new float[s.M * s.N]; times[v] = []; }
            for (int round = 0; round < 60; round++)
            for (int v = 0; v < 4; v++)
            {
                (Gemm.ExactPanels, Gemm.RowPanelsOuter) = ((v & 1) != 0, (v & 2) != 0);
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < 200; r++)
                    Gemm.Multiply(s.Ta, s.Tb, s.M, s.N, s.K, a, lda, b, ldb, c[v], s.N, false, s.Bias ? bias : default);
                times[v].Add(sw.Elapsed.TotalMicroseconds / 200);
            }
            for (int v = 1; v < 4; v++)
                if (!c[0].AsSpan().SequenceEqual(c[v])) throw new InvalidOperationException($"{s.Name}: variant {v} changed the bits");
            var med = times.Select(t => Stats.Median(t)).ToArray();
            double mflop = 2.0 * s.M * s.N * s.K / 1e3;
            Console.WriteLine($"{s.Name,-26} base {med[0],7:F1} µs {mflop / med[0],5:F1} GFLOPS | exact panels {Pct(med[1], med[0])} | " +
                              $"row panels outer {Pct(med[2], med[0])} | both {Pct(med[3], med[0])}");
        }
        (Gemm.MaxThreads, Gemm.ExactPanels, Gemm.RowPanelsOuter) = (maxThreads, exact, rowOuter);
    }

    private static string Pct(double x, double baseline) => $"{(x / baseline - 1) * 100,6:+0.0;-0.0}%";
}
