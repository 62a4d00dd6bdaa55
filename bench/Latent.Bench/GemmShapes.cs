using System.Diagnostics;
using System.Globalization;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>
/// One thread's multiply on shapes given on the command line, for the side by side with OpenBLAS
/// (`python3 bench/gemm_compare.py`): `Latent.Bench gemm-shapes "TA,TB,M,N,K;..."` prints one line per shape,
/// `TA TB M N K microseconds` (the median of 15 rounds of about 2 ms each, after a warm-up), C = op(A)·op(B), no bias.
/// </summary>
internal static class GemmShapes
{
    public static void Run(string spec)
    {
        Gemm.MaxThreads = 1;
        foreach (var item in spec.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = item.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (f.Length != 5 || f[2] <= 0 || f[3] <= 0 || f[4] <= 0)
                throw new ArgumentException($"A shape is TA,TB,M,N,K with positive sizes; received '{item}'.");
            bool ta = f[0] != 0, tb = f[1] != 0;
            int m = f[2], n = f[3], k = f[4];
            var rng = new Random(1);
            var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble() - 0.5f;
            for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble() - 0.5f;
            int lda = ta ? m : k, ldb = tb ? k : n;
            double flops = 2.0 * m * n * k;
            // About 2 ms a round at 50 GFLOPS.
            int reps = (int)Math.Clamp(1e8 / flops, 1, 10000);
            for (int i = 0; i < 3 * reps; i++) Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, false);
            var rounds = new double[15];
            for (int r = 0; r < rounds.Length; r++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++) Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, false);
                rounds[r] = sw.Elapsed.TotalMicroseconds / reps;
            }
            Array.Sort(rounds);
            Console.WriteLine(FormattableString.Invariant($"{f[0]} {f[1]} {m} {n} {k} {rounds[rounds.Length / 2]:F2}"));
        }
    }
}

/// <summary>
/// A knob's two settings on the same multiplies, alternating round by round in one process, so both see the same
/// phases of a shared machine (`Latent.Bench gemm-ab KNOB=a,b "TA,TB,M,N,K;..." [rounds, 21]`): per shape, the median
/// microseconds of each setting and the median of the rounds' ratios (second ÷ first).
/// </summary>
internal static class GemmAb
{
    public static void Run(string knob, int a, int b, string spec, int rounds)
    {
        Gemm.MaxThreads = 1;
        foreach (var item in spec.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = item.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (f.Length != 5 || f[2] <= 0 || f[3] <= 0 || f[4] <= 0)
                throw new ArgumentException($"A shape is TA,TB,M,N,K with positive sizes; received '{item}'.");
            bool ta = f[0] != 0, tb = f[1] != 0;
            int m = f[2], n = f[3], k = f[4];
            var rng = new Random(1);
            var x = new float[m * k]; var y = new float[k * n]; var c = new float[m * n];
            for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
            for (int i = 0; i < y.Length; i++) y[i] = (float)rng.NextDouble() - 0.5f;
            int lda = ta ? m : k, ldb = tb ? k : n;
            int reps = (int)Math.Clamp(1e8 / (2.0 * m * n * k), 1, 10000);
            var times = new[] { new List<double>(), new List<double>() };
            var ratios = new List<double>();
            int[] settings = [a, b];
            foreach (int v in settings)
            {
                EpochTimer.SetKnob(knob, v);
                for (int i = 0; i < 2 * reps; i++) Gemm.Multiply(ta, tb, m, n, k, x, lda, y, ldb, c, n, false);
            }
            for (int r = 0; r < rounds; r++)
            {
                for (int s = 0; s < 2; s++)
                {
                    EpochTimer.SetKnob(knob, settings[s]);
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < reps; i++) Gemm.Multiply(ta, tb, m, n, k, x, lda, y, ldb, c, n, false);
                    times[s].Add(sw.Elapsed.TotalMicroseconds / reps);
                }
                ratios.Add(times[1][^1] / times[0][^1]);
            }
            double Median(List<double> l) => l.Order().ElementAt(l.Count / 2);
            double gflop = 2.0 * m * n * k / 1e3;
            Console.WriteLine(FormattableString.Invariant(
                $"{(ta ? "T" : "N")}{(tb ? "T" : "N")} {m}x{n}x{k}: {knob}={a} {Median(times[0]),9:F1} us ({gflop / Median(times[0]):F1} GFLOPS), {knob}={b} {Median(times[1]),9:F1} us ({gflop / Median(times[1]):F1}); ratio {Median(ratios):F3}"));
        }
    }
}
