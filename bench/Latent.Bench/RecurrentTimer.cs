using System.Diagnostics;
using Latent.Kernels;

namespace Latent.Bench;

/// <summary>Where an LSTM step's time goes: the per-step recurrent product against the gates' element-wise work.</summary>
internal static class RecurrentTimer
{
    public static void Run(int batch, int steps, int d, int h, int reps = 200)
    {
        int g4 = 4 * h;
        var x = new float[batch * steps * d];
        var w = new float[d * g4];
        var u = new float[h * g4];
        var gates = new float[batch * steps * g4];
        var hp = new float[batch * (steps + 1) * h];
        var rnd = new Random(1);
        foreach (var a in new[] { x, w, u, hp }) for (int i = 0; i < a.Length; i++) a[i] = (float)rnd.NextDouble() * 0.1f;
        double Time(Action act)
        {
            for (int i = 0; i < 5; i++) act();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) act();
            return sw.Elapsed.TotalMilliseconds * 1000 / reps;
        }
        double proj = Time(() => Gemm.Multiply(false, false, batch * steps, g4, d, x, d, w, g4, gates, g4, false));
        double rec = Time(() =>
        {
            for (int t = 0; t < steps; t++)
                Gemm.Multiply(false, false, batch, g4, h, hp.AsSpan(t * h), (steps + 1) * h, u, g4, gates.AsSpan(t * g4), steps * g4, true);
        });
        double one = Time(() =>
        {
            int saved = Gemm.MaxThreads;
            Gemm.MaxThreads = 1;
            for (int t = 0; t < steps; t++)
                Gemm.Multiply(false, false, batch, g4, h, hp.AsSpan(t * h), (steps + 1) * h, u, g4, gates.AsSpan(t * g4), steps * g4, true);
            Gemm.MaxThreads = saved;
        });
        double flops = 2.0 * batch * g4 * h * steps;
        // What the layer runs: U packed once a sequence, the step products from the packed panel.
        var packedU = new float[Gemm.PackedLength(h, g4)];
        var packedUt = new float[Gemm.PackedLength(g4, h)];
        var dhAll = new float[batch * h];
        var hBefore = new float[batch * steps * h];
        var xT = new float[batch * steps * d];
        var dU = new float[h * g4];
        var dW = new float[d * g4];
        var dB = new float[g4];
        var dx = new float[batch * steps * d];
        int savedThreads = Gemm.MaxThreads;
        Gemm.MaxThreads = 1;
        double packedForward = Time(() =>
        {
            Gemm.PackWhole(false, u, g4, h, g4, packedU);
            for (int t = 0; t < steps; t++)
                Gemm.MultiplyPacked(false, batch, g4, h, hp.AsSpan(t * h), (steps + 1) * h, packedU, gates.AsSpan(t * g4), steps * g4, true);
        });
        double packedBackward = Time(() =>
        {
            Gemm.PackWhole(true, u, g4, g4, h, packedUt);
            for (int t = 0; t < steps; t++)
                Gemm.MultiplyPacked(false, batch, h, g4, gates.AsSpan(t * g4), steps * g4, packedUt, dhAll, h, false);
        });
        double gradU = Time(() => Gemm.Multiply(true, false, h, g4, batch * steps, hBefore, h, gates, g4, dU, g4, true));
        double gradW = Time(() => Gemm.Multiply(true, false, d, g4, batch * steps, xT, d, gates, g4, dW, g4, true));
        double gradX = Time(() => Gemm.Multiply(false, true, batch * steps, d, g4, gates, g4, w, g4, dx, d, true));
        double gradB = Time(() => Simd.AccumulateColumnSums(gates, dB, batch * steps));
        Gemm.MaxThreads = savedThreads;
        double pf = 2.0 * batch * steps * g4 * h, wf = 2.0 * batch * steps * g4 * d;
        var c = new float[batch * (steps + 1) * h];
        var tc = new float[batch * steps * h];
        var dh = new float[batch * h];
        var dc = new float[batch * h];
        var saved0 = (float[])gates.Clone();
        double cellsForward = Time(() =>
        {
            saved0.CopyTo(gates, 0);
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < batch; b++)
                    RecurrentCells.LstmForward(gates.AsSpan((b * steps + t) * g4, g4), c.AsSpan((b * (steps + 1) + t) * h, h), c.AsSpan((b * (steps + 1) + t + 1) * h, h),
                                               tc.AsSpan((b * steps + t) * h, h), hp.AsSpan((b * (steps + 1) + t + 1) * h, h), h);
        });
        var acts = (float[])gates.Clone();
        double cellsBackward = Time(() =>
        {
            acts.CopyTo(gates, 0);
            for (int t = steps - 1; t >= 0; t--)
                for (int b = 0; b < batch; b++)
                    RecurrentCells.LstmBackward(gates.AsSpan((b * steps + t) * g4, g4), tc.AsSpan((b * steps + t) * h, h), c.AsSpan((b * (steps + 1) + t) * h, h),
                                                dh.AsSpan(b * h, h), default, dc.AsSpan(b * h, h), h);
        });
        double copy = Time(() => saved0.CopyTo(gates, 0));
        int rows = batch * steps;
        Console.WriteLine($"B={batch} T={steps} D={d} H={h}: projection {proj:F0} us, recurrent products {rec:F0} us ({flops / rec / 1e3:F1} GFLOPS), on one core {one:F0} us ({flops / one / 1e3:F1} GFLOPS); " +
                          $"cells forward {cellsForward - copy:F0} us ({(cellsForward - copy) * 1000 / rows:F0} ns a row), backward {cellsBackward - copy:F0} us ({(cellsBackward - copy) * 1000 / rows:F0} ns a row)");
        Console.WriteLine($"  one core: h·U {packedForward:F0} us ({pf / packedForward / 1e3:F1} GFLOPS), δ·Uᵀ {packedBackward:F0} us ({pf / packedBackward / 1e3:F1}), " +
                          $"dU {gradU:F0} us ({pf / gradU / 1e3:F1}), dW {gradW:F0} us ({wf / gradW / 1e3:F1}), dX {gradX:F0} us ({wf / gradX / 1e3:F1}), bias {gradB:F0} us");
    }
}
