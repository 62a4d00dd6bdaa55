using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

/// <summary>
/// Convolution gradients computed from the image and dz directly, one sample at a time so its dz stays in L1/L2:
/// <list type="bullet">
/// <item>The input gradient of a stride-1 convolution is itself a convolution: dz (OH, OW, F) through the kernel
/// flipped in both axes, with F and C swapped, padded by <c>K − 1 − pad</c>, gives (H, W, C). It runs on the
/// forward kernels (<see cref="WideForward"/>: four positions × 16 channels in registers; for fewer than 8
/// channels, a transposed convolution's output to an image, <see cref="DirectForward"/>).</item>
/// <item>The kernel gradient <c>dK[q, f] = Σ_positions x[window(q)]·dz[position, f]</c> over the P = KH·KW·C window
/// entries q: the sample is copied once into a zero-padded image so that every window lies inside it, then groups
/// of window entries keep their rows of dK in registers while the positions stream past (<see cref="KernelGrad16"/>:
/// six entries × 16 filters; <see cref="KernelGrad8"/>: twelve × 8; <see cref="KernelGradFew"/> for fewer than 8
/// filters: six vectors of 8 consecutive entries).</item>
/// </list>
/// The unrolled-window GEMMs these replace ran with N = 8 or 16 columns (half a tile wasted at 8) or with K = 9.
/// </summary>
internal static partial class Conv
{
    [ThreadStatic] private static float[]? t_padded, t_flipped, t_tail;
    [ThreadStatic] private static int[]? t_offsets;

    /// <summary>Whether the input gradient is computed as a forward convolution of dz (<see cref="InputGradByForward"/>).</summary>
    private static bool UseInputGradByForward(in ConvGeometry g) => g.SH == 1 && g.SW == 1 && (UseWide(g.C) || g.C < SmallFilters) &&
                                                                     g.PadTop < g.KH && g.PadLeft < g.KW;

    /// <summary><c>dsrc (B, H, W, C) (+)= </c> the input gradient of a stride-1 convolution, for dz (B, OH, OW, F) and K (P, F).</summary>
    private static void InputGradByForward(in ConvGeometry g, int batch, ReadOnlySpan<float> dz, ReadOnlySpan<float> kernel, int f, Span<float> dsrc,
                                           bool overwrite, ReadOnlySpan<float> bias = default, bool relu = false)
    {
        var flipped = new ConvGeometry(g.OH, g.OW, f, g.KH, g.KW, 1, 1, g.KH - 1 - g.PadTop, g.KW - 1 - g.PadLeft, g.H, g.W);
        int c = g.C, p = g.PatchSize;
        var kf = Scratch(ref t_flipped, p * f);
        // K'[((i'·KW + j')·F + f)·C + c] = K[(((KH−1−i')·KW + KW−1−j')·C + c)·F + f]
        for (int i = 0; i < g.KH; i++)
        for (int j = 0; j < g.KW; j++)
        {
            int from = ((g.KH - 1 - i) * g.KW + g.KW - 1 - j) * c * f, to = (i * g.KW + j) * f * c;
            for (int cc = 0; cc < c; cc++)
                for (int ff = 0; ff < f; ff++) kf[to + ff * c + cc] = kernel[from + cc * f + ff];
        }
        Forward(flipped, batch, dz, kf.AsSpan(0, p * f), bias, c, dsrc, accumulate: !overwrite, relu);   // few channels: the dot-product kernel
    }

    /// <summary>Whether <see cref="DirectKernelGrad"/> takes this shape.</summary>
    private static bool UseDirectKernelGrad(in ConvGeometry g, int f) =>
        Vector256.IsHardwareAccelerated && (f % 8 == 0 || (f < SmallFilters && g.KW * g.C % 8 == 0));

