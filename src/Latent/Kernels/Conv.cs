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
/// Few filters (F &lt; 8, a decoder's last layer to 1 or 3 channels) would waste most of a GEMM tile: they are
/// computed directly from the image (ConvDirect.cs), without unrolling the windows.
/// </summary>
internal static partial class Conv
{
    private const int ChunkFloats = 1 << 15;
    private const int GroupFloats = 1 << 16;   // unrolled windows of whole samples per product: 256 KB, half an L2
    private const int SmallFilters = 8;

    [ThreadStatic] private static float[]? t_cols, t_grad, t_kt, t_dkt, t_packed;

    private static float[] Scratch(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(Math.Max(length, 1024));
        return buffer;
    }

    /// <summary>
    /// Whether a convolution with a multiple of eight filters still goes through unrolled windows and the GEMM rather
    /// than the direct kernels: with 32 filters or more, and windows of 16 channels or more (a product's inner size
    /// of KH·KW·C; a first layer's 9 would starve it), the GEMM's tiles are full, and it wins over the direct
    /// register blocks where those lose, on strided windows (inputs read two positions apart) and on rows whose
    /// width is not a multiple of the blocks' four positions (14 wide: an eighth of the work dropped). Measured per
    /// shape, one core (docs/PERFORMANCE.md).
    /// </summary>
    private static bool PreferGemm(in ConvGeometry g, int f) => FullGemmTiles(g, f) && (Strided(g) || g.OW % 4 != 0);

    private static bool FullGemmTiles(in ConvGeometry g, int f) => GemmRouting && f >= 32 && g.C >= 16;

    private static bool Strided(in ConvGeometry g) => g.SH > 1 || g.SW > 1;

    /// <summary>Whether <see cref="PreferGemm"/> and the whole-sample products are on (a bench knob: off, the routing before them).</summary>
    internal static bool GemmRouting = true;

