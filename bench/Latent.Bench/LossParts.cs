using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Latent.Kernels;
using Latent.Losses;

namespace Latent.Bench;

/// <summary>
/// Where the logit loss's time goes, on eight lanes (AVX2), one thread, alternating in one process: the library's loop,
/// a copy of it (<see cref="Loop{P}"/>), and the copy with one part left out at a time (results wrong, times telling).
/// `Latent.Bench loss-parts` prints each variant's median nanoseconds a vector of eight logits over 30 rounds, on two
/// shares of simple-32 (25,088 logits in [−8, 8]), and checks that the copy agrees with the library bit for bit.
/// </summary>
internal static class LossParts
{
    /// <summary>The part a variant leaves out (<see cref="None"/> for the whole loop), a constant the JIT folds.</summary>
    private interface IParts { static abstract int Left { get; } }

    private const int None = 0, NanCheck = 1, DoubleSum = 2, Gradient = 3, Exponential = 4, Product = 5, Division = 6;

    private struct Whole : IParts { public static int Left => None; }
    private struct NoNanCheck : IParts { public static int Left => NanCheck; }
    private struct FloatSum : IParts { public static int Left => DoubleSum; }
    private struct NoGradient : IParts { public static int Left => Gradient; }
    private struct NoExponential : IParts { public static int Left => Exponential; }
    private struct NoProduct : IParts { public static int Left => Product; }
    private struct NoDivision : IParts { public static int Left => Division; }

    /// <summary><see cref="BinaryCrossentropy.SumFromLogits256"/>'s loop, with the parts <typeparamref name="P"/> keeps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static double Loop<P>(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, float limit, float invN) where P : struct, IParts
    {
        int n = logits.Length;
        ref float zRef = ref MemoryMarshal.GetReference(logits);
        ref float tRef = ref MemoryMarshal.GetReference(yTrue);
        ref float gRef = ref MemoryMarshal.GetReference(gradLogits);
        var lim = Vector256.Create(limit);
        var negLim = -lim;
        var signBit = Vector256.Create(-0f);
        var inv = Vector256.Create(invN);
        var acc = Vector256<double>.Zero;
        var floats = Vector256<float>.Zero;
        var nan = Vector256<float>.Zero;
        for (int i = 0; i < n;)
        {
            int end = Math.Min(n, i + 8 * 64);
            var product = Vector256<float>.One;
            for (; i < end; i += 8)
            {
                var z = Vector256.LoadUnsafe(ref zRef, (nuint)i);
                var t = Vector256.LoadUnsafe(ref tRef, (nuint)i);
                if (P.Left != NanCheck) nan |= ~Vector256.Equals(z, z);
                var zc = Vector256.MinNative(Vector256.MaxNative(z, negLim), lim);
                var e = P.Left != Exponential ? FastMath.ExpNonPositive(zc | signBit) : zc | signBit;
                var onePlusE = Vector256<float>.One + e;
                if (P.Left != Product) product *= onePlusE;
                else floats += onePlusE;
                var linear = Vector256.MaxNative(zc, Vector256<float>.Zero) - zc * t;
                if (P.Left != DoubleSum)
                {
                    var (lo, hi) = Vector256.Widen(linear);
                    acc += lo + hi;
                }
                else floats += linear;
                if (P.Left != Gradient)
                {
                    var numerator = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256<float>.One, e);
                    var sig = P.Left != Division ? numerator / onePlusE : numerator * onePlusE;
                    var inside = Vector256.LessThan(Vector256.AndNot(z, signBit), lim);
                    (((sig - t) * inv) & inside).StoreUnsafe(ref gRef, (nuint)i);
                }
            }
            var bits = product.AsInt32();
            var k = Vector256.ConvertToSingle((bits >>> 23) - Vector256.Create(127));
            var f = ((bits & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle() - Vector256<float>.One;
            var (l0, l1) = Vector256.Widen(FastMath.Log1pUnit(f));
            var (k0, k1) = Vector256.Widen(k);
            acc += l0 + l1 + (k0 + k1) * Vector256.Create(0.693147180559945309417);
        }
        double sum = Vector256.Sum(acc) + Vector256.Sum(floats);
        return nan != Vector256<float>.Zero ? double.NaN : sum;
    }

    public static void Run()
    {
        if (!Vector256.IsHardwareAccelerated) throw new PlatformNotSupportedException("loss-parts times the eight-lane loop: it needs AVX2.");
        const int n = 2 * 12_544;
        const float limit = 16.118096f;
        var rng = new Random(1);
        var z = new float[n]; var t = new float[n]; var g = new float[n]; var gCopy = new float[n];
        for (int i = 0; i < n; i++) { z[i] = (float)(-8 + rng.NextDouble() * 16); t[i] = (float)rng.NextDouble(); }
        double now = BinaryCrossentropy.SumFromLogits256(z, t, g, limit, 1f / n), copy = Loop<Whole>(z, t, gCopy, limit, 1f / n);
        Console.WriteLine($"CPU: {FuzzRun.CpuModel()}; the copy agrees with the library: sum {now == copy}, gradient {g.AsSpan().SequenceEqual(gCopy)}");
        (string Name, Func<double> Run)[] variants =
        [
            ("library", () => BinaryCrossentropy.SumFromLogits256(z, t, g, limit, 1f / n)),
            ("copy", () => Loop<Whole>(z, t, g, limit, 1f / n)),
            ("copy without the NaN check", () => Loop<NoNanCheck>(z, t, g, limit, 1f / n)),
            ("copy summing in float", () => Loop<FloatSum>(z, t, g, limit, 1f / n)),
            ("copy without the gradient", () => Loop<NoGradient>(z, t, g, limit, 1f / n)),
            ("copy without the exponential", () => Loop<NoExponential>(z, t, g, limit, 1f / n)),
            ("copy without the product", () => Loop<NoProduct>(z, t, g, limit, 1f / n)),
            ("copy multiplying for the division", () => Loop<NoDivision>(z, t, g, limit, 1f / n)),
        ];
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < 30; round++)
            for (int v = 0; v < variants.Length; v++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < 100; i++) variants[v].Run();
                times[v].Add(sw.Elapsed.TotalNanoseconds / 100 / (n / 8));
            }
        for (int v = 0; v < variants.Length; v++)
        {
            times[v].Sort();
            Console.WriteLine($"{variants[v].Name,-34} {times[v][times[v].Count / 2],6:F2} ns a vector (fastest round {times[v][0]:F2})");
        }
    }
}
