using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

/// <summary>
/// Convolutions as products of window rows with a kernel matrix, for the image layers. For an image batch
/// <c>src</c> (B, H, W, C) seen through a <see cref="ConvGeometry"/>, with K the (P = KH·KW·C, F) kernel matrix:
/// <list type="bullet">
/// <item><see cref="Forward"/>: <c>dst (B, OH·OW, F) (+)= im2col(src)·K (+ bias)</c>;</item>
/// <item><see cref="Backward"/>: <c>dK += im2col(src)ᵀ·dz</c> and <c>dsrc += col2im(dz·Kᵀ)</c>.</item>
/// </list>
/// The windows are never laid out for the whole batch: a chunk of output positions at a time (about 128 KB) is
/// unrolled into a per-thread scratch and used while it sits in L2, and recomputed in Backward instead of kept.
/// Few filters (F &lt; 8, a decoder's last layer) would waste most of a GEMM tile, so they take row-wise dot
/// products and axpys over the window rows instead.
/// </summary>
internal static class Conv
{
    private const int ChunkFloats = 1 << 15;
    private const int SmallFilters = 8;

    [ThreadStatic] private static float[]? t_cols, t_grad, t_kt, t_dkt;

    private static float[] Scratch(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(Math.Max(length, 1024));
        return buffer;
    }

    /// <summary>Positions per chunk: about <see cref="ChunkFloats"/> window values, at least one position.</summary>
    private static int ChunkPositions(in ConvGeometry g) => Math.Clamp(ChunkFloats / g.PatchSize, 1, g.Positions);

    /// <summary>Kᵀ (F, P) from K (P, F), into a per-thread scratch.</summary>
    private static float[] Transposed(ReadOnlySpan<float> kernel, int p, int f)
    {
        var kt = Scratch(ref t_kt, p * f);
        for (int i = 0; i < p; i++)
            for (int j = 0; j < f; j++) kt[j * p + i] = kernel[i * f + j];
        return kt;
    }

    /// <summary><c>dst (B, OH·OW, F) (+)= im2col(src)·K</c>, plus <paramref name="bias"/> (F,) unless empty (not with accumulate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public static void Forward(in ConvGeometry g, int batch, ReadOnlySpan<float> src, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                               int f, Span<float> dst, bool accumulate)
    {
        int p = g.PatchSize, pos = g.Positions, chunk = ChunkPositions(g), image = g.H * g.W * g.C;
        var cols = Scratch(ref t_cols, chunk * p);
        bool small = f < SmallFilters;
        var kt = small ? Transposed(kernel, p, f) : null;
        for (int b = 0; b < batch; b++)
        {
            var x = src.Slice(b * image, image);
            for (int start = 0; start < pos; start += chunk)
            {
                int n = Math.Min(chunk, pos - start);
                g.Im2Col(x, cols, start, n);
                var y = dst.Slice((b * pos + start) * f, n * f);
                if (!small)
                {
                    Gemm.Multiply(false, false, n, f, p, cols, p, kernel, f, y, f, accumulate, accumulate ? default : bias);
                    continue;
                }
                SmallForward(cols, n, p, kt!, f, y, bias, accumulate);
            }
        }
    }

