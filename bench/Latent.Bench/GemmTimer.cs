using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>Stopwatch timing of the matrix multiply on the model shapes (quick look; the BenchmarkDotNet suite is the reference).</summary>
internal static class GemmTimer
{
    public static void Run(int threads)
    {
        Gemm.MaxThreads = threads;
        Console.WriteLine($"GEMM, {Gemm.BestIsa}, threads ≤ {threads}, parallel above {Gemm.ParallelFlops} flops");
        (string, bool, bool, int, int, int)[] shapes =
        [
            ("fwd 256x784 . 784x32", false, false, 256, 32, 784),
            ("fwd 256x32 . 32x784", false, false, 256, 784, 32),
            ("dW  (256x784)T . 256x32", true, false, 784, 32, 256),
            ("dW  (256x32)T . 256x784", true, false, 32, 784, 256),
            ("dX  256x784 . (32x784)T", false, true, 256, 32, 784),
            ("dX  256x32 . (784x32)T", false, true, 256, 784, 32),
            ("fwd 100x784 . 784x128", false, false, 100, 128, 784),
            ("fwd 32x784 . 784x32", false, false, 32, 32, 784),
            ("fwd 32x32 . 32x784", false, false, 32, 784, 32),
            ("dW  (32x784)T . 32x32", true, false, 784, 32, 32),
            ("dW  (32x32)T . 32x784", true, false, 32, 784, 32),
            ("dX  32x784 . (32x784)T", false, true, 32, 32, 784),
            ("dX  100x784 . (128x784)T", false, true, 100, 128, 784),
            ("fwd 16x784 . 784x32", false, false, 16, 32, 784),         // batch 32 split in two: one core's products
            ("fwd 16x32 . 32x784", false, false, 16, 784, 32),
            ("dW  (16x784)T . 16x32", true, false, 784, 32, 16),
            ("dW  (16x32)T . 16x784", true, false, 32, 784, 16),
            ("dX  16x784 . (32x784)T", false, true, 16, 32, 784),
            ("fwd 50x784 . 784x128", false, false, 50, 128, 784),       // the deep model's half-batch products (one core each)
            ("dW  (50x784)T . 50x128", true, false, 784, 128, 50),
            ("fwd 50x128 . 128x784", false, false, 50, 784, 128),
            ("dW  (50x128)T . 50x784", true, false, 128, 784, 50),
            ("dX  50x784 . (128x784)T", false, true, 50, 128, 784),
            ("lstm proj 1792x28 . 28x256", false, false, 1792, 256, 28),   // lstm-128's encoder, one core's 64 sequences of 28 steps
            ("lstm h.U 64x64 . 64x256", false, false, 64, 256, 64),
            ("lstm d.Ut 64x256 . 256x64", false, false, 64, 64, 256),
            ("lstm dU (1792x64)T . 1792x256", true, false, 64, 256, 1792),
            ("dec dX 1792x112 . (64x112)T", false, true, 1792, 64, 112),    // its decoder's input gradient
            ("1024^3", false, false, 1024, 1024, 1024),
        ];
        foreach (var (name, ta, tb, m, n, k) in shapes)
        {
            var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = (i % 5) * 0.1f;
            int lda = ta ? m : k, ldb = tb ? k : n;
            double flops = 2.0 * m * n * k;
            int reps = (int)Math.Clamp(2e9 / flops, 3, 20000);
            for (int i = 0; i < Math.Min(reps, 50); i++) Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, false);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, false);
            double s = sw.Elapsed.TotalSeconds / reps;
            Console.WriteLine($"{name,-26} {s * 1e6,10:F1} us {flops / s / 1e9,8:F1} GFLOPS");
        }
    }
}
