using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Latent.Kernels;

/// <summary>
/// One row (one sample, one step) of an LSTM or GRU cell with Keras's default activations (sigmoid gates, tanh
/// cell), fused: every gate's activation and the state update in one pass over H, eight lanes at a time, instead of
/// a dozen passes over short spans. The recurrent layers use these when their activations are the defaults and
/// fall back to the general path (any element-wise activation) otherwise; tests hold both to naive loops.
/// </summary>
/// <remarks>
/// <para>σ(x) = 1/(1 + e^{−|x|}) for x ≥ 0, e^{−|x|}/(1 + e^{−|x|}) below; tanh(x) = sign(x)·(1 − e^{−2|x|})/(1 + e^{−2|x|});
/// e^{·} by <see cref="FastMath.ExpNonPositive(Vector256{float})"/> on arguments clamped to [−87, 0]. Absolute errors
/// stay below 1e-7.</para>
/// <para>Rows are laid out as the layer stores them (gate k of lane j at k·n + j). The forward cells run in passes over
/// the row's eight-lane blocks (the gates' activations, then the state update), so independent blocks overlap in the
/// pipeline instead of each waiting on its own chain of exp, reciprocal and tanh. Reciprocals of 1 + e^{−|x|} come
/// from the hardware estimate and one Newton step. Lanes past the last multiple of eight are copied into zero-padded
/// eight-lane rows, run through a one-block body with n = 8, and copied back: a scalar tail would cost an exp per
/// lane and gate, and H = 28 leaves four lanes in every row.</para>
/// </remarks>
internal static class RecurrentCells
{
    /// <summary>Whether the fused rows run here (eight-lane vectors with hardware acceleration).</summary>
    public static bool Accelerated => Vector256.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> nonPositive) => FastMath.ExpNonPositive(Vector256.Max(nonPositive, Vector256.Create(-87f)));

    /// <summary>
    /// 1/d for d in [1, 2]: the hardware estimate (12 bits) and one Newton step, r + r·(1 − d·r), where AVX has it;
    /// a division costs several times as much and the cells need five per eight lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ReciprocalOneToTwo(Vector256<float> d)
    {
        if (!Avx.IsSupported) return Vector256<float>.One / d;
        var r = Avx.Reciprocal(d);
        return Vector256.FusedMultiplyAdd(r, Vector256.FusedMultiplyAdd(-d, r, Vector256<float>.One), r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var e = Exp(-Vector256.Abs(x));
        var s = ReciprocalOneToTwo(Vector256<float>.One + e);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), s, e * s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh(Vector256<float> x)
    {
        var e = Exp(Vector256.Create(-2f) * Vector256.Abs(x));
        var t = (Vector256<float>.One - e) * ReciprocalOneToTwo(Vector256<float>.One + e);
        return t | (x & Vector256.Create(-0f));   // the sign of x
    }

    /// <summary>σ in place on [start, start + count), count a multiple of eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SigmoidBlocks(ref float r, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i += 8) Store(Sigmoid(Load(ref r, i)), ref r, i);
    }

    /// <summary>tanh in place on [start, start + count), count a multiple of eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TanhBlocks(ref float r, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i += 8) Store(Tanh(Load(ref r, i)), ref r, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(ref float r, int i) => Vector256.LoadUnsafe(ref r, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> v, ref float r, int i) => v.StoreUnsafe(ref r, (nuint)i);

    /// <summary>Copies the <paramref name="count"/> lanes from <paramref name="j"/> of each of <paramref name="blocks"/> blocks of n into eight-lane blocks of <paramref name="pad"/>.</summary>
    private static void TailIn(ReadOnlySpan<float> row, int n, int j, int count, int blocks, Span<float> pad)
    {
        pad[..(8 * blocks)].Clear();
        for (int k = 0; k < blocks; k++) row.Slice(k * n + j, count).CopyTo(pad.Slice(8 * k, count));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void TailOut(ReadOnlySpan<float> pad, int n, int j, int count, int blocks, Span<float> row)
    {
        for (int k = 0; k < blocks; k++) pad.Slice(8 * k, count).CopyTo(row.Slice(k * n + j, count));
    }

    private static void Check(bool ok)
    {
        if (!ok) throw new ArgumentException("A recurrent cell's spans are shorter than its state.");
    }

    /// <summary>
    /// LSTM forward: <paramref name="gates"/> (4H: i, f, g, o pre-activations) becomes the activations;
    /// <c>c = f⊙cPrev + i⊙g</c>, <c>tanhC = tanh(c)</c>, <c>h = o⊙tanhC</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void LstmForward(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> tanhC, Span<float> h, int n)
    {
        Check(gates.Length >= 4 * n && cPrev.Length >= n && c.Length >= n && tanhC.Length >= n && h.Length >= n);
        int j = n & ~7;
        if (j > 0)
        {
            // Two passes, each a loop of independent eight-lane blocks, so blocks overlap in the pipeline: one block's
            // activations (an exp, a reciprocal, then tanh(c) on them) form a chain too long to run alone at full speed.
            ref float g = ref MemoryMarshal.GetReference(gates);
            SigmoidBlocks(ref g, 0, j);
            SigmoidBlocks(ref g, n, j);
            TanhBlocks(ref g, 2 * n, j);
            SigmoidBlocks(ref g, 3 * n, j);
            ref float cp = ref MemoryMarshal.GetReference(cPrev);
            ref float cr = ref MemoryMarshal.GetReference(c);
            ref float tr = ref MemoryMarshal.GetReference(tanhC);
            ref float hr = ref MemoryMarshal.GetReference(h);
            for (int i = 0; i < j; i += 8)
            {
                var cv = Vector256.FusedMultiplyAdd(Load(ref g, n + i), Load(ref cp, i), Load(ref g, i) * Load(ref g, 2 * n + i));
                var tc = Tanh(cv);
                Store(cv, ref cr, i);
                Store(tc, ref tr, i);
                Store(Load(ref g, 3 * n + i) * tc, ref hr, i);
            }
        }
        if (j == n) return;
        int r = n - j;
        Span<float> pad = stackalloc float[8 * 8];
        Span<float> pg = pad[..32], pcp = pad.Slice(32, 8), pc = pad.Slice(40, 8), pt = pad.Slice(48, 8), ph = pad.Slice(56, 8);
        TailIn(gates, n, j, r, 4, pg);
        TailIn(cPrev, n, j, r, 1, pcp);
        LstmForwardLanes(ref MemoryMarshal.GetReference(pg), ref MemoryMarshal.GetReference(pcp), ref MemoryMarshal.GetReference(pc),
                         ref MemoryMarshal.GetReference(pt), ref MemoryMarshal.GetReference(ph), 8, 0);
        TailOut(pg, n, j, r, 4, gates);
        TailOut(pc, n, j, r, 1, c);
        TailOut(pt, n, j, r, 1, tanhC);
        TailOut(ph, n, j, r, 1, h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LstmForwardLanes(ref float g, ref float cp, ref float cr, ref float tr, ref float hr, int n, int j)
    {
        var i = Sigmoid(Load(ref g, j));
        var f = Sigmoid(Load(ref g, n + j));
        var gg = Tanh(Load(ref g, 2 * n + j));
        var o = Sigmoid(Load(ref g, 3 * n + j));
        var cv = Vector256.FusedMultiplyAdd(f, Load(ref cp, j), i * gg);
        var tc = Tanh(cv);
        Store(i, ref g, j); Store(f, ref g, n + j); Store(gg, ref g, 2 * n + j); Store(o, ref g, 3 * n + j);
        Store(cv, ref cr, j);
        Store(tc, ref tr, j);
        Store(o * tc, ref hr, j);
    }

    /// <summary>
    /// LSTM backward for one row: with <c>d = dh + dy</c> (dy when given), <c>dc += d⊙o⊙(1 − tanhC²)</c>; the gate
    /// activations in <paramref name="gates"/> become the δ of their pre-activations; <c>dc ← dc⊙f</c> (∂loss/∂cPrev).
    /// <paramref name="dh"/> is only read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void LstmBackward(Span<float> gates, ReadOnlySpan<float> tanhC, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> dh, ReadOnlySpan<float> dy, Span<float> dc, int n)
    {
        Check(gates.Length >= 4 * n && tanhC.Length >= n && cPrev.Length >= n && dh.Length >= n && dc.Length >= n && (dy.IsEmpty || dy.Length >= n));
        bool withDy = !dy.IsEmpty;
        int j = 0;
        for (; j <= n - 8; j += 8)
            LstmBackwardLanes(ref MemoryMarshal.GetReference(gates), ref MemoryMarshal.GetReference(tanhC), ref MemoryMarshal.GetReference(cPrev),
                              ref MemoryMarshal.GetReference(dh), ref MemoryMarshal.GetReference(dy), withDy, ref MemoryMarshal.GetReference(dc), n, j);
        if (j == n) return;
        int r = n - j;
        Span<float> pad = stackalloc float[9 * 8];
        Span<float> pg = pad[..32], pt = pad.Slice(32, 8), pcp = pad.Slice(40, 8), pdh = pad.Slice(48, 8), pdy = pad.Slice(56, 8), pdc = pad.Slice(64, 8);
        TailIn(gates, n, j, r, 4, pg);
        TailIn(tanhC, n, j, r, 1, pt);
        TailIn(cPrev, n, j, r, 1, pcp);
        TailIn(dh, n, j, r, 1, pdh);
        if (withDy) TailIn(dy, n, j, r, 1, pdy);
        TailIn(dc, n, j, r, 1, pdc);
        LstmBackwardLanes(ref MemoryMarshal.GetReference(pg), ref MemoryMarshal.GetReference(pt), ref MemoryMarshal.GetReference(pcp),
                          ref MemoryMarshal.GetReference(pdh), ref MemoryMarshal.GetReference(pdy), withDy, ref MemoryMarshal.GetReference(pdc), 8, 0);
        TailOut(pg, n, j, r, 4, gates);
        TailOut(pdc, n, j, r, 1, dc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LstmBackwardLanes(ref float g, ref float tr, ref float cp, ref float dhr, ref float dyr, bool withDy, ref float dcr, int n, int j)
    {
        var one = Vector256<float>.One;
        var i = Load(ref g, j);
        var f = Load(ref g, n + j);
        var gg = Load(ref g, 2 * n + j);
        var o = Load(ref g, 3 * n + j);
        var tc = Load(ref tr, j);
        var d = Load(ref dhr, j);
        if (withDy) d += Load(ref dyr, j);
        var dcv = Vector256.FusedMultiplyAdd(d * o, one - tc * tc, Load(ref dcr, j));
        Store(d * tc * o * (one - o), ref g, 3 * n + j);
        Store(dcv * gg * i * (one - i), ref g, j);
        Store(dcv * i * (one - gg * gg), ref g, 2 * n + j);
        Store(dcv * Load(ref cp, j) * f * (one - f), ref g, n + j);
        Store(dcv * f, ref dcr, j);
    }

    /// <summary>
    /// GRU (reset after) forward for one row: <paramref name="gates"/> (3H input projections a_z, a_r, a_h) becomes
    /// z, r, h̃; <paramref name="rec"/> (3H: hPrev·U + b_rec) gives r_z, r_r, r_h; <c>h = h̃ + z⊙(hPrev − h̃)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void GruForward(Span<float> gates, ReadOnlySpan<float> rec, ReadOnlySpan<float> hPrev, Span<float> h, int n)
    {
        Check(gates.Length >= 3 * n && rec.Length >= 3 * n && hPrev.Length >= n && h.Length >= n);
        int j = n & ~7;
        if (j > 0)
        {
            // Two passes of independent blocks (see LstmForward): the gates z and r, then h̃ and h.
            ref float g = ref MemoryMarshal.GetReference(gates);
            ref float rr = ref MemoryMarshal.GetReference(rec);
            foreach (int start in (ReadOnlySpan<int>)[0, n])
                for (int i = start, end = start + j; i < end; i += 8)
                    Store(Sigmoid(Load(ref g, i) + Load(ref rr, i)), ref g, i);
            ref float hpr = ref MemoryMarshal.GetReference(hPrev);
            ref float hr = ref MemoryMarshal.GetReference(h);
            for (int i = 0; i < j; i += 8)
            {
                var cand = Tanh(Vector256.FusedMultiplyAdd(Load(ref g, n + i), Load(ref rr, 2 * n + i), Load(ref g, 2 * n + i)));
                Store(cand, ref g, 2 * n + i);
                Store(Vector256.FusedMultiplyAdd(Load(ref g, i), Load(ref hpr, i) - cand, cand), ref hr, i);
            }
        }
        if (j == n) return;
        int r = n - j;
        Span<float> pad = stackalloc float[8 * 8];
        Span<float> pg = pad[..24], pr = pad.Slice(24, 24), php = pad.Slice(48, 8), ph = pad.Slice(56, 8);
        TailIn(gates, n, j, r, 3, pg);
        TailIn(rec, n, j, r, 3, pr);
        TailIn(hPrev, n, j, r, 1, php);
        GruForwardLanes(ref MemoryMarshal.GetReference(pg), ref MemoryMarshal.GetReference(pr), ref MemoryMarshal.GetReference(php),
                        ref MemoryMarshal.GetReference(ph), 8, 0);
        TailOut(pg, n, j, r, 3, gates);
        TailOut(ph, n, j, r, 1, h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GruForwardLanes(ref float g, ref float rr, ref float hpr, ref float hr, int n, int j)
    {
        var z = Sigmoid(Load(ref g, j) + Load(ref rr, j));
        var r = Sigmoid(Load(ref g, n + j) + Load(ref rr, n + j));
        var cand = Tanh(Vector256.FusedMultiplyAdd(r, Load(ref rr, 2 * n + j), Load(ref g, 2 * n + j)));
        Store(z, ref g, j); Store(r, ref g, n + j); Store(cand, ref g, 2 * n + j);
        Store(Vector256.FusedMultiplyAdd(z, Load(ref hpr, j) - cand, cand), ref hr, j);
    }

    /// <summary>
    /// GRU backward for one row: with <c>d = dh + dy</c>, the activations in <paramref name="gates"/> become the input
    /// side's δ (δz, δr, δh); <paramref name="rec"/> (whose last H hold r_h) becomes the recurrent side's
    /// (δz, δr, δh⊙r); <c>dh ← d⊙z</c> (the direct part of ∂loss/∂hPrev; the caller adds δ_rec·Uᵀ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void GruBackward(Span<float> gates, Span<float> rec, ReadOnlySpan<float> hPrev, Span<float> dh, ReadOnlySpan<float> dy, int n)
    {
        Check(gates.Length >= 3 * n && rec.Length >= 3 * n && hPrev.Length >= n && dh.Length >= n && (dy.IsEmpty || dy.Length >= n));
        bool withDy = !dy.IsEmpty;
        int j = 0;
        for (; j <= n - 8; j += 8)
            GruBackwardLanes(ref MemoryMarshal.GetReference(gates), ref MemoryMarshal.GetReference(rec), ref MemoryMarshal.GetReference(hPrev),
                             ref MemoryMarshal.GetReference(dh), ref MemoryMarshal.GetReference(dy), withDy, n, j);
        if (j == n) return;
        int r = n - j;
        Span<float> pad = stackalloc float[9 * 8];
        Span<float> pg = pad[..24], pr = pad.Slice(24, 24), php = pad.Slice(48, 8), pdh = pad.Slice(56, 8), pdy = pad.Slice(64, 8);
        TailIn(gates, n, j, r, 3, pg);
        TailIn(rec, n, j, r, 3, pr);
        TailIn(hPrev, n, j, r, 1, php);
        TailIn(dh, n, j, r, 1, pdh);
        if (withDy) TailIn(dy, n, j, r, 1, pdy);
        GruBackwardLanes(ref MemoryMarshal.GetReference(pg), ref MemoryMarshal.GetReference(pr), ref MemoryMarshal.GetReference(php),
                         ref MemoryMarshal.GetReference(pdh), ref MemoryMarshal.GetReference(pdy), withDy, 8, 0);
        TailOut(pg, n, j, r, 3, gates);
        TailOut(pr, n, j, r, 3, rec);
        TailOut(pdh, n, j, r, 1, dh);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GruBackwardLanes(ref float g, ref float rd, ref float hpr, ref float dhr, ref float dyr, bool withDy, int n, int j)
    {
        var one = Vector256<float>.One;
        var z = Load(ref g, j);
        var r = Load(ref g, n + j);
        var cand = Load(ref g, 2 * n + j);
        var d = Load(ref dhr, j);
        if (withDy) d += Load(ref dyr, j);
        var dz = d * (Load(ref hpr, j) - cand) * z * (one - z);
        var dCand = d * (one - z) * (one - cand * cand);
        var dr = dCand * Load(ref rd, 2 * n + j) * r * (one - r);   // r_h read before its slot takes δh⊙r
        Store(dz, ref g, j); Store(dr, ref g, n + j); Store(dCand, ref g, 2 * n + j);
        Store(dz, ref rd, j); Store(dr, ref rd, n + j); Store(dCand * r, ref rd, 2 * n + j);
        Store(d * z, ref dhr, j);
    }
}
