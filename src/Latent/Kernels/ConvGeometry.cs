using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    /// One sample's windows at output positions <c>[start, start + count)</c> (a chunk at a time), <paramref name="x"/>
    /// (H, W, C) → <paramref name="cols"/> (count, KH·KW·C). Runs of a window row that lie inside the image are one
    /// contiguous copy of (columns × C) values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public unsafe void Im2Col(ReadOnlySpan<float> x, Span<float> cols, int start, int count)
    {
        int p = PatchSize, rowLen = KW * C;
        if (x.Length < H * W * C || cols.Length < (long)count * p) throw new ArgumentException("Im2Col: a buffer is too short.");
        fixed (float* px = x, pc = cols)
        {
            float* row = pc;
            for (int pos = start; pos < start + count; pos++, row += p)
            {
                int oh = pos / OW, ow = pos - oh * OW;
                int ih0 = oh * SH - PadTop, iw0 = ow * SW - PadLeft;
                int j0 = Math.Max(0, -iw0), j1 = Math.Min(KW, W - iw0);   // window columns inside the image
                uint inside = (uint)Math.Max(0, j1 - j0) * (uint)C * sizeof(float);
                for (int i = 0; i < KH; i++)
                {
                    float* dst = row + i * rowLen;
                    int ih = ih0 + i;
                    if ((uint)ih >= (uint)H || inside == 0) { Unsafe.InitBlockUnaligned(dst, 0, (uint)rowLen * sizeof(float)); continue; }
                    if (j0 > 0) Unsafe.InitBlockUnaligned(dst, 0, (uint)(j0 * C) * sizeof(float));
                    Copy(px + (ih * W + iw0 + j0) * C, dst + j0 * C, (j1 - j0) * C);
                    if (j1 < KW) Unsafe.InitBlockUnaligned(dst + j1 * C, 0, (uint)((KW - j1) * C) * sizeof(float));
                }
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="n"/> floats inline: a window row is 3–200 values, and a call to memmove per row cost more
    /// than the copy. From eight values on, whole vectors and one last vector that may overlap the one before.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Copy(float* src, float* dst, int n)
    {
        if (n >= 8 && Vector256.IsHardwareAccelerated)
        {
            int k = 0;
            for (; k + 8 <= n; k += 8) Vector256.Load(src + k).Store(dst + k);
            if (k < n) Vector256.Load(src + n - 8).Store(dst + n - 8);
            return;
        }
        for (int k = 0; k < n; k++) dst[k] = src[k];
    }

    /// <summary>
    /// The transpose of <see cref="Im2Col"/>: adds the window rows of output positions <c>[start, start + count)</c>,
    /// <paramref name="cols"/> (count, KH·KW·C), back onto <paramref name="x"/> (H, W, C).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path
    public unsafe void Col2ImAdd(ReadOnlySpan<float> cols, Span<float> x, int start, int count)
    {
        int p = PatchSize, rowLen = KW * C;
        if (x.Length < H * W * C || cols.Length < (long)count * p) throw new ArgumentException("Col2ImAdd: a buffer is too short.");
        fixed (float* px = x, pc = cols)
        {
            float* row = pc;
            for (int pos = start; pos < start + count; pos++, row += p)
            {
                int oh = pos / OW, ow = pos - oh * OW;
                int ih0 = oh * SH - PadTop, iw0 = ow * SW - PadLeft;
                int j0 = Math.Max(0, -iw0), j1 = Math.Min(KW, W - iw0);
                int n = (j1 - j0) * C;
                if (n <= 0) continue;
                for (int i = 0; i < KH; i++)
                {
                    int ih = ih0 + i;
                    if ((uint)ih >= (uint)H) continue;
                    float* src = row + i * rowLen + j0 * C, dst = px + (ih * W + iw0 + j0) * C;
                    int k = 0;
                    if (Vector256.IsHardwareAccelerated)
                        for (; k + 8 <= n; k += 8) (Vector256.Load(dst + k) + Vector256.Load(src + k)).Store(dst + k);
                    for (; k < n; k++) dst[k] += src[k];
                }
            }
        }
    }
}
