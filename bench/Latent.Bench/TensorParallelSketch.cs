using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>
/// A sketch, not the engine: vae-100's two large layers (784 → 256 ReLU, 256 → 784 with a stand-in for the logit
/// loss's gradient) and an RMSprop update, one step of 100 rows on two cores, partitioned two ways on the same GEMM:
/// <list type="bullet">
/// <item>data-parallel, as Fit runs today: each core 50 rows through both layers, its own weight gradients, then the
/// update summing the two cores' gradients over each core's half of the weights;</item>
/// <item>tensor-parallel: each core owns half of each layer's output columns for all 100 rows, stored apart ("sharded":
/// 784×128 and 256×392 per core), so its weights, their gradients and the update never leave it; the hidden layer's
/// halves and a partial input gradient (100×256 each) cross between the cores, at two barriers.</item>
/// </list>
/// Element-wise parts are plain loops in both (so both are slower than the engine's step). Prints core 0's time per
/// phase and the medians of fifteen alternating rounds of 300 steps each.
/// </summary>
internal static class TensorParallelSketch
{
    private const int B = 100, D = 784, Hd = 256;

    public static void Run()
    {
        Console.WriteLine($"CPU: {FuzzRun.CpuModel()}; {ComputePool.Shared.Threads} threads");
        if (ComputePool.Shared.Threads != 2) { Console.WriteLine("The sketch is written for two cores."); return; }
        var s = new State();
        var pool = ComputePool.Shared;
        var dpForward = new Job(s.DataParallelShare);
        var dpUpdate = new Job(s.DataParallelUpdate);
        var tp = new Job(s.TensorParallelShare);
        void DataParallel() { pool.Run(dpForward, 2); pool.Run(dpUpdate, 2); }
        void TensorParallel() => pool.Run(tp, 2);
        for (int w = 0; w < 200; w++) { DataParallel(); TensorParallel(); }
        Array.Clear(s.DpTicks);
        Array.Clear(s.TpTicks);
        const int rounds = 15, steps = 300;
        var times = new double[2][] { new double[rounds], new double[rounds] };
        for (int r = 0; r < 2 * rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) { if (r % 2 == 0) DataParallel(); else TensorParallel(); }
            times[r % 2][r / 2] = sw.Elapsed.TotalMicroseconds / steps;
        }
        string Phases(long[] ticks) => string.Join(", ", ticks.Select(t => (t * 1e6 / Stopwatch.Frequency / (rounds * steps)).ToString("F0")));
        Console.WriteLine($"data-parallel, core 0 (µs/step): forward 1 {Phases(s.DpTicks[..1])}; forward 2 + loss {Phases(s.DpTicks[1..2])}; " +
                          $"dW2 {Phases(s.DpTicks[2..3])}; dX2 {Phases(s.DpTicks[3..4])}; ReLU + dW1 {Phases(s.DpTicks[4..5])}; update {Phases(s.DpTicks[5..6])}");
        Console.WriteLine($"tensor-parallel, core 0 (µs/step): forward 1 {Phases(s.TpTicks[..1])}; barrier + forward 2 + loss {Phases(s.TpTicks[1..2])}; " +
                          $"dW2 {Phases(s.TpTicks[2..3])}; partial dX2 {Phases(s.TpTicks[3..4])}; barrier + sum + ReLU {Phases(s.TpTicks[4..5])}; " +
                          $"dW1 {Phases(s.TpTicks[5..6])}; update {Phases(s.TpTicks[6..7])}");
        Console.WriteLine($"data-parallel {Stats.Median(times[0]):F0} µs/step, tensor-parallel {Stats.Median(times[1]):F0} µs/step (medians, alternating)");
    }

    private sealed class Job(Action<int> run) : IParallelWork
    {
        public void Execute(int part) => run(part);
    }

    private sealed class State
    {
        public readonly long[] DpTicks = new long[6], TpTicks = new long[7];
        private readonly float[] _x, _w1, _w4, _a1 = new float[D * Hd], _a4 = new float[Hd * D];
        private readonly Share[] _shares = [new(), new()];
        private readonly float[] _h = new float[B * Hd], _y = new float[B * D], _dy = new float[B * D], _dh = new float[B * Hd];
        private readonly float[][] _dhPartial = [new float[B * Hd], new float[B * Hd]];
        private readonly float[][] _w1s, _w4s, _a1s, _a4s, _g1s, _g4s;
        private readonly TwoCoreBarrier _barrier = new();

        public State()
        {
            var rng = new Random(1);
            float[] R(int n, float scale, float shift = 0)
            {
                var a = new float[n];
                for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() - 0.5) * scale + shift;
                return a;
            }
            _x = R(B * D, 1, 0.5f);
            _w1 = R(D * Hd, 0.1f);
            _w4 = R(Hd * D, 0.1f);
            _w1s = [R(D * 128, 0.1f), R(D * 128, 0.1f)];
            _w4s = [R(Hd * 392, 0.1f), R(Hd * 392, 0.1f)];
            _a1s = [new float[D * 128], new float[D * 128]];
            _a4s = [new float[Hd * 392], new float[Hd * 392]];
            _g1s = [new float[D * 128], new float[D * 128]];
            _g4s = [new float[Hd * 392], new float[Hd * 392]];
        }

        private sealed class Share
        {
            public readonly float[] H = new float[50 * Hd], Y = new float[50 * D], DY = new float[50 * D], DH = new float[50 * Hd];
            public readonly float[] G1 = new float[D * Hd], G4 = new float[Hd * D];
        }

        private static void Mark(long[] ticks, int phase, ref long t0, int part)
        {
            if (part != 0) return;
            long t1 = Stopwatch.GetTimestamp();
            ticks[phase] += t1 - t0;
            t0 = t1;
        }

        public void DataParallelShare(int p)
        {
            long t0 = Stopwatch.GetTimestamp();
            var r = _shares[p];
            var x = _x.AsSpan(p * 50 * D, 50 * D);
            Gemm.Multiply(false, false, 50, Hd, D, x, D, _w1, Hd, r.H, Hd, false);
            for (int i = 0; i < r.H.Length; i++) r.H[i] = MathF.Max(r.H[i], 0);
            Mark(DpTicks, 0, ref t0, p);
            Gemm.Multiply(false, false, 50, D, Hd, r.H, Hd, _w4, D, r.Y, D, false);
            for (int i = 0; i < r.Y.Length; i++) r.DY[i] = (0.25f * r.Y[i] + 0.5f - x[i]) / (B * D);
            Mark(DpTicks, 1, ref t0, p);
            Gemm.Multiply(true, false, Hd, D, 50, r.H, Hd, r.DY, D, r.G4, D, false);
            Mark(DpTicks, 2, ref t0, p);
            Gemm.Multiply(false, true, 50, Hd, D, r.DY, D, _w4, D, r.DH, Hd, false);
            Mark(DpTicks, 3, ref t0, p);
            for (int i = 0; i < r.DH.Length; i++) if (r.H[i] <= 0) r.DH[i] = 0;
            Gemm.Multiply(true, false, D, Hd, 50, x, D, r.DH, Hd, r.G1, Hd, false);
            Mark(DpTicks, 4, ref t0, p);
        }

        public void DataParallelUpdate(int p)
        {
            long t0 = Stopwatch.GetTimestamp();
            RmsProp(_w1, _a1, _shares[0].G1, _shares[1].G1, p * (D * Hd / 2), D * Hd / 2);
            RmsProp(_w4, _a4, _shares[0].G4, _shares[1].G4, p * (Hd * D / 2), Hd * D / 2);
            Mark(DpTicks, 5, ref t0, p);
        }

        public void TensorParallelShare(int p)
        {
            long t0 = Stopwatch.GetTimestamp();
            int h0 = p * 128, y0 = p * 392;
            Gemm.Multiply(false, false, B, 128, D, _x, D, _w1s[p], 128, _h.AsSpan(h0), Hd, false);
            for (int i = 0; i < B; i++) for (int j = h0; j < h0 + 128; j++) _h[i * Hd + j] = MathF.Max(_h[i * Hd + j], 0);
            Mark(TpTicks, 0, ref t0, p);
            Barrier();
            Gemm.Multiply(false, false, B, 392, Hd, _h, Hd, _w4s[p], 392, _y.AsSpan(y0), D, false);
            for (int i = 0; i < B; i++) for (int j = y0; j < y0 + 392; j++) _dy[i * D + j] = (0.25f * _y[i * D + j] + 0.5f - _x[i * D + j]) / (B * D);
            Mark(TpTicks, 1, ref t0, p);
            Gemm.Multiply(true, false, Hd, 392, B, _h, Hd, _dy.AsSpan(y0), D, _g4s[p], 392, false);
            Mark(TpTicks, 2, ref t0, p);
            Gemm.Multiply(false, true, B, Hd, 392, _dy.AsSpan(y0), D, _w4s[p], 392, _dhPartial[p], Hd, false);
            Mark(TpTicks, 3, ref t0, p);
            Barrier();
            for (int i = 0; i < B; i++)
                for (int j = h0; j < h0 + 128; j++)
                {
                    int q = i * Hd + j;
                    _dh[q] = _h[q] > 0 ? _dhPartial[0][q] + _dhPartial[1][q] : 0;
                }
            Mark(TpTicks, 4, ref t0, p);
            Gemm.Multiply(true, false, D, 128, B, _x, D, _dh.AsSpan(h0), Hd, _g1s[p], 128, false);
            Mark(TpTicks, 5, ref t0, p);
            RmsProp(_w1s[p], _a1s[p], _g1s[p], null, 0, D * 128);
            RmsProp(_w4s[p], _a4s[p], _g4s[p], null, 0, Hd * 392);
            Mark(TpTicks, 6, ref t0, p);
        }

        private void Barrier() => _barrier.Meet();
    }

    private static void RmsProp(float[] w, float[] a, float[] g, float[]? g2, int start, int n)
    {
        var wv = MemoryMarshal.Cast<float, Vector<float>>(w.AsSpan(start, n));
        var av = MemoryMarshal.Cast<float, Vector<float>>(a.AsSpan(start, n));
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g.AsSpan(start, n));
        var g2v = g2 is null ? default : MemoryMarshal.Cast<float, Vector<float>>(g2.AsSpan(start, n));
        var eps = new Vector<float>(1e-7f);
        for (int k = 0; k < wv.Length; k++)
        {
            var gg = g2 is null ? gv[k] : gv[k] + g2v[k];
            av[k] = 0.9f * av[k] + 0.1f * gg * gg;
            wv[k] -= 0.001f * gg / (Vector.SquareRoot(av[k]) + eps);
        }
    }
}

/// <summary>Where the sketches' two cores meet: the first to arrive spins until the second does.</summary>
internal sealed class TwoCoreBarrier
{
    private int _arrived, _generation;

    public void Meet()
    {
        int generation = Volatile.Read(ref _generation);
        if (Interlocked.Increment(ref _arrived) == 2)
        {
            _arrived = 0;
            Interlocked.Increment(ref _generation);
            return;
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref _generation) == generation) spin.SpinOnce(-1);
    }
}