    /// <summary>
    /// Whole samples whose unrolled windows fit in <see cref="GroupFloats"/>, for one product over them all; 0 when a
    /// sample's windows alone do not (or the routing is off): then the products go chunk by chunk of positions.
    /// </summary>
    private static int SamplesPerProduct(in ConvGeometry g)
    {
        long sample = (long)g.Positions * g.PatchSize;
        return GemmRouting && sample <= GroupFloats ? (int)(GroupFloats / sample) : 0;
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

    /// <summary>
    /// <c>dst (B, OH·OW, F) (+)= im2col(src)·K</c>, plus <paramref name="bias"/> (F,) unless empty (not with accumulate);
    /// with <paramref name="relu"/> (not with accumulate) <c>max(·, 0)</c> of that, in the kernel's store where it can,
    /// else sample by sample while the sample's output is in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public static void Forward(in ConvGeometry g, int batch, ReadOnlySpan<float> src, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                               int f, Span<float> dst, bool accumulate, bool relu = false)
    {
        if (relu && accumulate) throw new ArgumentException("A ReLU cannot follow an accumulating convolution.", nameof(relu));
        int image = g.H * g.W * g.C, outSize = g.Positions * f;
        if (f < SmallFilters)
        {
            DirectForward(g, batch, src, Transposed(kernel, g.PatchSize, f), bias, f, dst, accumulate, relu);
            return;
        }
        if (UseWide(f) && !PreferGemm(g, f))
        {
            WideForward(g, batch, src, kernel, bias, f, dst, accumulate, relu);
            return;
        }
        int p = g.PatchSize, pos = g.Positions, chunk = ChunkPositions(g);
        if (SamplesPerProduct(g) is int per and > 0)
        {
            // Whole samples, as many as fit: one product with more rows, fewer calls.
            var group = Scratch(ref t_cols, per * pos * p);
            var packed = Scratch(ref t_packed, Gemm.PackedLength(p, f));   // K packed once for every group
            Gemm.PackWhole(transB: false, kernel, f, p, f, packed);
            for (int b = 0; b < batch; b += per)
            {
                int nb = Math.Min(per, batch - b);
                for (int q = 0; q < nb; q++) g.Im2Col(src.Slice((b + q) * image, image), group.AsSpan(q * pos * p, pos * p), 0, pos);
                var y = dst.Slice(b * outSize, nb * outSize);
                Gemm.MultiplyPacked(false, nb * pos, f, p, group, p, packed, y, f, accumulate);
                if (!accumulate) Simd.AddBiasRelu(y, bias, f, relu);   // while the group is in cache
            }
            return;
        }
        var cols = Scratch(ref t_cols, chunk * p);
        for (int b = 0; b < batch; b++)
        {
            var x = src.Slice(b * image, image);
            for (int start = 0; start < pos; start += chunk)
            {
                int n = Math.Min(chunk, pos - start);
                g.Im2Col(x, cols, start, n);
                Gemm.Multiply(false, false, n, f, p, cols, p, kernel, f, dst.Slice((b * pos + start) * f, n * f), f, accumulate,
                              accumulate ? default : bias);
            }
            if (relu) Activations.Relu.Instance.Forward(dst.Slice(b * outSize, outSize), dst.Slice(b * outSize, outSize), f);
        }
    }

    /// <summary>
    /// Unless empty, <c>dKernel (P, F) += im2col(src)ᵀ·dz</c> and <c>dsrc (B, H, W, C) += col2im(dz·Kᵀ)</c>, with dz (B, OH·OW, F);
    /// with <paramref name="overwriteSrc"/> <c>dsrc =</c> instead (its old values are never read), then, with
    /// <paramref name="srcBias"/> (C,) or <paramref name="srcRelu"/>, <c>dsrc = max(dsrc + bias, 0)</c> sample by sample
    /// while the sample is in cache (a transposed convolution's forward pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public static void Backward(in ConvGeometry g, int batch, ReadOnlySpan<float> src, ReadOnlySpan<float> dz, ReadOnlySpan<float> kernel,
                                int f, Span<float> dKernel, Span<float> dsrc, bool overwriteSrc = false,
                                ReadOnlySpan<float> srcBias = default, bool srcRelu = false)
    {
        int p = g.PatchSize, pos = g.Positions, chunk = ChunkPositions(g), image = g.H * g.W * g.C;
        bool wantK = !dKernel.IsEmpty, wantX = !dsrc.IsEmpty;
        bool finish = !srcBias.IsEmpty || srcRelu;
        if (finish && (!overwriteSrc || !wantX))
            throw new ArgumentException("A bias or ReLU on the input gradient needs overwriteSrc and an input gradient.", nameof(srcBias));
        if (wantX && UseInputGradByForward(g))
        {
            InputGradByForward(g, batch, dz, kernel, f, dsrc, overwriteSrc, srcBias, srcRelu);
            wantX = false;
            dsrc = default;
            finish = false;
        }
        // The other paths add window by window onto zeros: cleared here for the few-filter path, sample by sample
        // (while the sample is in cache) in the GEMM paths.
        bool clearEach = wantX && overwriteSrc;
        if (wantK && UseDirectKernelGrad(g, f) && !(FullGemmTiles(g, f) && Strided(g)))   // strided: the GEMM, as in PreferGemm
        {
            DirectKernelGrad(g, batch, src, dz, f, dKernel);
            wantK = false;
            dKernel = default;
        }
        if (!wantK && !wantX) return;
        if (f < SmallFilters)
        {
            if (clearEach) dsrc[..(batch * image)].Clear();
            DirectBackward(g, batch, src, dz, Transposed(kernel, p, f), f, dKernel, dsrc);
            if (finish) Simd.AddBiasRelu(dsrc[..(batch * image)], srcBias, g.C, srcRelu);
            return;
        }
        int per = SamplesPerProduct(g);
        if (wantK && per > 0)
        {
            // Whole samples' windows, as many as fit, under one product: dK's tile is loaded and stored once per group.
            var group = Scratch(ref t_cols, per * pos * p);
            for (int b = 0; b < batch; b += per)
            {
                int nb = Math.Min(per, batch - b);
                for (int q = 0; q < nb; q++) g.Im2Col(src.Slice((b + q) * image, image), group.AsSpan(q * pos * p, pos * p), 0, pos);
                Gemm.Multiply(true, false, p, f, nb * pos, group, p, dz.Slice(b * pos * f, nb * pos * f), f, dKernel, f, accumulate: true);
            }
            wantK = false;
            if (!wantX) return;
        }
        if (!wantK && per > 0)
        {
            // The input gradient alone (the kernel's is done above): whole samples' window gradients from one product.
            var grads = Scratch(ref t_grad, per * pos * p);
            var packed = Scratch(ref t_packed, Gemm.PackedLength(f, p));   // Kᵀ packed once for every group
            Gemm.PackWhole(transB: true, kernel, f, f, p, packed);
            for (int b = 0; b < batch; b += per)
            {
                int nb = Math.Min(per, batch - b);
                Gemm.MultiplyPacked(false, nb * pos, p, f, dz.Slice(b * pos * f, nb * pos * f), f, packed, grads, p, accumulate: false);
                for (int q = 0; q < nb; q++)
                {
                    var x = dsrc.Slice((b + q) * image, image);
                    if (clearEach) x.Clear();
                    g.Col2ImAdd(grads.AsSpan(q * pos * p, pos * p), x, 0, pos);
                    if (finish) Simd.AddBiasRelu(x, srcBias, g.C, srcRelu);
                }
            }
            return;
        }
        var cols = wantK ? Scratch(ref t_cols, chunk * p) : null;
        var grad = wantX ? Scratch(ref t_grad, chunk * p) : null;
        for (int b = 0; b < batch; b++)
        {
            if (clearEach) dsrc.Slice(b * image, image).Clear();
            for (int start = 0; start < pos; start += chunk)
            {
                int n = Math.Min(chunk, pos - start);
                var d = dz.Slice((b * pos + start) * f, n * f);
                if (wantK)
                {
                    g.Im2Col(src.Slice(b * image, image), cols, start, n);
                    Gemm.Multiply(true, false, p, f, n, cols, p, d, f, dKernel, f, accumulate: true);
                }
                if (!wantX) continue;
                Gemm.Multiply(false, true, n, p, f, d, f, kernel, f, grad, p, accumulate: false);
                g.Col2ImAdd(grad, dsrc.Slice(b * image, image), start, n);
            }
            if (finish) Simd.AddBiasRelu(dsrc.Slice(b * image, image), srcBias, g.C, srcRelu);
        }
    }
}
