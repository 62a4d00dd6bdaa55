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
    /// <summary>One shape's operands, random in [−0.5, 0.5), and the calls a round of about 2 ms makes at 50 GFLOPS.</summary>
    internal sealed class Product
    {
        public readonly bool TransA, TransB;
        public readonly int M, N, K, Reps;
        private readonly float[] _a, _b, _c;

        public Product(string item)
        {
            var f = item.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (f.Length != 5 || f[2] <= 0 || f[3] <= 0 || f[4] <= 0)
                throw new ArgumentException($"A shape is TA,TB,M,N,K with positive sizes; received '{item}'.");
            (TransA, TransB, M, N, K) = (f[0] != 0, f[1] != 0, f[2], f[3], f[4]);
            var rng = new Random(1);
            _a = new float[M * K]; _b = new float[K * N]; _c = new float[M * N];
            for (int i = 0; i < _a.Length; i++) _a[i] = (float)rng.NextDouble() - 0.5f;
            for (int i = 0; i < _b.Length; i++) _b[i] = (float)rng.NextDouble() - 0.5f;
            Reps = (int)Math.Clamp(1e8 / Flops, 1, 10000);
        }

        public double Flops => 2.0 * M * N * K;

        /// <summary>Runs the multiply <paramref name="times"/> times; returns microseconds a call.</summary>
        public double Time(int times)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < times; i++)
                Gemm.Multiply(TransA, TransB, M, N, K, _a, TransA ? M : K, _b, TransB ? K : N, _c, N, false);
            return sw.Elapsed.TotalMicroseconds / times;
        }
    }

    public static void Run(string spec)
    {
        Gemm.MaxThreads = 1;
        foreach (var item in spec.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = new Product(item);
            p.Time(3 * p.Reps);
            var rounds = new double[15];
            for (int r = 0; r < rounds.Length; r++) rounds[r] = p.Time(p.Reps);
            Array.Sort(rounds);
            Console.WriteLine(FormattableString.Invariant(
                $"{(p.TransA ? 1 : 0)} {(p.TransB ? 1 : 0)} {p.M} {p.N} {p.K} {rounds[rounds.Length / 2]:F2}"));
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
        int[] settings = [a, b];
        foreach (var item in spec.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = new GemmShapes.Product(item);
            var times = new[] { new List<double>(), new List<double>() };
            var ratios = new List<double>();
            foreach (int v in settings)
            {
                EpochTimer.SetKnob(knob, v);
                p.Time(2 * p.Reps);
            }
            for (int r = 0; r < rounds; r++)
            {
                for (int s = 0; s < 2; s++)
                {
                    EpochTimer.SetKnob(knob, settings[s]);
                    times[s].Add(p.Time(p.Reps));
                }
                ratios.Add(times[1][^1] / times[0][^1]);
            }
            double gflop = p.Flops / 1e3;
            Console.WriteLine(FormattableString.Invariant(
                $"{(p.TransA ? "T" : "N")}{(p.TransB ? "T" : "N")} {p.M}x{p.N}x{p.K}: {knob}={a} {Stats.Median(times[0]),9:F1} us ({gflop / Stats.Median(times[0]):F1} GFLOPS), {knob}={b} {Stats.Median(times[1]),9:F1} us ({gflop / Stats.Median(times[1]):F1}); ratio {Stats.Median(ratios):F3}"));
        }
    }
}
