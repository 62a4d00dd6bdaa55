using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Latent.Kernels;
using Latent.Losses;

namespace Latent.Bench;

/// <summary>
/// A sketch, not the engine: the notebook's simple model at batch 32 (784 → 32 ReLU → 784, sigmoid cross-entropy from
/// the logits, Adagrad) stepped with its decoder split by columns across two cores, against the engine's data-parallel
/// step (`Fit`'s, two shares of 16 rows) on the same MNIST batches, alternating every 25 steps in one process
/// (`tp-simple [steps]`). Both use the engine's kernels: the sparse input rows, the GEMM, the loss, Adagrad's loop.
/// <list type="bullet">
/// <item>Each core gathers its 16 rows, finds their nonzeros and runs the encoder on them, as a replica does.</item>
/// <item>Barrier; each core owns half the decoder's columns (its 32 × 392 kernel stored apart, its bias, their gradients
/// and Adagrad state) for all 32 rows: forward, loss, bias and kernel gradients without a share to add, and a partial
/// input gradient (32 × 32).</item>
/// <item>Barrier; each core adds the two partials on its 16 rows, runs ReLU's backward and the encoder's kernel gradient
/// from its rows' nonzeros (one array per core, as the replicas do), and updates its decoder half.</item>
/// <item>Barrier; each core updates half the encoder's kernel rows with the two shares summed (and core 0 its bias).</item>
/// </list>
/// Prints core 0's time per phase, the step times of both and the mean losses (which should agree to a few digits).
/// With <c>LATENT_TP_PIN=same</c> (or <c>swap</c>) each part's thread is pinned to the CPU of its number (or the other).
/// </summary>
internal static class TensorParallelSimple
{
    private const int B = 32, D = 784, H = 32, Rows = B / 2;

    /// <summary>Where core c's decoder columns start: 400 and 384 columns, so no cache line of a kernel row is shared.</summary>
    private static int Col0(int c) => c * 400;
    private static int Width(int c) => c == 0 ? 400 : D - 400;

