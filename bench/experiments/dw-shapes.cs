using System.Diagnostics;
using Latent.Kernels;
Gemm.MaxThreads = 1;
var r = new Random(1);
float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)r.NextDouble(); return a; }
foreach (var (inF, units) in new[] { (784, 256), (256, 784) })
{
    var x = R(100 * inF); var dz = R(100 * units);
    int half = inF / 2;
    var dw = new float[inF * units];
    void One() => Gemm.Multiply(true, false, half, units, 100, x, inF, dz, units, dw, units, false);
    void Two() { Gemm.Multiply(true, false, half, units, 50, x, inF, dz, units, dw, units, false); Gemm.Multiply(true, false, half, units, 50, x.AsSpan(50 * inF), inF, dz.AsSpan(50 * units), units, dw, units, true); }
    void Dp() => Gemm.Multiply(true, false, inF, units, 50, x, inF, dz, units, dw, units, false);
    var fs = new (string, Action)[] { ("K=100 half rows", One), ("2×K=50 half rows", Two), ("K=50 all rows (DP)", Dp) };
    for (int w = 0; w < 200; w++) foreach (var f in fs) f.Item2();
    var best = new double[3];
    for (int rep = 0; rep < 7; rep++)
        for (int i = 0; i < 3; i++) { var sw = Stopwatch.StartNew(); for (int s = 0; s < 300; s++) fs[i].Item2(); double us = sw.Elapsed.TotalMicroseconds / 300; best[i] = rep == 0 ? us : Math.Min(best[i], us); }
    for (int i = 0; i < 3; i++) Console.WriteLine($"{inF}x{units} {fs[i].Item1}: {best[i]:F1} us, {2.0 * half * units * 100 / best[i] / 1e3:F1} GFLOPS");
}
