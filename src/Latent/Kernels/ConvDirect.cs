using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Latent.Kernels;

/// <summary>
/// Convolutions with few filters (F &lt; 8), computed from the image itself: in the zero-padded copy of a sample
/// (<see cref="Pad"/>) a window row is KW·C contiguous values, so each output is a sum of KH dot products of such
/// runs with rows of Kᵀ, four positions at a time sharing each load of the kernel. Backward (for the shapes
/// ConvBackward.cs leaves to it) adds <c>dz·(kernel row)</c> onto the image runs and <c>dz·(image run)</c> onto Kᵀ's rows.
/// </summary>
internal static partial class Conv
{
    /// <summary>dst (B, OH·OW, F) (+)= the convolution of src with Kᵀ (F, P), plus bias unless accumulating, then max(·, 0) with <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DirectForward(in ConvGeometry g, int batch, ReadOnlySpan<float> src, float[] kt, ReadOnlySpan<float> bias,
                                             int f, Span<float> dst, bool accumulate, bool relu)
    {
        int p = g.PatchSize, seg = g.KW * g.C, image = g.H * g.W * g.C, positions = g.Positions;
        bool eight = Vector256.IsHardwareAccelerated && Avx.IsSupported && g.OW >= 8;
        var (hp, wp) = PaddedSize(g, eight ? 8 : 4);      // every window inside, as in WideForward
        var padded = Scratch(ref t_padded, hp * wp * g.C);
        long step = (long)g.SW * g.C, rowStride = (long)wp * g.C;
        fixed (float* xs = src, k = kt, ys = dst, bb = bias, xp = padded)
        {
            for (int b = 0; b < batch; b++)
            {
                Pad(g, xs + (long)b * image, xp, hp, wp);
                float* y = ys + (long)b * positions * f;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    float* row = xp + (long)oh * g.SH * rowStride;
                    int ow = 0;
                    // Eight positions at a time: their eight sums come out of one reduction as a vector.
                    for (; eight && ow + 8 <= g.OW; ow += 8)
                    {
                        float* x0 = row + ow * step, at = y + (long)(oh * g.OW + ow) * f;
                        for (int j = 0; j < f; j++)
                            Store8(at + j, f, Dot8(x0, step, rowStride, k + (long)j * p, g.KH, seg), bb, j, accumulate, relu);
                    }
                    for (; ow < g.OW; ow += 4)
                    {
                        int n = Math.Min(4, g.OW - ow);          // a last group past the row's end reads padding, stores only n
                        float* x0 = row + ow * step, at = y + (long)(oh * g.OW + ow) * f;
                        for (int j = 0; j < f; j++)
                        {
                            var (s0, s1, s2, s3) = Dot4(x0, step, rowStride, k + (long)j * p, g.KH, seg);
                            Store(at + j, s0, bb, j, accumulate, relu);
                            if (n > 1) Store(at + f + j, s1, bb, j, accumulate, relu);
                            if (n > 2) Store(at + 2 * f + j, s2, bb, j, accumulate, relu);
                            if (n > 3) Store(at + 3 * f + j, s3, bb, j, accumulate, relu);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Unless empty, dKernel (P, F) += the kernel gradient and dsrc (B, H, W, C) += the input gradient, for dz (B, OH·OW, F)
    /// and Kᵀ (F, P).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DirectBackward(in ConvGeometry g, int batch, ReadOnlySpan<float> src, ReadOnlySpan<float> dz, float[] kt,
                                              int f, Span<float> dKernel, Span<float> dsrc)
    {
        int p = g.PatchSize, seg = g.KW * g.C, image = g.H * g.W * g.C, positions = g.Positions;
        bool wantK = !dKernel.IsEmpty, wantX = !dsrc.IsEmpty;
        var dkt = Scratch(ref t_dkt, p * f);
        if (wantK) dkt.AsSpan(0, p * f).Clear();
        var row = Scratch(ref t_cols, p);
        var grad = Scratch(ref t_grad, p);
        fixed (float* xs = src, d = dz, k = kt, dk = dkt, dx = dsrc, r = row, gr = grad)
        {
            for (int b = 0; b < batch; b++)
            {
                float* x = xs + (long)b * image, dxb = dx + (long)b * image, db = d + (long)b * positions * f;
                for (int pos = 0; pos < positions; pos++)
                {
                    float* dzr = db + (long)pos * f;
                    int oh = pos / g.OW, ow = pos - oh * g.OW, ih0 = oh * g.SH - g.PadTop;
                    if (ih0 >= 0 && ih0 + g.KH <= g.H && Inside(g, ow))
                    {
                        long at = ((long)ih0 * g.W + ow * g.SW - g.PadLeft) * g.C;
                        for (int i = 0; i < g.KH; i++, at += (long)g.W * g.C)
                            for (int j = 0; j < f; j++)
                            {
                                if (wantK) Axpy(dk + (long)j * p + i * seg, x + at, dzr[j], seg);
                                if (wantX) Axpy(dxb + at, k + (long)j * p + i * seg, dzr[j], seg);
                            }
                        continue;
                    }
                    if (wantK)
                    {
                        g.Im2Col(new ReadOnlySpan<float>(x, image), new Span<float>(r, p), pos, 1);
                        for (int j = 0; j < f; j++) Axpy(dk + (long)j * p, r, dzr[j], p);
                    }
                    if (wantX)
                    {
                        new Span<float>(gr, p).Clear();
                        for (int j = 0; j < f; j++) Axpy(gr, k + (long)j * p, dzr[j], p);
                        g.Col2ImAdd(new ReadOnlySpan<float>(gr, p), new Span<float>(dxb, image), pos, 1);
                    }
                }
            }
        }
        if (wantK)
            for (int i = 0; i < p; i++)
                for (int j = 0; j < f; j++) dKernel[i * f + j] += dkt[j * p + i];
    }

    /// <summary>Whether column position <paramref name="ow"/>'s window lies inside the image horizontally.</summary>
    private static bool Inside(in ConvGeometry g, int ow)
    {
        int iw0 = ow * g.SW - g.PadLeft;
        return iw0 >= 0 && iw0 + g.KW <= g.W;
    }

    private static unsafe void Store(float* at, float v, float* bias, int j, bool accumulate, bool relu)
    {
        float r = accumulate ? *at + v : bias == null ? v : v + bias[j];
        *at = relu && !(r > 0) ? 0f : r;      // ReLU's scalar form: y > 0 ? y : 0
    }

    /// <summary>Eight results for filter <paramref name="j"/>, <paramref name="f"/> apart: as <see cref="Store"/>, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store8(float* at, int f, Vector256<float> v, float* bias, int j, bool accumulate, bool relu)
    {
        if (f == 1)
        {
            var r = accumulate ? Vector256.Load(at) + v : bias == null ? v : v + Vector256.Create(bias[j]);
            if (relu) r = Vector256.ConditionalSelect(Vector256.GreaterThan(r, Vector256<float>.Zero), r, Vector256<float>.Zero);
            r.Store(at);
            return;
        }
        for (int i = 0; i < 8; i++) Store(at + (long)i * f, v.GetElement(i), bias, j, accumulate, relu);
    }

    /// <summary>
    /// Eight positions' sums over <paramref name="rows"/> window rows of <paramref name="seg"/> values against one kernel
    /// row, as a vector: one accumulator chain per position (eight chains keep both FMA pipes busy), reduced together
    /// by a tree of horizontal adds instead of eight separate horizontal sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Dot8(float* x0, long step, long rowStride, float* k, int rows, int seg)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        var tail = Vector256<float>.Zero;
        int vec = seg & ~7;
        for (int i = 0; i < rows; i++, x0 += rowStride, k += seg)
        {
            float* x1 = x0 + step, x2 = x1 + step, x3 = x2 + step, x4 = x3 + step, x5 = x4 + step, x6 = x5 + step, x7 = x6 + step;
            int c = 0;
            for (; c < vec; c += 8)
            {
                var w = Vector256.Load(k + c);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + c), w, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + c), w, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + c), w, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x3 + c), w, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.Load(x4 + c), w, a4);
                a5 = Vector256.FusedMultiplyAdd(Vector256.Load(x5 + c), w, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.Load(x6 + c), w, a6);
                a7 = Vector256.FusedMultiplyAdd(Vector256.Load(x7 + c), w, a7);
            }
            for (; c < seg; c++)
            {
                float* x = x0 + c;
                var xv = Vector256.Create(x[0], x[step], x[2 * step], x[3 * step], x[4 * step], x[5 * step], x[6 * step], x[7 * step]);
                tail = Vector256.FusedMultiplyAdd(xv, Vector256.Create(k[c]), tail);
            }
        }
        // [Σa0 … Σa7]: pairwise sums within 128-bit halves, then the two halves added.
        var t0 = Avx.HorizontalAdd(a0, a1);
        var t1 = Avx.HorizontalAdd(a2, a3);
        var t2 = Avx.HorizontalAdd(a4, a5);
        var t3 = Avx.HorizontalAdd(a6, a7);
        var u0 = Avx.HorizontalAdd(t0, t1);          // [s0 s1 s2 s3 | s0' s1' s2' s3'] (low and high halves' sums)
        var u1 = Avx.HorizontalAdd(t2, t3);
        var sums = Avx.Permute2x128(u0, u1, 0x20) + Avx.Permute2x128(u0, u1, 0x31);
        return sums + tail;
    }

    /// <summary>
    /// Four positions' sums over <paramref name="rows"/> window rows of <paramref name="seg"/> values against one kernel
    /// row. Even and odd vectors of a run go to two sets of four accumulators (four chains alone wait on the FMA latency).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (float, float, float, float) Dot4(float* x0, long step, long rowStride, float* k, int rows, int seg)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int vec = Vector256.IsHardwareAccelerated ? seg & ~7 : 0;
        for (int i = 0; i < rows; i++, x0 += rowStride, k += seg)
        {
            float* x1 = x0 + step, x2 = x1 + step, x3 = x2 + step;
            int c = 0;
            for (; c + 16 <= vec; c += 16)
            {
                var w = Vector256.Load(k + c);
                var v = Vector256.Load(k + c + 8);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + c), w, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + c), w, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + c), w, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x3 + c), w, a3);
                b0 = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + c + 8), v, b0);
                b1 = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + c + 8), v, b1);
                b2 = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + c + 8), v, b2);
                b3 = Vector256.FusedMultiplyAdd(Vector256.Load(x3 + c + 8), v, b3);
            }
            for (; c < vec; c += 8)
            {
                var w = Vector256.Load(k + c);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + c), w, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + c), w, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + c), w, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x3 + c), w, a3);
            }
            for (; c < seg; c++) { float w = k[c]; s0 += x0[c] * w; s1 += x1[c] * w; s2 += x2[c] * w; s3 += x3[c] * w; }
        }
        return (s0 + Vector256.Sum(a0 + b0), s1 + Vector256.Sum(a1 + b1), s2 + Vector256.Sum(a2 + b2), s3 + Vector256.Sum(a3 + b3));
    }

    /// <summary><c>dst[i] += a·src[i]</c> for n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Axpy(float* dst, float* src, float a, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8) Vector256.FusedMultiplyAdd(Vector256.Load(src + i), va, Vector256.Load(dst + i)).Store(dst + i);
        }
        for (; i < n; i++) dst[i] += a * src[i];
    }
}