    public static void Run(int steps, bool inPlace, bool full = false)
    {
        Console.WriteLine($"CPU: {FuzzRun.CpuModel()}; {ComputePool.Shared.Threads} threads");
        if (ComputePool.Shared.Threads != 2) { Console.WriteLine("The sketch is written for two cores."); return; }
        var (model, batch) = EpochTimer.Build("simple-32");
        if (batch != B) throw new InvalidOperationException($"simple-32 trains at batch {batch}, the sketch at {B}.");
        var xTrain = Latent.Datasets.Mnist.LoadBytes().XTrain;
        SampleSet set = xTrain;
        int n = set.Rows;
        var order = Enumerable.Range(0, n).ToArray();
        new Rng(1).Shuffle(order);
        model.FitStepForBench(set, order, 0, B);          // builds the engine's executors
        var s = new State(model.GetWeights(), set, inPlace, full);
        Console.WriteLine(inPlace ? "decoder kernel in place (32 × 784, each core its columns)" : "decoder kernel stored apart (each core its 32 × 400 or 32 × 384)");
        if (full) Console.WriteLine("and the encoder split by units (each core its 784 × 16 kernel, gathering and compressing all 32 rows itself)");
        var job = new Job(s);
        const int chunk = 25;
        var chunks = new List<double>[] { new(), new() };
        var losses = new double[2];
        var counted = new int[2];
        var start = new int[2];
        var sw = new Stopwatch();
        for (int c = 0, warm = 4; c < warm + 2 * (steps / chunk / 2); c++)
        {
            int k = c % 2;
            if (c == warm) { Array.Clear(s.Ticks); Array.Clear(s.Ticks1); s.Steps = 0; }
            sw.Restart();
            for (int j = 0; j < chunk; j++)
            {
                if (start[k] + 2 * B > n) start[k] = 0;
                double loss;
                if (k == 0) loss = model.FitStepForBench(set, order, start[k], B);
                else
                {
                    s.Begin(order, start[k]);
                    ComputePool.Shared.Run(job, 2);
                    loss = s.Loss;
                }
                start[k] += B;
                if (c >= warm) { losses[k] += loss; counted[k]++; }
            }
            if (c >= warm) chunks[k].Add(sw.Elapsed.TotalMicroseconds / chunk);
        }
        string Busy(long[] t) => ((t.Sum() - t[1] - t[5] - t[8]) * 1e6 / Stopwatch.Frequency / Math.Max(1, s.Steps)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine($"split decoder, busy (us/step, means, barriers left out): core 0 {Busy(s.Ticks)}, core 1 {Busy(s.Ticks1)}");
        string Phase(int i) => (s.Ticks[i] * 1e6 / Stopwatch.Frequency / Math.Max(1, s.Steps)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine($"split decoder, core 0 (us/step): gather {Phase(10)}; nonzeros {Phase(11)}; encoder {Phase(0)}; barrier {Phase(1)}; decoder forward {Phase(2)}; " +
                          $"loss {Phase(3)}; decoder gradients {Phase(4)}; barrier {Phase(5)}; encoder backward {Phase(6)}; decoder update {Phase(7)}; " +
                          $"barrier {Phase(8)}; encoder update {Phase(9)}");
        Console.WriteLine(FormattableString.Invariant(
            $"engine (data-parallel) {Stats.Median(chunks[0]):F1} us/step, split decoder {Stats.Median(chunks[1]):F1} us/step (medians of {chunks[0].Count} chunks of {chunk}, alternating); mean loss {losses[0] / counted[0]:F5} / {losses[1] / counted[1]:F5}"));
    }

    private sealed class Job(State s) : IParallelWork
    {
        [ThreadStatic] private static bool t_pinned;

        public void Execute(int part)
        {
            if (!t_pinned && Environment.GetEnvironmentVariable("LATENT_TP_PIN") is { } pin)
            {
                MachineProbe.PinTo(pin == "swap" ? 1 - part : part);
                t_pinned = true;
            }
            if (s.Full) s.StepFull(part);
            else s.Step(part);
        }
    }

    private sealed class State
    {
        public readonly long[] Ticks = new long[12], Ticks1 = new long[12];
        public int Steps;
        public double Loss;
        private readonly SampleSet _set;
        private int[] _order = [];
        private int _start;
        private readonly float[] _w1, _b1, _gW1Own = new float[D * H], _gB1 = new float[2 * H], _a1 = new float[D * H], _aB1 = new float[H];
        private readonly float[][] _gW1;                    // per core: the encoder's kernel gradient from its rows
        private readonly float[][] _w2 = new float[2][], _b2 = new float[2][], _gW2 = new float[2][], _gB2 = new float[2][], _a2 = new float[2][], _aB2 = new float[2][];
        private readonly float[] _x = new float[B * D], _h = new float[B * H], _dz1 = new float[B * H];
        private readonly float[][] _logits = new float[2][], _dy = new float[2][], _dhPartial = new float[2][];
        private readonly SparseRows[] _sparse = [new(), new()];
        private readonly double[] _loss = new double[2];
        private readonly BinaryCrossentropy _bce = new();
        private readonly TwoCoreBarrier _barrier = new();
        private readonly bool _inPlace;
        private readonly Aligned? _w2A, _gW2A, _a2A;
        private Span<float> _w2Full => _w2A!.Span;
        private Span<float> _gW2Full => _gW2A!.Span;
        private Span<float> _a2Full => _a2A!.Span;

        public readonly bool Full;
        private readonly float[][] _xAll = new float[2][], _w1s = new float[2][], _b1s = new float[2][], _gW1s = new float[2][], _gB1s = new float[2][],
            _a1s = new float[2][], _aB1s = new float[2][], _hPart = new float[2][], _dz1s = new float[2][];

        public State(float[][] weights, SampleSet set, bool inPlace, bool full)
        {
            _set = set;
            Full = full;
            const int u = H / 2;
            for (int c = 0; c < 2; c++)
            {
                _xAll[c] = new float[B * D];
                _w1s[c] = new float[D * u];
                for (int k = 0; k < D; k++) Array.Copy(weights[0], k * H + c * u, _w1s[c], k * u, u);
                _b1s[c] = weights[1].AsSpan(c * u, u).ToArray();
                (_gW1s[c], _gB1s[c], _a1s[c], _aB1s[c]) = (new float[D * u], new float[u], new float[D * u], new float[u]);
                (_hPart[c], _dz1s[c]) = (new float[B * u], new float[B * u]);
            }
            _inPlace = inPlace;
            if (inPlace)
            {
                (_w2A, _gW2A, _a2A) = (new Aligned(H * D), new Aligned(H * D), new Aligned(H * D));
                weights[2].CopyTo(_w2A.Span);
            }
            (_w1, _b1) = ((float[])weights[0].Clone(), (float[])weights[1].Clone());
            _gW1 = [_gW1Own, new float[D * H]];
            for (int c = 0; c < 2; c++)
            {
                int w = Width(c);
                _w2[c] = new float[H * w];
                for (int r = 0; r < H; r++) Array.Copy(weights[2], r * D + Col0(c), _w2[c], r * w, w);
                _b2[c] = weights[3].AsSpan(Col0(c), w).ToArray();
                (_gW2[c], _gB2[c], _a2[c], _aB2[c]) = (new float[H * w], new float[w], new float[H * w], new float[w]);
                (_logits[c], _dy[c], _dhPartial[c]) = (new float[B * w], new float[B * w], new float[B * H]);
            }
        }

        public void Begin(int[] order, int start) => (_order, _start) = (order, start);

        private void Mark(int phase, ref long t0, int part)
        {
            long t1 = Stopwatch.GetTimestamp();
            (part == 0 ? Ticks : Ticks1)[phase] += t1 - t0;
            t0 = t1;
        }

        public void Step(int c)
        {
            long t0 = Stopwatch.GetTimestamp();
            int r0 = c * Rows, col0 = Col0(c), w = Width(c);
            var w2 = _inPlace ? _w2Full.Slice(col0) : _w2[c];
            var gW2 = _inPlace ? _gW2Full.Slice(col0) : _gW2[c];
            int ld = _inPlace ? D : w;
            var x = _x.AsSpan(r0 * D, Rows * D);
            _set.CopyRows(_order.AsSpan(_start + r0, Rows), x);
            Mark(10, ref t0, c);
            var sparse = _sparse[c];
            if (!sparse.TryLoad(x, Rows, D, 1.0)) throw new InvalidOperationException("The rows did not load.");
            Mark(11, ref t0, c);
            var h = _h.AsSpan(r0 * H, Rows * H);
            sparse.Multiply(_w1, H, h, _b1);
            Simd.AddBiasRelu(h, default, H, relu: true);
            Mark(0, ref t0, c);
            Barrier();
            Mark(1, ref t0, c);
            Decoder(c, _x, w2, gW2, ld, ref t0);
            Barrier();
            Mark(5, ref t0, c);
            var dz = _dz1.AsSpan(r0 * H, Rows * H);
            Simd.Add(_dhPartial[0].AsSpan(r0 * H, Rows * H), _dhPartial[1].AsSpan(r0 * H, Rows * H), dz);
            var gB1 = _gB1.AsSpan(c * H, H);
            gB1.Clear();
            Simd.ReluBackwardColumnSums(h, dz, gB1, Rows, H);
            sparse.MultiplyTransposedByRows(dz, H, _gW1[c]);
            Mark(6, ref t0, c);
            if (_inPlace)
                for (int r = 0; r < H; r++)
                    Adagrad(_w2Full.Slice(r * D + col0, w), _gW2Full.Slice(r * D + col0, w), _a2Full.Slice(r * D + col0, w));
            else Adagrad(_w2[c], _gW2[c], _a2[c]);
            Adagrad(_b2[c], _gB2[c], _aB2[c]);
            Mark(7, ref t0, c);
            Barrier();
            Mark(8, ref t0, c);
            int k0 = c * (D / 2) * H, len = D / 2 * H;
            var g = _gW1[0].AsSpan(k0, len);
            Simd.Add(g, _gW1[1].AsSpan(k0, len), g);
            Adagrad(_w1.AsSpan(k0, len), g, _a1.AsSpan(k0, len));
            if (c == 0)
            {
                var gb = _gB1.AsSpan(0, H);
                Simd.Add(gb, _gB1.AsSpan(H, H), gb);
                Adagrad(_b1, gb, _aB1);
                Loss = _loss[0] + _loss[1];
                Steps++;
            }
            Mark(9, ref t0, c);
        }

        /// <summary>
        /// The step with the encoder split by units as well: each core gathers and compresses all 32 rows, computes its 16
        /// code units for them and its decoder columns; only the code (32 × 32) and the partial code gradients cross.
        /// </summary>
        public void StepFull(int c)
        {
            const int u = H / 2;
            long t0 = Stopwatch.GetTimestamp();
            int w = Width(c);
            var x = _xAll[c];
            _set.CopyRows(_order.AsSpan(_start, B), x);
            Mark(10, ref t0, c);
            var sparse = _sparse[c];
            if (!sparse.TryLoad(x, B, D, 1.0)) throw new InvalidOperationException("The rows did not load.");
            Mark(11, ref t0, c);
            var hp = _hPart[c];
            sparse.Multiply(_w1s[c], u, hp, _b1s[c]);
            Simd.AddBiasRelu(hp, default, u, relu: true);
            for (int r = 0; r < B; r++) hp.AsSpan(r * u, u).CopyTo(_h.AsSpan(r * H + c * u, u));
            Mark(0, ref t0, c);
            Barrier();
            Mark(1, ref t0, c);
            Decoder(c, x, _w2[c], _gW2[c], w, ref t0);
            Barrier();
            Mark(5, ref t0, c);
            var dz = _dz1s[c];
            for (int r = 0; r < B; r++)
                Simd.Add(_dhPartial[0].AsSpan(r * H + c * u, u), _dhPartial[1].AsSpan(r * H + c * u, u), dz.AsSpan(r * u, u));
            _gB1s[c].AsSpan().Clear();
            Simd.ReluBackwardColumnSums(hp, dz, _gB1s[c], B, u);
            sparse.MultiplyTransposedByRows(dz, u, _gW1s[c]);
            Mark(6, ref t0, c);
            Adagrad(_w2[c], _gW2[c], _a2[c]);
            Adagrad(_b2[c], _gB2[c], _aB2[c]);
            Mark(7, ref t0, c);
            Mark(8, ref t0, c);
            Adagrad(_w1s[c], _gW1s[c], _a1s[c]);
            Adagrad(_b1s[c], _gB1s[c], _aB1s[c]);
            if (c == 0)
            {
                Loss = _loss[0] + _loss[1];
                Steps++;
            }
            Mark(9, ref t0, c);
        }

        /// <summary>
        /// Core c's decoder columns for all 32 rows (its kernel at <paramref name="w2"/>, rows <paramref name="ld"/> apart):
        /// the logits, the loss against the targets in <paramref name="x"/>, the bias and kernel gradients and the partial
        /// code gradient.
        /// </summary>
        private void Decoder(int c, float[] x, Span<float> w2, Span<float> gW2, int ld, ref long t0)
        {
            int col0 = Col0(c), w = Width(c);
            Gemm.Multiply(false, false, B, w, H, _h, H, w2, ld, _logits[c], w, false, _b2[c]);
            Mark(2, ref t0, c);
            double loss = 0;
            float scale = 1f / (B * D);
            for (int r = 0; r < B; r++)
                loss += _bce.SumFromLogits(_logits[c].AsSpan(r * w, w), x.AsSpan(r * D + col0, w), _dy[c].AsSpan(r * w, w), scale);
            _loss[c] = loss / (B * D);
            Mark(3, ref t0, c);
            _gB2[c].AsSpan().Clear();
            Simd.AccumulateColumnSums(_dy[c], _gB2[c], B);
            Gemm.Multiply(true, false, H, w, B, _h, H, _dy[c], w, gW2, ld, false);
            Gemm.Multiply(false, true, B, H, w, _dy[c], w, w2, ld, _dhPartial[c], H, false);
            Mark(4, ref t0, c);
        }

        private void Barrier() => _barrier.Meet();
    }

    /// <summary>Floats starting on a 64-byte line, as the engine's store keeps its weights: no line of one core's columns is the other's.</summary>
    private sealed unsafe class Aligned
    {
        private readonly float[] _array;
        private readonly int _offset, _length;

        public Aligned(int length)
        {
            _array = GC.AllocateArray<float>(length + 16, pinned: true);
            fixed (float* p = _array) _offset = (int)((64 - (long)p % 64) % 64 / sizeof(float));
            _length = length;
        }

        public Span<float> Span => _array.AsSpan(_offset, _length);
    }

    /// <summary>Adagrad's vector loop as the optimizer runs it (η = 0.01, ε = 1e-7, whole vectors of +0 skipped).</summary>
    private static void Adagrad(Span<float> param, Span<float> grad, Span<float> acc)
    {
        var p = MemoryMarshal.Cast<float, Vector<float>>(param);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(grad);
        var av = MemoryMarshal.Cast<float, Vector<float>>(acc);
        var lr = new Vector<float>(0.01f);
        var e = new Vector<float>(1e-7f);
        for (int k = 0; k < p.Length; k++)
        {
            var g = gv[k];
            if (g.As<float, int>() == Vector<int>.Zero) continue;
            var a = av[k] + g * g;
            av[k] = a;
            p[k] -= lr * g / (Vector.SquareRoot(a) + e);
        }
        for (int i = p.Length * Vector<float>.Count; i < param.Length; i++)
        {
            float g = grad[i];
            acc[i] += g * g;
            param[i] -= 0.01f * g / (MathF.Sqrt(acc[i]) + 1e-7f);
        }
    }
}