    /// <summary>
    /// Unless empty, <c>dKernel (P, F) += im2col(src)ᵀ·dz</c> and <c>dsrc (B, H, W, C) += col2im(dz·Kᵀ)</c>, with dz (B, OH·OW, F).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public static void Backward(in ConvGeometry g, int batch, ReadOnlySpan<float> src, ReadOnlySpan<float> dz, ReadOnlySpan<float> kernel,
                                int f, Span<float> dKernel, Span<float> dsrc)
    {
        int p = g.PatchSize, pos = g.Positions, chunk = ChunkPositions(g), image = g.H * g.W * g.C;
        bool wantK = !dKernel.IsEmpty, wantX = !dsrc.IsEmpty;
        if (!wantK && !wantX) return;
        var cols = wantK ? Scratch(ref t_cols, chunk * p) : null;
        var grad = wantX ? Scratch(ref t_grad, chunk * p) : null;
        bool small = f < SmallFilters;
        var kt = small && wantX ? Transposed(kernel, p, f) : null;
        float[]? dkt = null;
        if (small && wantK)
        {
            dkt = Scratch(ref t_dkt, p * f);
            dkt.AsSpan(0, p * f).Clear();
        }
        for (int b = 0; b < batch; b++)
        {
            for (int start = 0; start < pos; start += chunk)
            {
                int n = Math.Min(chunk, pos - start);
                var d = dz.Slice((b * pos + start) * f, n * f);
                if (wantK)
                {
                    g.Im2Col(src.Slice(b * image, image), cols, start, n);
                    if (!small) Gemm.Multiply(true, false, p, f, n, cols, p, d, f, dKernel, f, accumulate: true);
                    else SmallKernelGrad(cols!, n, p, d, f, dkt!);
                }
                if (!wantX) continue;
                if (!small) Gemm.Multiply(false, true, n, p, f, d, f, kernel, f, grad, p, accumulate: false);
                else SmallDataGrad(d, n, f, kt!, p, grad!);
                g.Col2ImAdd(grad, dsrc.Slice(b * image, image), start, n);
            }
        }
        if (dkt is not null)
            for (int i = 0; i < p; i++)
                for (int j = 0; j < f; j++) dKernel[i * f + j] += dkt[j * p + i];
    }

    /// <summary>
    /// <c>y[r, j] (+)= Σ_k cols[r, k]·kt[j, k]</c> (+ bias[j]) for n rows: four rows at a time share each load of the
    /// kernel row, eight lanes of k per fused multiply-add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SmallForward(float[] cols, int n, int p, float[] kt, int f, Span<float> y, ReadOnlySpan<float> bias, bool accumulate)
    {
        int vec = Vector256.IsHardwareAccelerated ? p & ~7 : 0;
        fixed (float* c = cols, k = kt, o = y, bb = bias)
        {
            int r = 0;
            for (; r + 4 <= n; r += 4)
            {
                float* c0 = c + (long)r * p, c1 = c0 + p, c2 = c1 + p, c3 = c2 + p;
                for (int j = 0; j < f; j++)
                {
                    float* kj = k + (long)j * p;
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    int i = 0;
                    for (; i < vec; i += 8)
                    {
                        var w = Vector256.Load(kj + i);
                        a0 = Vector256.FusedMultiplyAdd(Vector256.Load(c0 + i), w, a0);
                        a1 = Vector256.FusedMultiplyAdd(Vector256.Load(c1 + i), w, a1);
                        a2 = Vector256.FusedMultiplyAdd(Vector256.Load(c2 + i), w, a2);
                        a3 = Vector256.FusedMultiplyAdd(Vector256.Load(c3 + i), w, a3);
                    }
                    float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
                    for (; i < p; i++) { float w = kj[i]; s0 += c0[i] * w; s1 += c1[i] * w; s2 += c2[i] * w; s3 += c3[i] * w; }
                    float add = bb == null || accumulate ? 0 : bb[j];
                    float* at = o + (long)r * f + j;
                    if (accumulate) { at[0] += s0; at[f] += s1; at[2 * f] += s2; at[3 * f] += s3; }
                    else { at[0] = s0 + add; at[f] = s1 + add; at[2 * f] = s2 + add; at[3 * f] = s3 + add; }
                }
            }
            for (; r < n; r++)
                for (int j = 0; j < f; j++)
                {
                    float v = TensorPrimitives.Dot(new ReadOnlySpan<float>(c + (long)r * p, p), new ReadOnlySpan<float>(k + (long)j * p, p));
                    float* at = o + (long)r * f + j;
                    *at = accumulate ? *at + v : bb == null ? v : v + bb[j];
                }
        }
    }

    /// <summary><c>grad[r, k] = Σ_j d[r, j]·kt[j, k]</c>: each window row's gradient, eight lanes of k at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SmallDataGrad(ReadOnlySpan<float> d, int n, int f, float[] kt, int p, float[] grad)
    {
        int vec = Vector256.IsHardwareAccelerated ? p & ~7 : 0;
        fixed (float* dd = d, k = kt, g = grad)
        {
            for (int r = 0; r < n; r++)
            {
                float* gr = g + (long)r * p, dr = dd + (long)r * f;
                int i = 0;
                for (; i < vec; i += 8)
                {
                    var acc = Vector256.Load(k + i) * dr[0];
                    for (int j = 1; j < f; j++) acc = Vector256.FusedMultiplyAdd(Vector256.Load(k + (long)j * p + i), Vector256.Create(dr[j]), acc);
                    acc.Store(gr + i);
                }
                for (; i < p; i++)
                {
                    float acc = 0;
                    for (int j = 0; j < f; j++) acc += k[(long)j * p + i] * dr[j];
                    gr[i] = acc;
                }
            }
        }
    }

    /// <summary><c>dkt[j, k] += Σ_r d[r, j]·cols[r, k]</c>: eight lanes of k held in a register while the rows stream past.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SmallKernelGrad(float[] cols, int n, int p, ReadOnlySpan<float> d, int f, float[] dkt)
    {
        int vec = Vector256.IsHardwareAccelerated ? p & ~7 : 0;
        fixed (float* c = cols, dd = d, dk = dkt)
        {
            for (int j = 0; j < f; j++)
            {
                float* dj = dk + (long)j * p;
                int i = 0;
                for (; i < vec; i += 8)
                {
                    var acc = Vector256.Load(dj + i);
                    for (int r = 0; r < n; r++) acc = Vector256.FusedMultiplyAdd(Vector256.Load(c + (long)r * p + i), Vector256.Create(dd[(long)r * f + j]), acc);
                    acc.Store(dj + i);
                }
                for (; i < p; i++)
                {
                    float acc = dj[i];
                    for (int r = 0; r < n; r++) acc += c[(long)r * p + i] * dd[(long)r * f + j];
                    dj[i] = acc;
                }
            }
        }
    }
}
