using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Adds rows and columns of zeros around each image, channels last: (B, H, W, C) → (B, top + H + bottom,
/// left + W + right, C); <c>dx += dy</c> over the inner region.
/// </summary>
public sealed class ZeroPadding2D : Layer, IConfigurableLayer<ZeroPadding2D>
{
    /// <summary>The same padding on every side.</summary>
    public ZeroPadding2D(int padding = 1, string? name = null) : this(((padding, padding), (padding, padding)), name) { }

    /// <summary>(rows above and below, columns left and right).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative amount.</exception>
    public ZeroPadding2D(((int Top, int Bottom) Rows, (int Left, int Right) Columns) padding, string? name = null) : base(name)
    {
        var ((t, b), (l, r)) = padding;
        if (t < 0 || b < 0 || l < 0 || r < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"Expected padding ≥ 0. Received: padding=(({t}, {b}), ({l}, {r})).");
        Padding = padding;
    }

    /// <summary>((top, bottom), (left, right)).</summary>
    public ((int Top, int Bottom) Rows, (int Left, int Right) Columns) Padding { get; }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, c) = ImageShape.Of(this, inputShapes[0]);
        long oh = (long)h + Padding.Rows.Top + Padding.Rows.Bottom, ow = (long)w + Padding.Columns.Left + Padding.Columns.Right;
        if (oh * ow * c > Array.MaxLength) throw new ArgumentException($"ZeroPadding2D '{Name}': output {oh}×{ow}×{c} is too large for one array.");
        return [(int)oh, (int)ow, c];
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var y = ctx.OutputValues;
        y.Clear();
        Copy(ctx, ctx.Input(0), y, toPadded: true);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (ctx.NeedsInputGrad(0)) Copy(ctx, ctx.OutputGrad, ctx.InputGrad(0), toPadded: false);
    }

    /// <summary>Inner rows: x into the padded image, or (backward) the padded gradient's inner region added onto dx.</summary>
    private void Copy(NodeContext ctx, ReadOnlySpan<float> from, Span<float> to, bool toPadded)
    {
        var s = ctx.InputShape(0);
        int h = s[0], w = s[1], c = s[2];
        int ow = w + Padding.Columns.Left + Padding.Columns.Right, oh = h + Padding.Rows.Top + Padding.Rows.Bottom;
        for (int b = 0; b < ctx.Batch; b++)
            for (int r = 0; r < h; r++)
            {
                int inner = b * h * w * c + r * w * c;
                int outer = (b * oh + r + Padding.Rows.Top) * ow * c + Padding.Columns.Left * c;
                if (toPadded) from.Slice(inner, w * c).CopyTo(to.Slice(outer, w * c));
                else { var d = to.Slice(inner, w * c); Kernels.Simd.Add(d, from.Slice(outer, w * c), d); }
            }
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) =>
        config.Set("padding", [Padding.Rows.Top, Padding.Rows.Bottom, Padding.Columns.Left, Padding.Columns.Right]);

    /// <inheritdoc />
    public static ZeroPadding2D FromConfig(LayerConfig c)
    {
        var p = c.GetInts("padding", 4);
        if (p.Length != 4) throw new FormatException("'padding' must hold four integers (top, bottom, left, right)");
        return new(((p[0], p[1]), (p[2], p[3])), c.Name);
    }
}