    /// <summary><c>dKernel (P, F) += Σ</c> over the batch's positions of window ⊗ dz, for src (B, H, W, C) and dz (B, OH·OW, F).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DirectKernelGrad(in ConvGeometry g, int batch, ReadOnlySpan<float> src, ReadOnlySpan<float> dz, int f, Span<float> dKernel)
    {
        var (hp, wp) = PaddedSize(g);
        int c = g.C, p = g.PatchSize, seg = g.KW * c, image = g.H * g.W * c, positions = g.Positions;
        var padded = Scratch(ref t_padded, hp * wp * c + 16);   // slack: a group's last entries may read past the end
        if (t_offsets is null || t_offsets.Length < p) t_offsets = new int[Math.Max(p, 64)];
        var offsets = t_offsets;     // window entry q = (i, j, c) → its offset from the window's corner in the padded image
        for (int q = 0; q < p; q++) offsets[q] = q / seg * wp * c + q % seg;
        fixed (float* xs = src, d = dz, dk = dKernel, xp = padded)
        fixed (int* off = offsets)
        {
            for (int b = 0; b < batch; b++)
            {
                Pad(g, xs + (long)b * image, xp, hp, wp);
                float* db = d + (long)b * positions * f;
                if (f < SmallFilters)
                {
                    KernelGradFew(g, xp, wp, db, f, dk, seg);
                    continue;
                }
                // Groups of entries along one window row (contiguous in the padded image: one pointer, fixed
                // displacements) when a row holds a whole group; else any entries, through their offsets.
                int fo = 0;
                for (; fo + 16 <= f; fo += 16)
                {
                    if (seg >= 6)
                        for (int i = 0; i < g.KH; i++)
                            for (int t = 0, q0 = i * seg; t < seg; t += 6, q0 += 6)
                                KernelGrad16(g, xp + off[q0], wp, default(Consecutive), q0, Math.Min(6, seg - t), db + fo, f, dk + fo);
                    else
                        for (int q0 = 0; q0 < p; q0 += 6)
                            KernelGrad16(g, xp + off[q0], wp, new Listed(off, q0, Math.Min(6, p - q0)), q0, Math.Min(6, p - q0), db + fo, f, dk + fo);
                }
                for (; fo < f; fo += 8)
                {
                    if (seg >= 12)
                        for (int i = 0; i < g.KH; i++)
                            for (int t = 0, q0 = i * seg; t < seg; t += 12, q0 += 12)
                                KernelGrad8(g, xp + off[q0], wp, default(Consecutive), q0, Math.Min(12, seg - t), db + fo, f, dk + fo);
                    else
                        for (int q0 = 0; q0 < p; q0 += 12)
                            KernelGrad8(g, xp + off[q0], wp, new Listed(off, q0, Math.Min(12, p - q0)), q0, Math.Min(12, p - q0), db + fo, f, dk + fo);
                }
            }
        }
    }

    /// <summary>
    /// The zero-padded image in which every window lies inside, also those of a last group of <paramref name="group"/>
    /// positions that runs past the row's end: rows (OH − 1)·SH + KH, columns (⌈OW/group⌉·group − 1)·SW + KW.
    /// </summary>
    private static (int Hp, int Wp) PaddedSize(in ConvGeometry g, int group = 4) =>
        ((g.OH - 1) * g.SH + g.KH, ((g.OW + group - 1) / group * group - 1) * g.SW + g.KW);

