using System.Runtime.Intrinsics;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Nearest-neighbour up-sampling, channels last: each pixel repeated sh × sw times,
/// <c>y[b, h·sh + a, w·sw + e, c] = x[b, h, w, c]</c>; backward sums each block, <c>dx[b, h, w, c] += Σ_{a,e} dy[…]</c>.
/// Shapes: x (B, H, W, C), y (B, H·sh, W·sw, C).
/// </summary>
public sealed class UpSampling2D : Layer, IConfigurableLayer<UpSampling2D>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="size">(sh, sw); (2, 2) when null.</param>
    public UpSampling2D((int, int)? size = null, string? name = null) : base(name)
    {
        Size = ImageShape.Positive(size ?? (2, 2), nameof(size));
    }

    /// <summary>(sh, sw).</summary>
    public (int, int) Size { get; }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, c) = ImageShape.Of(this, inputShapes[0]);
        long oh = (long)h * Size.Item1, ow = (long)w * Size.Item2;
        if (oh * ow * c > Array.MaxLength) throw new ArgumentException($"UpSampling2D '{Name}': output {oh}×{ow}×{c} is too large for one array.");
        return [(int)oh, (int)ow, c];
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    protected internal override void Forward(NodeContext ctx)
    {
        var s = ctx.InputShape(0);
        var (sh, sw) = Size;
        int h = s[0], w = s[1], c = s[2], ow = w * sw;
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        for (int r = 0; r < ctx.Batch * h; r++)                    // one input row makes sh output rows
        {
            var xr = x.Slice(r * w * c, w * c);
            var first = y.Slice(r * sh * ow * c, ow * c);
            if (c % 8 == 0 && Vector256.IsHardwareAccelerated)
            {
                for (int q = 0; q < w; q++)                         // pixels of 8·n channels: vectors, not a copy call each
                    for (int k = 0; k < c; k += 8)
                    {
                        var v = Vector256.Create(xr.Slice(q * c + k, 8));
                        for (int e = 0; e < sw; e++) v.CopyTo(first.Slice((q * sw + e) * c + k, 8));
                    }
            }
            else
                for (int q = 0; q < w; q++)
                {
                    var px = xr.Slice(q * c, c);
                    for (int e = 0; e < sw; e++) px.CopyTo(first.Slice((q * sw + e) * c, c));
                }
            for (int a = 1; a < sh; a++) first.CopyTo(y.Slice((r * sh + a) * ow * c, ow * c));
        }
    }

    internal override bool CanWriteInputGrads => true;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    protected internal override void Backward(NodeContext ctx)
    {
        if (!ctx.NeedsInputGrad(0)) return;
        var s = ctx.InputShape(0);
        var (sh, sw) = Size;
        int h = s[0], w = s[1], c = s[2], ow = w * sw;
        var dy = ctx.OutputGrad;
        var dx = ctx.InputGrad(0);
        bool write = ctx.WritesInputGrad(0);
        for (int r = 0; r < ctx.Batch * h; r++)
        {
            var dxr = dx.Slice(r * w * c, w * c);
            if (write && !(c % 8 == 0 && Vector256.IsHardwareAccelerated)) dxr.Clear();
            for (int a = 0; a < sh; a++)
            {
                var dyr = dy.Slice((r * sh + a) * ow * c, ow * c);
                if (c % 8 == 0 && Vector256.IsHardwareAccelerated)
                {
                    for (int q = 0; q < w; q++)
                        for (int k = 0; k < c; k += 8)
                        {
                            var acc = write && a == 0 ? Vector256<float>.Zero : Vector256.Create((ReadOnlySpan<float>)dxr.Slice(q * c + k, 8));
                            for (int e = 0; e < sw; e++) acc += Vector256.Create((ReadOnlySpan<float>)dyr.Slice((q * sw + e) * c + k, 8));
                            acc.CopyTo(dxr.Slice(q * c + k, 8));
                        }
                }
                else
                    for (int q = 0; q < w; q++)
                    {
                        var d = dxr.Slice(q * c, c);
                        for (int e = 0; e < sw; e++) Simd.Add(d, dyr.Slice((q * sw + e) * c, c), d);
                    }
            }
        }
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("size", [Size.Item1, Size.Item2]);

    /// <inheritdoc />
    public static UpSampling2D FromConfig(LayerConfig c)
    {
        var s = c.GetInts("size", 2);
        if (s.Length != 2) throw new FormatException("'size' must hold two integers");
        return new((s[0], s[1]), c.Name);
    }
}
