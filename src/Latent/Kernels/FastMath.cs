using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

/// <summary>
/// Single-precision exp and log on 16 (or 8) lanes for the ranges the sigmoid cross-entropy needs, from the Cephes
/// library's expf/logf polynomials (S. Moshier): about 1 ulp, and several times faster than the general
/// <see cref="Vector512.Exp(Vector512{float})"/>, which computes in double. The loss is memory-bound once these are cheap.
/// </summary>
internal static class FastMath
{
    /// <summary>e^x for x in [−87, 0] (used on −|z|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        // x = n·ln2 + r, |r| ≤ ln2/2, with ln2 split in two so r is exact. Adding 1.5·2²³ rounds x·log2(e) to the
        // integer n held in the low mantissa bits (|x·log2 e| < 2²²): an add and a subtract instead of a round and
        // a saturating convert (five instructions with .NET's conversion semantics).
        var shifted = x * 1.44269504088896341f + Vector512.Create(12582912f);
        var n = shifted - Vector512.Create(12582912f);
        var r = x - n * 0.693359375f + n * 2.12194440e-4f;
        var r2 = r * r;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1.9875691500E-4f), r, Vector512.Create(1.3981999507E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894E-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459E-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201E-1f));
        var y = Vector512.FusedMultiplyAdd(p, r2, r) + Vector512<float>.One;
        // 2^n by building the exponent bits; n ≥ −126 here, so the result stays normal.
        var pow2 = (shifted.AsInt32() + Vector512.Create(127)) << 23;   // low bits of shifted are n (two's complement)
        return y * pow2.AsSingle();
    }

    /// <summary>ln(u) for u in [1, 2] (used on 1 + e^{−|z|}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LogOneToTwo(Vector512<float> u)
    {
        // u = m·2^k with m in [√½, √2): k is 1 where u > √2 (then m = u/2), else 0.
        var big = Vector512.GreaterThan(u, Vector512.Create(1.41421356f));
        var m = Vector512.ConditionalSelect(big, u * 0.5f, u);
        var k = Vector512.ConditionalSelect(big, Vector512<float>.One, Vector512<float>.Zero);
        var x = m - Vector512<float>.One;
        var z = x * x;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(7.0376836292E-2f), x, Vector512.Create(-1.1514610310E-1f));
        p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(1.1676998740E-1f));
        p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(-1.2420140846E-1f));
        p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(1.4249322787E-1f));
        p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(-1.6668057665E-1f));
        p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(2.0000714765E-1f));
        p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(-2.4999993993E-1f));
        p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(3.3333331174E-1f));
        var y = p * x * z;
        y = Vector512.FusedMultiplyAdd(k, Vector512.Create(-2.12194440e-4f), y);
        y = Vector512.FusedMultiplyAdd(z, Vector512.Create(-0.5f), y);
        return x + y + k * 0.693359375f;
    }

    // The same polynomials on eight lanes, for AVX2 machines.

    /// <summary>e^x for x in [−87, 0] (used on −|z|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        // x = n·ln2 + r, |r| ≤ ln2/2, with ln2 split in two so r is exact. Adding 1.5·2²³ rounds x·log2(e) to the
        // integer n held in the low mantissa bits (|x·log2 e| < 2²²): an add and a subtract instead of a round and
        // a saturating convert (five instructions with .NET's conversion semantics).
        var shifted = x * 1.44269504088896341f + Vector256.Create(12582912f);
        var n = shifted - Vector256.Create(12582912f);
        var r = x - n * 0.693359375f + n * 2.12194440e-4f;
        var r2 = r * r;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500E-4f), r, Vector256.Create(1.3981999507E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        var y = Vector256.FusedMultiplyAdd(p, r2, r) + Vector256<float>.One;
        // 2^n by building the exponent bits; n ≥ −126 here, so the result stays normal.
        var pow2 = (shifted.AsInt32() + Vector256.Create(127)) << 23;   // low bits of shifted are n (two's complement)
        return y * pow2.AsSingle();
    }

    /// <summary>ln(u) for u in [1, 2] (used on 1 + e^{−|z|}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LogOneToTwo(Vector256<float> u)
    {
        // u = m·2^k with m in [√½, √2): k is 1 where u > √2 (then m = u/2), else 0.
        var big = Vector256.GreaterThan(u, Vector256.Create(1.41421356f));
        var m = Vector256.ConditionalSelect(big, u * 0.5f, u);
        var k = Vector256.ConditionalSelect(big, Vector256<float>.One, Vector256<float>.Zero);
        var x = m - Vector256<float>.One;
        var z = x * x;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(7.0376836292E-2f), x, Vector256.Create(-1.1514610310E-1f));
        p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(1.1676998740E-1f));
        p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(-1.2420140846E-1f));
        p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(1.4249322787E-1f));
        p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(-1.6668057665E-1f));
        p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(2.0000714765E-1f));
        p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(-2.4999993993E-1f));
        p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(3.3333331174E-1f));
        var y = p * x * z;
        y = Vector256.FusedMultiplyAdd(k, Vector256.Create(-2.12194440e-4f), y);
        y = Vector256.FusedMultiplyAdd(z, Vector256.Create(-0.5f), y);
        return x + y + k * 0.693359375f;
    }
}