    /// <summary>
    /// One sample (H, W, C) into the zero-padded (hp, wp, C) image whose windows all lie inside. Only the padding is
    /// cleared, and rows are copied inline (a call to memmove per row of 28 values cost more than the copy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pad(in ConvGeometry g, float* x, float* xp, int hp, int wp)
    {
        int c = g.C;
        int rows = Math.Min(g.H, hp - g.PadTop), cols = Math.Min(g.W, wp - g.PadLeft);   // "valid" windows may not reach the last rows
        long rowLen = (long)wp * c, left = (long)g.PadLeft * c, n = (long)cols * c, right = rowLen - left - n;
        new Span<float>(xp, (int)(g.PadTop * rowLen)).Clear();
        float* dst = xp + g.PadTop * rowLen;
        for (int h = 0; h < rows; h++, dst += rowLen)
        {
            float* src = x + (long)h * g.W * c;
            for (long i = 0; i < left; i++) dst[i] = 0;
            float* d = dst + left;
            long k = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; k + 8 <= n; k += 8) Vector256.Load(src + k).Store(d + k);
            for (; k < n; k++) d[k] = src[k];
            for (long i = 0; i < right; i++) d[n + i] = 0;
        }
        new Span<float>(dst, (int)((hp - g.PadTop - rows) * rowLen)).Clear();
    }

    /// <summary>Where a group's window entries sit, relative to its first one's place in the padded image.</summary>
    private interface IEntries
    {
        int At(int e);
    }

    /// <summary>Consecutive entries of one window row: fixed displacements 0, 1, 2, … from one pointer.</summary>
    private readonly struct Consecutive : IEntries
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int At(int e) => e;
    }

    /// <summary>
    /// Any entries, by their offsets (a group spanning window rows, when a row is shorter than a group). Entries
    /// past the group's n repeat its last. Twelve of them do not fit the registers beside the accumulators, which
    /// is why rows long enough take <see cref="Consecutive"/>.
    /// </summary>
    private readonly struct Listed : IEntries
    {
        private readonly int _o1, _o2, _o3, _o4, _o5, _o6, _o7, _o8, _o9, _o10, _o11;

        public unsafe Listed(int* off, int q0, int n)
        {
            int O(int e) => off[q0 + Math.Min(e, n - 1)] - off[q0];
            (_o1, _o2, _o3, _o4, _o5, _o6) = (O(1), O(2), O(3), O(4), O(5), O(6));
            (_o7, _o8, _o9, _o10, _o11) = (O(7), O(8), O(9), O(10), O(11));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int At(int e) => e switch
        {
            0 => 0, 1 => _o1, 2 => _o2, 3 => _o3, 4 => _o4, 5 => _o5, 6 => _o6, 7 => _o7, 8 => _o8, 9 => _o9, 10 => _o10, _ => _o11,
        };
    }

    /// <summary>
    /// Window entries q0 … q0 + n − 1 (n ≤ 6) × filters fo … fo + 15: twelve accumulators over every position of one
    /// sample, then added to dK's rows. <paramref name="x0"/> is entry q0 of the first window; entries past n are
    /// read (within the padding) and dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelGrad16<T>(in ConvGeometry g, float* x0, int wp, T at, int q0, int n, float* dz, int f, float* dk)
        where T : struct, IEntries
    {
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default;
        Vector256<float> d0 = default, d1 = default, e0 = default, e1 = default, h0 = default, h1 = default;
        long step = (long)g.SW * g.C, rowStep = (long)g.SH * wp * g.C;
        float* row = x0;
        for (int oh = 0; oh < g.OH; oh++, row += rowStep)
        {
            float* x = row;
            float* dzr = dz + (long)oh * g.OW * f;
            for (int ow = 0; ow < g.OW; ow++, x += step, dzr += f)
            {
                var z0 = Vector256.Load(dzr);
                var z1 = Vector256.Load(dzr + 8);
                var v = Vector256.Create(x[at.At(0)]);
                a0 = Vector256.FusedMultiplyAdd(v, z0, a0); a1 = Vector256.FusedMultiplyAdd(v, z1, a1);
                v = Vector256.Create(x[at.At(1)]);
                b0 = Vector256.FusedMultiplyAdd(v, z0, b0); b1 = Vector256.FusedMultiplyAdd(v, z1, b1);
                v = Vector256.Create(x[at.At(2)]);
                c0 = Vector256.FusedMultiplyAdd(v, z0, c0); c1 = Vector256.FusedMultiplyAdd(v, z1, c1);
                v = Vector256.Create(x[at.At(3)]);
                d0 = Vector256.FusedMultiplyAdd(v, z0, d0); d1 = Vector256.FusedMultiplyAdd(v, z1, d1);
                v = Vector256.Create(x[at.At(4)]);
                e0 = Vector256.FusedMultiplyAdd(v, z0, e0); e1 = Vector256.FusedMultiplyAdd(v, z1, e1);
                v = Vector256.Create(x[at.At(5)]);
                h0 = Vector256.FusedMultiplyAdd(v, z0, h0); h1 = Vector256.FusedMultiplyAdd(v, z1, h1);
            }
        }
        // Stored one by one: gathering the accumulators into a span made the JIT keep them in memory in the loop.
        float* r = dk + (long)q0 * f;
        Add16(r, a0, a1);
        if (n > 1) Add16(r + f, b0, b1);
        if (n > 2) Add16(r + 2 * f, c0, c1);
        if (n > 3) Add16(r + 3 * f, d0, d1);
        if (n > 4) Add16(r + 4 * f, e0, e1);
        if (n > 5) Add16(r + 5 * f, h0, h1);
    }

    /// <summary>Window entries q0 … q0 + n − 1 (n ≤ 12) × filters fo … fo + 7, as <see cref="KernelGrad16"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelGrad8<T>(in ConvGeometry g, float* x0, int wp, T at, int q0, int n, float* dz, int f, float* dk)
        where T : struct, IEntries
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector256<float> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        long step = (long)g.SW * g.C, rowStep = (long)g.SH * wp * g.C;
        float* row = x0;
        for (int oh = 0; oh < g.OH; oh++, row += rowStep)
        {
            float* x = row;
            float* dzr = dz + (long)oh * g.OW * f;
            for (int ow = 0; ow < g.OW; ow++, x += step, dzr += f)
            {
                var z = Vector256.Load(dzr);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(0)]), z, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(1)]), z, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(2)]), z, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(3)]), z, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(4)]), z, a4);
                a5 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(5)]), z, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(6)]), z, a6);
                a7 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(7)]), z, a7);
                a8 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(8)]), z, a8);
                a9 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(9)]), z, a9);
                a10 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(10)]), z, a10);
                a11 = Vector256.FusedMultiplyAdd(Vector256.Create(x[at.At(11)]), z, a11);
            }
        }
        float* r = dk + (long)q0 * f;
        Add8(r, a0);
        if (n > 1) Add8(r + f, a1);
        if (n > 2) Add8(r + 2 * f, a2);
        if (n > 3) Add8(r + 3 * f, a3);
        if (n > 4) Add8(r + 4 * f, a4);
        if (n > 5) Add8(r + 5 * f, a5);
        if (n > 6) Add8(r + 6 * f, a6);
        if (n > 7) Add8(r + 7 * f, a7);
        if (n > 8) Add8(r + 8 * f, a8);
        if (n > 9) Add8(r + 9 * f, a9);
        if (n > 10) Add8(r + 10 * f, a10);
        if (n > 11) Add8(r + 11 * f, a11);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Add16(float* at, Vector256<float> lo, Vector256<float> hi)
    {
        (Vector256.Load(at) + lo).Store(at);
        (Vector256.Load(at + 8) + hi).Store(at + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Add8(float* at, Vector256<float> v) => (Vector256.Load(at) + v).Store(at);

    /// <summary><c>at[e·stride] += v[e]</c> for the 8 lanes.</summary>
    private static unsafe void Scatter(float* at, Vector256<float> v, int stride)
    {
        for (int e = 0; e < 8; e++) at[(long)e * stride] += v.GetElement(e);
    }

    /// <summary>
    /// Fewer than 8 filters, with KW·C a multiple of 8: for each filter, vectors of 8 consecutive window entries
    /// (a window row is contiguous in the padded image) accumulate x·dz, six vectors at a time in registers.
    /// dK is (P, F): entry q of filter j is at q·F + j, so the sums are scattered into it at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelGradFew(in ConvGeometry g, float* xp, int wp, float* dz, int f, float* dk, int seg)
    {
        int vectors = g.PatchSize / 8, perRow = seg / 8;
        long step = (long)g.SW * g.C, rowStep = (long)g.SH * wp * g.C, rowStride = (long)wp * g.C;
        for (int j = 0; j < f; j++)
        {
            for (int v0 = 0; v0 < vectors; v0 += 6)
            {
                int n = Math.Min(6, vectors - v0);
                long At(int v) { int vi = v0 + Math.Min(v, n - 1); return vi / perRow * rowStride + vi % perRow * 8; }
                long t0 = At(0), t1 = At(1), t2 = At(2), t3 = At(3), t4 = At(4), t5 = At(5);
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
                float* row = xp;
                for (int oh = 0; oh < g.OH; oh++, row += rowStep)
                {
                    float* x = row;
                    float* dzr = dz + (long)oh * g.OW * f + j;
                    for (int ow = 0; ow < g.OW; ow++, x += step, dzr += f)
                    {
                        var z = Vector256.Create(*dzr);
                        a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + t0), z, a0);
                        a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + t1), z, a1);
                        a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + t2), z, a2);
                        a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + t3), z, a3);
                        a4 = Vector256.FusedMultiplyAdd(Vector256.Load(x + t4), z, a4);
                        a5 = Vector256.FusedMultiplyAdd(Vector256.Load(x + t5), z, a5);
                    }
                }
                float* r = dk + (long)v0 * 8 * f + j;
                Scatter(r, a0, f);
                if (n > 1) Scatter(r + 8 * f, a1, f);
                if (n > 2) Scatter(r + 16 * f, a2, f);
                if (n > 3) Scatter(r + 24 * f, a3, f);
                if (n > 4) Scatter(r + 32 * f, a4, f);
                if (n > 5) Scatter(r + 40 * f, a5, f);
            }
        }
    }
}
