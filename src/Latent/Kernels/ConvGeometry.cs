using System.Runtime.CompilerServices;

namespace Latent.Kernels;

/// <summary>
/// Where a 2-D convolution's windows fall, channels last: an input of H × W × C seen through KH × KW windows
/// moved by strides (SH, SW), after PadTop/PadLeft rows/columns of zeros, gives OH × OW outputs. Im2Col lays each
/// output position's window out as one row of KH·KW·C values (zeros where the window hangs over the edge), so a
/// convolution is one matrix product with the (KH·KW·C, filters) kernel; Col2ImAdd is its transpose (window rows
/// added back onto the image), the input gradient of a convolution and the forward pass of a transposed one.
/// </summary>
internal readonly record struct ConvGeometry(int H, int W, int C, int KH, int KW, int SH, int SW, int PadTop, int PadLeft, int OH, int OW)
{
    /// <summary>Values per window row: KH·KW·C.</summary>
    public int PatchSize => KH * KW * C;

    /// <summary>Output positions per sample: OH·OW.</summary>
    public int Positions => OH * OW;

    /// <summary>
    /// Keras's output size along one axis: "valid" ⌊(n − k)/s⌋ + 1 with no padding; "same" ⌈n/s⌉ with
    /// max((out − 1)·s + k − n, 0) zeros, the smaller half before (TensorFlow's rule).
    /// </summary>
    public static (int Out, int PadBefore) Axis(int n, int k, int s, bool same)
    {
        if (!same) return ((n - k) / s + 1, 0);
        int o = (n + s - 1) / s;
        int total = Math.Max((o - 1) * s + k - n, 0);
        return (o, total / 2);
    }

    /// <summary>The geometry of a convolution over an H × W × C input.</summary>
    public static ConvGeometry Forward(int h, int w, int c, int kh, int kw, int sh, int sw, bool same)
    {
        var (oh, pt) = Axis(h, kh, sh, same);
        var (ow, pl) = Axis(w, kw, sw, same);
        return new(h, w, c, kh, kw, sh, sw, pt, pl, oh, ow);
    }

    /// <summary>
    /// One sample's windows, <paramref name="x"/> (H, W, C) → <paramref name="cols"/> (OH·OW, KH·KW·C). Runs of a
    /// window row that lie inside the image are one contiguous copy of (columns × C) values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public void Im2Col(ReadOnlySpan<float> x, Span<float> cols)
    {
        int p = PatchSize, rowLen = KW * C;
        for (int oh = 0; oh < OH; oh++)
        {
            int ih0 = oh * SH - PadTop;
            for (int ow = 0; ow < OW; ow++)
            {
                var row = cols.Slice((oh * OW + ow) * p, p);
                int iw0 = ow * SW - PadLeft;
                int j0 = Math.Max(0, -iw0), j1 = Math.Min(KW, W - iw0);   // window columns inside the image
                for (int i = 0; i < KH; i++)
                {
                    var dst = row.Slice(i * rowLen, rowLen);
                    int ih = ih0 + i;
                    if ((uint)ih >= (uint)H || j1 <= j0) { dst.Clear(); continue; }
                    if (j0 > 0) dst[..(j0 * C)].Clear();
                    x.Slice((ih * W + iw0 + j0) * C, (j1 - j0) * C).CopyTo(dst.Slice(j0 * C));
                    if (j1 < KW) dst[(j1 * C)..].Clear();
                }
            }
        }
    }

    /// <summary>The transpose of <see cref="Im2Col"/>: adds each window row of <paramref name="cols"/> back onto <paramref name="x"/> (H, W, C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public void Col2ImAdd(ReadOnlySpan<float> cols, Span<float> x)
    {
        int p = PatchSize, rowLen = KW * C;
        for (int oh = 0; oh < OH; oh++)
        {
            int ih0 = oh * SH - PadTop;
            for (int ow = 0; ow < OW; ow++)
            {
                var row = cols.Slice((oh * OW + ow) * p, p);
                int iw0 = ow * SW - PadLeft;
                int j0 = Math.Max(0, -iw0), j1 = Math.Min(KW, W - iw0);
                if (j1 <= j0) continue;
                for (int i = 0; i < KH; i++)
                {
                    int ih = ih0 + i;
                    if ((uint)ih >= (uint)H) continue;
                    var src = row.Slice(i * rowLen + j0 * C, (j1 - j0) * C);
                    var dst = x.Slice((ih * W + iw0 + j0) * C, (j1 - j0) * C);
                    Simd.Add(dst, src, dst);
                }
            }
        }
    }
}
