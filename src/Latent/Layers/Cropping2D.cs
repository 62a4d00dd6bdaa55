using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Removes rows and columns at the edges of each image, channels last: (B, H, W, C) → (B, H − top − bottom,
/// W − left − right, C); <c>dx += dy</c> on the kept region.
/// </summary>
public sealed class Cropping2D : Layer, IConfigurableLayer<Cropping2D>
{
    /// <summary>The same cropping on every side.</summary>
    public Cropping2D(int cropping = 1, string? name = null) : this(((cropping, cropping), (cropping, cropping)), name) { }

    /// <summary>(rows above and below, columns left and right).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative amount.</exception>
    public Cropping2D(((int Top, int Bottom) Rows, (int Left, int Right) Columns) cropping, string? name = null) : base(name)
    {
        var ((t, b), (l, r)) = cropping;
        if (t < 0 || b < 0 || l < 0 || r < 0)
            throw new ArgumentOutOfRangeException(nameof(cropping), cropping, $"Expected cropping ≥ 0. Received: cropping=(({t}, {b}), ({l}, {r})).");
        Cropping = cropping;
    }

    /// <summary>((top, bottom), (left, right)).</summary>
    public ((int Top, int Bottom) Rows, (int Left, int Right) Columns) Cropping { get; }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, c) = ImageShape.Of(this, inputShapes[0]);
        int oh = h - Cropping.Rows.Top - Cropping.Rows.Bottom, ow = w - Cropping.Columns.Left - Cropping.Columns.Right;
        if (oh <= 0 || ow <= 0)
            throw new ArgumentException($"Cropping2D '{Name}' removes {Cropping.Rows.Top}+{Cropping.Rows.Bottom} rows and {Cropping.Columns.Left}+{Cropping.Columns.Right} columns from a {h}×{w} image: nothing is left.");
        return [oh, ow, c];
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx) => Copy(ctx, ctx.Input(0), ctx.OutputValues, forward: true);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (ctx.NeedsInputGrad(0)) Copy(ctx, ctx.OutputGrad, ctx.InputGrad(0), forward: false);
    }

    private void Copy(NodeContext ctx, ReadOnlySpan<float> from, Span<float> to, bool forward)
    {
        var s = ctx.InputShape(0);
        int h = s[0], w = s[1], c = s[2];
        int oh = h - Cropping.Rows.Top - Cropping.Rows.Bottom, ow = w - Cropping.Columns.Left - Cropping.Columns.Right;
        for (int b = 0; b < ctx.Batch; b++)
            for (int r = 0; r < oh; r++)
            {
                int kept = (b * oh + r) * ow * c;
                int whole = (b * h + r + Cropping.Rows.Top) * w * c + Cropping.Columns.Left * c;
                if (forward) from.Slice(whole, ow * c).CopyTo(to.Slice(kept, ow * c));
                else { var d = to.Slice(whole, ow * c); Kernels.Simd.Add(d, from.Slice(kept, ow * c), d); }
            }
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) =>
        config.Set("cropping", [Cropping.Rows.Top, Cropping.Rows.Bottom, Cropping.Columns.Left, Cropping.Columns.Right]);

    /// <inheritdoc />
    public static Cropping2D FromConfig(LayerConfig c)
    {
        var p = c.GetInts("cropping", 4);
        if (p.Length != 4) throw new FormatException("'cropping' must hold four integers (top, bottom, left, right)");
        return new(((p[0], p[1]), (p[2], p[3])), c.Name);
    }
}
