using Latent.Statistics;
using SkiaSharp;

namespace Latent.Plotting;

public static partial class Figures
{
    /// <summary>
    /// The points of an n×n walk over a 2-D latent plane, (n², 2) in row-major order: row i, column j holds
    /// <c>z = (g[j], g[n−1−i])</c>, so z₁ grows to the right and z₂ upwards, as in a plot. By default
    /// <c>g = Φ⁻¹(linspace(0.05, 0.95, n))</c>, the blog's Gaussian quantiles (±1.645); with
    /// <paramref name="limit"/>, <c>g = linspace(−limit, limit, n)</c> (keras.io's <c>vae.py</c> uses 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">n below 2, or a limit that is not a positive finite number.</exception>
    public static Tensor LatentGrid(int n = 15, double? limit = null)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, $"A latent grid needs at least 2 points a side. Received: n={n}.");
        if (limit is double l && !(l > 0 && double.IsFinite(l)))
            throw new ArgumentOutOfRangeException(nameof(limit), l, $"The grid's limit must be a positive finite number. Received: limit={l}.");
        var g = new double[n];
        for (int j = 0; j < n; j++)
        {
            double t = (double)j / (n - 1);
            g[j] = limit is double lim ? -lim + 2 * lim * t : NormalDistribution.Quantile(0.05 + 0.9 * t);
        }
        var grid = new Tensor([n * n, 2]);
        var s = grid.Span;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                s[2 * (i * n + j)] = (float)g[j];
                s[2 * (i * n + j) + 1] = (float)g[n - 1 - i];
            }
        return grid;
    }

    /// <summary>
    /// The blog's digit manifold: <paramref name="generator"/> (a decoder from a 2-D latent) applied to
    /// <see cref="LatentGrid"/>, drawn as one n×n mosaic of height × width images with the grid's z values on the axes.
    /// </summary>
    /// <exception cref="ArgumentException">The generator's input is not 2-D, or its output is not height·width (·3) values.</exception>
    public static void Manifold(string path, Model generator, int n = 15, double? limit = null, int height = 28, int width = 28, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (generator.Inputs.Count != 1 || generator.Inputs[0].Size != 2)
            throw new ArgumentException($"A manifold walks a 2-D latent plane; generator '{generator.Name}' takes a latent of shape ({string.Join(", ", generator.Inputs[0].Shape)}). " +
                                        "Train with a latent size of 2, or draw random samples instead.", nameof(generator));
        var grid = LatentGrid(n, limit);
        var images = generator.Predict(grid);
        CheckImages(images, height, width);
        var g = Enumerable.Range(0, n).Select(j => grid.Span[2 * j]).ToArray();
        Mosaic(path, images, height, width, n, title ?? $"Decoded {n}×{n} grid over the latent plane", gap: 0,
               xTicks: g, yTicks: g.Reverse().ToArray());
    }

    /// <summary>Images (N, height·width) or (N, height·width·3) as a mosaic of <paramref name="columns"/> per row (random samples of a VAE, a batch of digits).</summary>
    public static void ImageGrid(string path, Tensor images, int height, int width, int columns, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, $"columns must be positive. Received: columns={columns}.");
        CheckImages(images, height, width);
        Mosaic(path, images, height, width, columns, title, gap: 2, xTicks: null, yTicks: null);
    }

    private static void CheckImages(Tensor images, int height, int width)
    {
        if (images.Rows == 0) throw new ArgumentException("No images to draw.", nameof(images));
        if (images.RowSize != height * width && images.RowSize != height * width * 3)
            throw new ArgumentException($"Images of {images.RowSize} values are not {height}×{width} (gray) or {height}×{width}×3 (RGB).", nameof(images));
    }

    private static void Mosaic(string path, Tensor images, int h, int w, int columns, string? title, int gap, float[]? xTicks, float[]? yTicks)
    {
        int rows = (images.Rows + columns - 1) / columns;
        int scale = Math.Clamp(56 / Math.Max(h, w), 1, 2);
        int cellW = w * scale + gap, cellH = h * scale + gap;
        int titleHeight = title is null ? 0 : 30, axis = xTicks is null ? 0 : 40;
        int width = Margin * 2 + axis + columns * cellW - gap, height = Margin * 2 + titleHeight + rows * cellH - gap + axis;
        using var surface = SKSurface.Create(new SKImageInfo(Math.Max(width, 320), height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default, 15);
        using var small = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default, 11);
        using var ink = new SKPaint { Color = new SKColor(40, 40, 40), IsAntialias = true };
        if (title is not null) canvas.DrawText(title, Margin, Margin + 18, font, ink);
        int x0 = Margin + axis, y0 = Margin + titleHeight;
        for (int k = 0; k < images.Rows; k++)
            DrawImage(canvas, images.Row(k), h, w, x0 + k % columns * cellW, y0 + k / columns * cellH, scale, 0, 1, frame: false);
        if (xTicks is not null && yTicks is not null)
        {
            // Every other tick keeps the labels from running together.
            for (int j = 0; j < columns; j += 2)
                canvas.DrawText(xTicks[j].ToString("0.0#", System.Globalization.CultureInfo.InvariantCulture),
                                x0 + j * cellW + w * scale / 2f - 12, y0 + rows * cellH + 16, small, ink);
            for (int i = 0; i < rows; i += 2)
                canvas.DrawText(yTicks[i].ToString("0.0#", System.Globalization.CultureInfo.InvariantCulture),
                                Margin, y0 + i * cellH + h * scale / 2f + 4, small, ink);
            canvas.DrawText("z₁ →", x0 + columns * cellW / 2f - 16, y0 + rows * cellH + 34, font, ink);
            canvas.DrawText("z₂ ↑", Margin, y0 + rows * cellH + 34, font, ink);
        }
        Save(surface, path);
    }

    /// <summary>
    /// The test set in the latent space, coloured by class with a legend (the blog's VAE figure). Codes of more than
    /// 2 dimensions are mapped to 2-D first, by t-SNE (perplexity 30 or below N/3, seed 1; seconds for a few thousand
    /// codes) or with <paramref name="usePca"/> by their top two principal axes; the default title says which.
    /// </summary>
    /// <param name="codes">(N, d) codes, d ≥ 2, e.g. the encoder's z_mean.</param>
    /// <param name="labels">N class indices, 0 to 9 (more classes cycle the colours).</param>
    /// <param name="classNames">Legend names by class index (Fashion-MNIST's "T-shirt/top", …); default "0", "1", ….</param>
    /// <exception cref="ArgumentException">Labels not one per code, or codes of one dimension.</exception>
    public static void LatentScatter(string path, Tensor codes, IReadOnlyList<int> labels, string? title = null, IReadOnlyList<string>? classNames = null,
                                     bool usePca = false)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != codes.Rows)
            throw new ArgumentException($"LatentScatter needs one label per code: {codes.Rows} codes, {labels.Count} labels.", nameof(labels));
        int d = codes.RowSize, n = codes.Rows;
        if (d < 2) throw new ArgumentException($"LatentScatter needs codes of at least 2 dimensions, received {d}.", nameof(codes));
        var flat = codes.Reshape(n, d);
        bool tsne = d > 2 && !usePca && n >= 4;
        var xy = d == 2 ? flat
            : tsne ? new Reduction.Tsne(perplexity: Math.Min(30, (n - 1) / 3.0 * 0.99), seed: 1).FitTransform(flat)
            : new Reduction.Pca(2).FitTransform(flat);
        string how = d == 2 ? "Latent plane" : tsne ? $"t-SNE of the {d}-D codes" : $"First two principal axes of the {d}-D codes";
        Scatter(path, xy, labels, title ?? how, classNames, d == 2 ? "z₁" : tsne ? "" : "PC 1", d == 2 ? "z₂" : tsne ? "" : "PC 2");
    }

    /// <summary>
    /// Two labelled 2-D scatters side by side in one PNG (t-SNE of pixels beside t-SNE of codes), each with its title.
    /// </summary>
    /// <exception cref="ArgumentException">Points that are not 2-D, or labels not one per point.</exception>
    public static void ScatterPair(string path, (Tensor Points, string Title) left, (Tensor Points, string Title) right,
                                   IReadOnlyList<int> labels, IReadOnlyList<string>? classNames = null)
    {
        string a = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"latent-pair-{Guid.NewGuid():N}-a.png");
        string b = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"latent-pair-{Guid.NewGuid():N}-b.png");
        try
        {
            Scatter(a, left.Points, labels, left.Title, classNames);
            Scatter(b, right.Points, labels, right.Title, classNames);
            using var la = SKBitmap.Decode(a);
            using var rb = SKBitmap.Decode(b);
            using var surface = SKSurface.Create(new SKImageInfo(la.Width + rb.Width, Math.Max(la.Height, rb.Height), SKColorType.Rgba8888, SKAlphaType.Premul));
            surface.Canvas.Clear(SKColors.White);
            surface.Canvas.DrawBitmap(la, 0, 0);
            surface.Canvas.DrawBitmap(rb, la.Width, 0);
            Save(surface, path);
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }

    /// <summary>Breaks <paramref name="title"/> at spaces into lines of at most <paramref name="width"/> characters (a longer word stays whole).</summary>
    internal static string WrapTitle(string title, int width)
    {
        var lines = new List<string>();
        var line = new System.Text.StringBuilder();
        foreach (var word in title.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        lines.Add(line.ToString());
        return string.Join('\n', lines);
    }

    /// <summary>
    /// 2-D points (N, 2) coloured by class with a legend (<paramref name="classNames"/> by label, else the numbers):
    /// a t-SNE or PCA of codes, a latent plane.
    /// </summary>
    /// <exception cref="ArgumentException">Points that are not 2-D, or labels not one per point.</exception>
    public static void Scatter(string path, Tensor points, IReadOnlyList<int> labels, string title, IReadOnlyList<string>? classNames = null,
                               string xLabel = "", string yLabel = "")
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(labels);
        if (points.RowSize != 2) throw new ArgumentException($"Scatter draws 2-D points; received {points.RowSize} values per point.", nameof(points));
        if (labels.Count != points.Rows)
            throw new ArgumentException($"Scatter needs one label per point: {points.Rows} points, {labels.Count} labels.", nameof(labels));
        var xy = points;
        var plot = new ScottPlot.Plot();
        plot.Font.Set("DejaVu Sans");
        var palette = new ScottPlot.Palettes.Category10();
        foreach (int cls in labels.Distinct().Order())
        {
            var idx = Enumerable.Range(0, labels.Count).Where(i => labels[i] == cls).ToArray();
            var markers = plot.Add.Markers(idx.Select(i => (double)xy.Span[2 * i]).ToArray(), idx.Select(i => (double)xy.Span[2 * i + 1]).ToArray(),
                                           ScottPlot.MarkerShape.FilledCircle, 3, palette.GetColor(cls).WithAlpha(0.6));
            markers.LegendText = classNames is not null && cls >= 0 && cls < classNames.Count ? classNames[cls] : cls.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        plot.Title(WrapTitle(title, 70));   // centred over the data, which the legend narrows: a long line ran off the left
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Edge.Right);
        Data.AtomicFile.WriteVia(path, temp => plot.SavePng(temp, 900, 700));
    }
}
