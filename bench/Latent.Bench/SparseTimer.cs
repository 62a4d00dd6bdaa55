using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>
/// The input layer's two products on MNIST batches, dense (<see cref="Gemm"/>) against sparse (<see cref="SparseRows"/>),
/// one core, µs a call: x·W + b and xᵀ·dz for a replica's share of each row's batch and the layer's units; xᵀ·dz both
/// from the nonzeros sorted by column and from the rows as they are. Twenty
/// rounds of forty calls, each round on the next rows of the training set, the programs alternating within a round.
/// </summary>
internal static class SparseTimer
{
    public static void Run()
    {
        Console.WriteLine($"CPU: {FuzzRun.CpuModel()}; one core; MNIST training rows from 1000 on");
        var (xTrain, _, _, _) = Latent.Datasets.Mnist.LoadBytes();
        const int width = 784, calls = 40, rounds = 20;
        long saved = Gemm.ParallelFlops;
        Gemm.ParallelFlops = long.MaxValue;
        try
        {
            Console.WriteLine("| rows | units | nonzeros | dense x·W | dense xᵀ·dz | find the nonzeros | sparse x·W | sort by column + sparse xᵀ·dz | of which the sort | sparse xᵀ·dz by rows |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var (rows, n) in new[] { (16, 32), (128, 32), (50, 64), (50, 128), (50, 256), (100, 256) })
            {
                var rng = new Random(1);
                float[] Random(int count) { var a = new float[count]; for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() - 0.5); return a; }
                var w = Random(width * n);
                var dz = Random(rows * n);
                var bias = new float[n];
                var z = new float[rows * n];
                var dw = new float[width * n];
                var x = new float[rows * width];
                var sparse = new SparseRows();
                var t = new double[7];
                long nonzeros = 0;
                var sw = new Stopwatch();
                for (int round = 0; round < rounds; round++)
                {
                    xTrain.CopyRows(1000 + round * rows, rows, x);
                    Time(0, () => Gemm.Multiply(false, false, rows, n, width, x, width, w, n, z, n, accumulate: false, bias));
                    Time(1, () => Gemm.Multiply(true, false, width, n, rows, x, width, dz, n, dw, n, accumulate: false));
                    Time(2, () => sparse.TryLoad(x, rows, width, 0.25));
                    Time(3, () => sparse.Multiply(w, n, z, bias));
                    // The columns are built on the first transposed product after a load: load again each call, take the load off.
                    Time(4, () => { sparse.TryLoad(x, rows, width, 0.25); sparse.MultiplyTransposed(dz, n, dw, accumulate: false); });
                    Time(5, () => { sparse.TryLoad(x, rows, width, 0.25); sparse.BuildColumns(); });
                    Time(6, () => sparse.MultiplyTransposedByRows(dz, n, dw));
                    nonzeros += sparse.NonZeros;
                }
                t[4] -= t[2];
                t[5] -= t[2];
                Console.WriteLine($"| {rows} | {n} | {nonzeros / rounds} ({100.0 * nonzeros / rounds / (rows * width):F0}%) | " +
                                  string.Join(" | ", t.Select(v => $"{v / (rounds * calls):F1}")) + " |");

                void Time(int slot, Action run)
                {
                    run();
                    sw.Restart();
                    for (int i = 0; i < calls; i++) run();
                    t[slot] += sw.Elapsed.TotalMicroseconds;
                }
            }
        }
        finally
        {
            Gemm.ParallelFlops = saved;
        }
    }

    /// <summary>
    /// xᵀ·dz by rows (<see cref="SparseRows.MultiplyTransposedByRows"/>) under a knob's two settings, and the sorted-column
    /// and dense products beside them, alternating call batch by call batch on the same MNIST rows, one core
    /// (`sparse-ab KNOB=a,b ROWS,UNITS [rounds]`): medians of the rounds, µs a call.
    /// </summary>
    public static void RunAb(string knob, int a, int b, int rows, int n, int rounds)
    {
        var (xTrain, _, _, _) = Latent.Datasets.Mnist.LoadBytes();
        const int width = 784, calls = 40;
        long saved = Gemm.ParallelFlops;
        Gemm.ParallelFlops = long.MaxValue;
        var rng = new Random(1);
        var dz = new float[rows * n];
        for (int i = 0; i < dz.Length; i++) dz[i] = (float)(rng.NextDouble() - 0.5);
        var dw = new float[width * n];
        var x = new float[rows * width];
        var sparse = new SparseRows();
        var times = new[] { new List<double>(), new List<double>(), new List<double>(), new List<double>() };
        var sw = new Stopwatch();
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                xTrain.CopyRows(1000 + round % 200 * rows, rows, x);
                sparse.TryLoad(x, rows, width, 0.25);
                EpochTimer.SetKnob(knob, a);
                Time(0, () => sparse.MultiplyTransposedByRows(dz, n, dw));
                EpochTimer.SetKnob(knob, b);
                Time(1, () => sparse.MultiplyTransposedByRows(dz, n, dw));
                Time(2, () => { sparse.TryLoad(x, rows, width, 0.25); sparse.MultiplyTransposed(dz, n, dw, accumulate: false); });
                Time(3, () => Gemm.Multiply(true, false, width, n, rows, x, width, dz, n, dw, n, accumulate: false));
            }
        }
        finally
        {
            Gemm.ParallelFlops = saved;
        }
        Console.WriteLine(FormattableString.Invariant(
            $"{rows}x{n}, {sparse.NonZeros} nonzeros: by rows {knob}={a} {Stats.Median(times[0]):F1} us, {knob}={b} {Stats.Median(times[1]):F1} us; sorted columns (with the load) {Stats.Median(times[2]):F1}; dense {Stats.Median(times[3]):F1}"));

        void Time(int slot, Action run)
        {
            run();
            sw.Restart();
            for (int i = 0; i < calls; i++) run();
            times[slot].Add(sw.Elapsed.TotalMicroseconds / calls);
        }
    }
}