/// <summary>
/// The forward convolution for a multiple of eight filters, straight from the image: each output position's
/// filters are one or two 8-lane accumulators, four positions at a time, and every input value of a window is
/// broadcast once against the kernel row it meets (K is (P, F), so the F values for one tap and channel are
/// contiguous). No window is unrolled: each sample is copied into a zero-padded image (<see cref="Pad"/>) in which
/// every window, and every group of four, lies inside, so the border takes the same register blocks as the middle
/// (a border position on its own, one accumulator chain, cost up to seven times a middle one).
/// </summary>
internal static partial class Conv
{
    /// <summary>Whether <see cref="WideForward"/> takes this shape.</summary>
    private static bool UseWide(int f) => Vector256.IsHardwareAccelerated && f % 8 == 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WideForward(in ConvGeometry g, int batch, ReadOnlySpan<float> src, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                           int f, Span<float> dst, bool accumulate, bool relu)
    {
        int image = g.H * g.W * g.C, positions = g.Positions, seg = g.KW * g.C;
        bool eight = f == 8 && g.OW >= 8 && EightWide;  // one 8-filter block: eight positions per block, as many loads per FMA as fit
        var (hp, wp) = PaddedSize(g, eight ? 8 : 4);
        var padded = Scratch(ref t_padded, hp * wp * g.C);
        var tail = Scratch(ref t_tail, 4 * f);
        long step = (long)g.SW * g.C, rowStride = (long)wp * g.C;
        fixed (float* xs = src, k = kernel, ys = dst, bb = bias, xp = padded, tl = tail)
        {
            for (int b = 0; b < batch; b++)
            {
                Pad(g, xs + (long)b * image, xp, hp, wp);
                float* y = ys + (long)b * positions * f;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    float* row = xp + (long)oh * g.SH * rowStride;
                    int ow = 0;
                    for (; eight && ow + 8 <= g.OW; ow += 8)
                        Block8x8(row + ow * step, step, rowStride, g.KH, seg, k, bb, y + (long)(oh * g.OW + ow) * f, accumulate, relu);
                    for (; ow < g.OW; ow += 4)
                    {
                        int n = Math.Min(4, g.OW - ow);          // the last group of a row may run past it, into the padding
                        float* at = y + (long)(oh * g.OW + ow) * f, out_ = n == 4 ? at : tl;
                        if (n < 4 && accumulate) Buffer.MemoryCopy(at, tl, 4L * f * sizeof(float), (long)n * f * sizeof(float));
                        float* x0 = row + ow * step;
                        for (int fc = 0; fc < f; fc += 16)
                        {
                            if (fc + 16 <= f) Block4x16(x0, step, rowStride, g.KH, seg, k + fc, f, bb == null ? null : bb + fc, out_ + fc, f, accumulate, relu);
                            else Block4x8(x0, step, rowStride, g.KH, seg, k + fc, f, bb == null ? null : bb + fc, out_ + fc, f, accumulate, relu);
                        }
                        if (n < 4) Buffer.MemoryCopy(tl, at, (long)n * f * sizeof(float), (long)n * f * sizeof(float));
                    }
                }
            }
        }
    }

    /// <summary>Whether 8-filter convolutions take eight positions per block (a bench knob).</summary>
    internal static bool EightWide = true;

    /// <summary>
    /// Eight positions × 8 filters (F = 8 exactly, so y's positions are 8 floats apart): one accumulator per position,
    /// each window value broadcast against K's one vector. Eight chains keep both FMA pipes busy without the even/odd
    /// split <see cref="Block4x8"/> needs, and K's vector is loaded once per eight FMAs instead of four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Block8x8(float* x0, long step, long rowStride, int rows, int seg, float* k, float* bias, float* y, bool accumulate, bool relu)
    {
        Vector256<float> a0, a1, a2, a3, a4, a5, a6, a7;
        if (accumulate)
            (a0, a1, a2, a3, a4, a5, a6, a7) = (Vector256.Load(y), Vector256.Load(y + 8), Vector256.Load(y + 16), Vector256.Load(y + 24),
                                                Vector256.Load(y + 32), Vector256.Load(y + 40), Vector256.Load(y + 48), Vector256.Load(y + 56));
        else
        {
            var init = bias == null ? Vector256<float>.Zero : Vector256.Load(bias);
            (a0, a1, a2, a3, a4, a5, a6, a7) = (init, init, init, init, init, init, init, init);
        }
        for (int i = 0; i < rows; i++, x0 += rowStride)
        {
            float* x1 = x0 + step, x2 = x1 + step, x3 = x2 + step, x4 = x3 + step, x5 = x4 + step, x6 = x5 + step, x7 = x6 + step;
            float* kp = k + (long)i * seg * 8;
            for (int t = 0; t < seg; t++, kp += 8)
            {
                var kv = Vector256.Load(kp);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(x0[t]), kv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(x1[t]), kv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(x2[t]), kv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(x3[t]), kv, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.Create(x4[t]), kv, a4);
                a5 = Vector256.FusedMultiplyAdd(Vector256.Create(x5[t]), kv, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.Create(x6[t]), kv, a6);
                a7 = Vector256.FusedMultiplyAdd(Vector256.Create(x7[t]), kv, a7);
            }
        }
        if (relu)
        {
            var zero = Vector256<float>.Zero;
            (a0, a1, a2, a3) = (Vector256.Max(a0, zero), Vector256.Max(a1, zero), Vector256.Max(a2, zero), Vector256.Max(a3, zero));
            (a4, a5, a6, a7) = (Vector256.Max(a4, zero), Vector256.Max(a5, zero), Vector256.Max(a6, zero), Vector256.Max(a7, zero));
        }
        a0.Store(y); a1.Store(y + 8); a2.Store(y + 16); a3.Store(y + 24);
        a4.Store(y + 32); a5.Store(y + 40); a6.Store(y + 48); a7.Store(y + 56);
    }

    /// <summary>Four positions × 16 filters: eight accumulators; each window value broadcast once against K's two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Block4x16(float* x0, long step, long rowStride, int rows, int seg, float* k, int f, float* bias, float* y, int ldy, bool accumulate, bool relu)
    {
        Vector256<float> a0, a1, b0, b1, c0, c1, d0, d1;
        if (accumulate)
        {
            a0 = Vector256.Load(y); a1 = Vector256.Load(y + 8);
            b0 = Vector256.Load(y + ldy); b1 = Vector256.Load(y + ldy + 8);
            c0 = Vector256.Load(y + 2 * ldy); c1 = Vector256.Load(y + 2 * ldy + 8);
            d0 = Vector256.Load(y + 3 * ldy); d1 = Vector256.Load(y + 3 * ldy + 8);
        }
        else
        {
            var lo = bias == null ? Vector256<float>.Zero : Vector256.Load(bias);
            var hi = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + 8);
            (a0, a1, b0, b1, c0, c1, d0, d1) = (lo, hi, lo, hi, lo, hi, lo, hi);
        }
        for (int i = 0; i < rows; i++, x0 += rowStride)
        {
            float* x1 = x0 + step, x2 = x1 + step, x3 = x2 + step;
            float* kp = k + (long)i * seg * f;
            for (int t = 0; t < seg; t++, kp += f)
            {
                var k0 = Vector256.Load(kp);
                var k1 = Vector256.Load(kp + 8);
                var v = Vector256.Create(x0[t]);
                a0 = Vector256.FusedMultiplyAdd(v, k0, a0); a1 = Vector256.FusedMultiplyAdd(v, k1, a1);
                v = Vector256.Create(x1[t]);
                b0 = Vector256.FusedMultiplyAdd(v, k0, b0); b1 = Vector256.FusedMultiplyAdd(v, k1, b1);
                v = Vector256.Create(x2[t]);
                c0 = Vector256.FusedMultiplyAdd(v, k0, c0); c1 = Vector256.FusedMultiplyAdd(v, k1, c1);
                v = Vector256.Create(x3[t]);
                d0 = Vector256.FusedMultiplyAdd(v, k0, d0); d1 = Vector256.FusedMultiplyAdd(v, k1, d1);
            }
        }
        if (relu)
        {
            var zero = Vector256<float>.Zero;
            (a0, a1, b0, b1) = (Vector256.Max(a0, zero), Vector256.Max(a1, zero), Vector256.Max(b0, zero), Vector256.Max(b1, zero));
            (c0, c1, d0, d1) = (Vector256.Max(c0, zero), Vector256.Max(c1, zero), Vector256.Max(d0, zero), Vector256.Max(d1, zero));
        }
        a0.Store(y); a1.Store(y + 8);
        b0.Store(y + ldy); b1.Store(y + ldy + 8);
        c0.Store(y + 2 * ldy); c1.Store(y + 2 * ldy + 8);
        d0.Store(y + 3 * ldy); d1.Store(y + 3 * ldy + 8);
    }

    /// <summary>
    /// Four positions × 8 filters. Four accumulators alone would leave the FMA units waiting on their latency; even
    /// and odd taps go to two sets of four, summed at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Block4x8(float* x0, long step, long rowStride, int rows, int seg, float* k, int f, float* bias, float* y, int ldy, bool accumulate, bool relu)
    {
        Vector256<float> a, b, c, d;
        if (accumulate) (a, b, c, d) = (Vector256.Load(y), Vector256.Load(y + ldy), Vector256.Load(y + 2 * ldy), Vector256.Load(y + 3 * ldy));
        else
        {
            var init = bias == null ? Vector256<float>.Zero : Vector256.Load(bias);
            (a, b, c, d) = (init, init, init, init);
        }
        Vector256<float> a2 = Vector256<float>.Zero, b2 = a2, c2 = a2, d2 = a2;
        for (int i = 0; i < rows; i++, x0 += rowStride)
        {
            float* x1 = x0 + step, x2 = x1 + step, x3 = x2 + step;
            float* kp = k + (long)i * seg * f;
            int t = 0;
            for (; t + 2 <= seg; t += 2, kp += 2 * f)
            {
                var kv = Vector256.Load(kp);
                var kw = Vector256.Load(kp + f);
                a = Vector256.FusedMultiplyAdd(Vector256.Create(x0[t]), kv, a);
                b = Vector256.FusedMultiplyAdd(Vector256.Create(x1[t]), kv, b);
                c = Vector256.FusedMultiplyAdd(Vector256.Create(x2[t]), kv, c);
                d = Vector256.FusedMultiplyAdd(Vector256.Create(x3[t]), kv, d);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(x0[t + 1]), kw, a2);
                b2 = Vector256.FusedMultiplyAdd(Vector256.Create(x1[t + 1]), kw, b2);
                c2 = Vector256.FusedMultiplyAdd(Vector256.Create(x2[t + 1]), kw, c2);
                d2 = Vector256.FusedMultiplyAdd(Vector256.Create(x3[t + 1]), kw, d2);
            }
            if (t < seg)
            {
                var kv = Vector256.Load(kp);
                a = Vector256.FusedMultiplyAdd(Vector256.Create(x0[t]), kv, a);
                b = Vector256.FusedMultiplyAdd(Vector256.Create(x1[t]), kv, b);
                c = Vector256.FusedMultiplyAdd(Vector256.Create(x2[t]), kv, c);
                d = Vector256.FusedMultiplyAdd(Vector256.Create(x3[t]), kv, d);
            }
        }
        (a, b, c, d) = (a + a2, b + b2, c + c2, d + d2);
        if (relu)
        {
            var zero = Vector256<float>.Zero;
            (a, b, c, d) = (Vector256.Max(a, zero), Vector256.Max(b, zero), Vector256.Max(c, zero), Vector256.Max(d, zero));
        }
        a.Store(y); b.Store(y + ldy); c.Store(y + 2 * ldy); d.Store(y + 3 * ldy);
    }
}

