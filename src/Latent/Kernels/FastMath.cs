using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

/// <summary>
/// Single-precision exp and ln(1 + ·) on 16 (or 8) lanes for the ranges the sigmoid cross-entropy needs: exp from the
/// Cephes library's expf polynomial (S. Moshier), ln(1 + e) from a polynomial fitted on [0, 1]; about 1 ulp each, and
/// several times faster than the general <see cref="Vector512.Exp(Vector512{float})"/>, which computes in double.
/// Both evaluate their polynomials by Estrin's scheme: the loss kernel is bound by the length of its dependency chain
/// (an exp, then a log, per vector), not by its instruction count.
/// </summary>
internal static class FastMath
{
    /// <summary>e^x for x in [−87, 0] (used on −|z|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        // x = n·ln2 + r, |r| ≤ ln2/2, with ln2 split in two so r is exact. Adding 1.5·2²³ rounds x·log2(e) to the
        // integer n held in the low mantissa bits (|x·log2 e| < 2²²): an FMA and a subtract instead of a round and
        // a saturating convert (five instructions with .NET's conversion semantics).
        var shifted = Vector512.FusedMultiplyAdd(x, Vector512.Create(1.44269504088896341f), Vector512.Create(12582912f));
        var n = shifted - Vector512.Create(12582912f);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x));
        // Estrin's scheme: three independent pairs, then r² and r⁴, so the chain is four deep instead of Horner's six.
        var r2 = r * r;
        var r4 = r2 * r2;
        var q01 = Vector512.FusedMultiplyAdd(Vector512.Create(1.9875691500E-4f), r, Vector512.Create(1.3981999507E-3f));
        var q23 = Vector512.FusedMultiplyAdd(Vector512.Create(8.3334519073E-3f), r, Vector512.Create(4.1665795894E-2f));
        var q45 = Vector512.FusedMultiplyAdd(Vector512.Create(1.6666665459E-1f), r, Vector512.Create(5.0000001201E-1f));
        var p = Vector512.FusedMultiplyAdd(q01, r4, Vector512.FusedMultiplyAdd(q23, r2, q45));
        var y = Vector512.FusedMultiplyAdd(p, r2, r) + Vector512<float>.One;
        // 2^n by building the exponent bits; n ≥ −126 here, so the result stays normal.
        var pow2 = (shifted.AsInt32() + Vector512.Create(127)) << 23;   // low bits of shifted are n (two's complement)
        return y * pow2.AsSingle();
    }

    /// <summary>ln(1 + e) for e in [0, 1] (used on e^{−|z|}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log1pUnit(Vector512<float> e)
    {
        // A degree-10 polynomial e·q(e) fitted to ln(1 + e) over [0, 1] (relative error 1.5e-8 in exact arithmetic):
        // no range reduction, and q evaluated by Estrin's scheme, five operations deep. The loss waits on this chain
        // after the exponential's; Cephes's logf (split at √2, then nine Horner steps) was three times as deep.
        // The powers come from e clamped to 2⁻¹⁵: from the true e, e⁸ is subnormal once e < 2⁻¹⁵·⁷⁵ (|z| > 10.9, most
        // background pixels of a trained model), and each subnormal operand can cost a microcode assist
        // (docs/PERFORMANCE.md). Below the clamp the terms they scale are under 2⁻³⁰ of q ≈ 1: rounding drops them anyway.
        var ec = Vector512.MaxNative(e, Vector512.Create(3.0517578125e-5f));
        var e2 = ec * ec;
        var e4 = e2 * e2;
        var e8 = e4 * e4;
        var p01 = Vector512.FusedMultiplyAdd(Vector512.Create(-0.4999993145465851f), e, Vector512<float>.One);
        var p23 = Vector512.FusedMultiplyAdd(Vector512.Create(-0.2496192455291748f), e, Vector512.Create(0.3333072364330292f));
        var p45 = Vector512.FusedMultiplyAdd(Vector512.Create(-0.15421079099178314f), e, Vector512.Create(0.19715937972068787f));
        var p67 = Vector512.FusedMultiplyAdd(Vector512.Create(-0.05889834836125374f), e, Vector512.Create(0.10799631476402283f));
        var p89 = Vector512.FusedMultiplyAdd(Vector512.Create(-0.003474063239991665f), e, Vector512.Create(0.020886002108454704f));
        var q03 = Vector512.FusedMultiplyAdd(p23, e2, p01);
        var q47 = Vector512.FusedMultiplyAdd(p67, e2, p45);
        var q = Vector512.FusedMultiplyAdd(p89, e8, Vector512.FusedMultiplyAdd(q47, e4, q03));
        return q * e;
    }

    // The same polynomials on eight lanes, for AVX2 machines.

    /// <summary>e^x for x in [−87, 0] (used on −|z|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        // x = n·ln2 + r, |r| ≤ ln2/2, with ln2 split in two so r is exact. Adding 1.5·2²³ rounds x·log2(e) to the
        // integer n held in the low mantissa bits (|x·log2 e| < 2²²): an FMA and a subtract instead of a round and
        // a saturating convert (five instructions with .NET's conversion semantics).
        var shifted = Vector256.FusedMultiplyAdd(x, Vector256.Create(1.44269504088896341f), Vector256.Create(12582912f));
        var n = shifted - Vector256.Create(12582912f);
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x));
        // Estrin's scheme: three independent pairs, then r² and r⁴, so the chain is four deep instead of Horner's six.
        var r2 = r * r;
        var r4 = r2 * r2;
        var q01 = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500E-4f), r, Vector256.Create(1.3981999507E-3f));
        var q23 = Vector256.FusedMultiplyAdd(Vector256.Create(8.3334519073E-3f), r, Vector256.Create(4.1665795894E-2f));
        var q45 = Vector256.FusedMultiplyAdd(Vector256.Create(1.6666665459E-1f), r, Vector256.Create(5.0000001201E-1f));
        var p = Vector256.FusedMultiplyAdd(q01, r4, Vector256.FusedMultiplyAdd(q23, r2, q45));
        var y = Vector256.FusedMultiplyAdd(p, r2, r) + Vector256<float>.One;
        // 2^n by building the exponent bits; n ≥ −126 here, so the result stays normal.
        var pow2 = (shifted.AsInt32() + Vector256.Create(127)) << 23;   // low bits of shifted are n (two's complement)
        return y * pow2.AsSingle();
    }

    /// <summary>ln(1 + e) for e in [0, 1] (used on e^{−|z|}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log1pUnit(Vector256<float> e)
    {
        // A degree-10 polynomial e·q(e) fitted to ln(1 + e) over [0, 1] (relative error 1.5e-8 in exact arithmetic):
        // no range reduction, and q evaluated by Estrin's scheme, five operations deep. The loss waits on this chain
        // after the exponential's; Cephes's logf (split at √2, then nine Horner steps) was three times as deep.
        // The powers come from e clamped to 2⁻¹⁵: from the true e, e⁸ is subnormal once e < 2⁻¹⁵·⁷⁵ (|z| > 10.9, most
        // background pixels of a trained model), and each subnormal operand can cost a microcode assist
        // (docs/PERFORMANCE.md). Below the clamp the terms they scale are under 2⁻³⁰ of q ≈ 1: rounding drops them anyway.
        var ec = Vector256.MaxNative(e, Vector256.Create(3.0517578125e-5f));
        var e2 = ec * ec;
        var e4 = e2 * e2;
        var e8 = e4 * e4;
        var p01 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.4999993145465851f), e, Vector256<float>.One);
        var p23 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.2496192455291748f), e, Vector256.Create(0.3333072364330292f));
        var p45 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.15421079099178314f), e, Vector256.Create(0.19715937972068787f));
        var p67 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.05889834836125374f), e, Vector256.Create(0.10799631476402283f));
        var p89 = Vector256.FusedMultiplyAdd(Vector256.Create(-0.003474063239991665f), e, Vector256.Create(0.020886002108454704f));
        var q03 = Vector256.FusedMultiplyAdd(p23, e2, p01);
        var q47 = Vector256.FusedMultiplyAdd(p67, e2, p45);
        var q = Vector256.FusedMultiplyAdd(p89, e8, Vector256.FusedMultiplyAdd(q47, e4, q03));
        return q * e;
    }
}
