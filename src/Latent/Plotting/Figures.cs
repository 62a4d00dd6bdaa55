using SkiaSharp;

namespace Latent.Plotting;

/// <summary>
/// The notebook's figures as PNG files: digits over their reconstructions, codes as small images, loss curves.
/// Images are drawn with nearest-neighbour scaling so each pixel stays a crisp square, in matplotlib's
/// <c>gray()</c> colormap (0 black, 1 white).
/// </summary>
public static partial class Figures
{
    private const int Margin = 12, Gap = 6, LabelWidth = 132;

    /// <summary>
    /// Draws <paramref name="rows"/> of images (each row: n samples of Height×Width
    /// values, or Height×Width×3 for RGB channels last, drawn Scale screen pixels per value) one row above the other, each row labelled, and writes a PNG.
    /// With Normalize the row is min-max scaled (codes), else values are read as intensities in [0, 1].
    /// </summary>
    /// <param name="rows">(label, tensor of (n, height·width) values, whether to min-max scale the row).</param>
    public static void ImageRows(string path, IReadOnlyList<(string Label, Tensor Images, int Height, int Width, bool Normalize, int Scale)> rows,
                                 string? title = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("Nothing to draw.", nameof(rows));
        int n = rows.Max(r => r.Images.Rows);
        int cell = rows.Max(r => r.Width * r.Scale);
        int titleHeight = title is null ? 0 : 30;
        int totalHeight = Margin * 2 + titleHeight + rows.Sum(r => r.Height * r.Scale) + Gap * (rows.Count - 1);
        int totalWidth = Margin * 2 + LabelWidth + n * cell + (n - 1) * Gap;
        using var surface = SKSurface.Create(new SKImageInfo(totalWidth, totalHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default, 15);
        using var ink = new SKPaint { Color = new SKColor(40, 40, 40), IsAntialias = true };
        if (title is not null) canvas.DrawText(title, Margin, Margin + 18, font, ink);
        int y = Margin + titleHeight;
        foreach (var (label, images, h, w, normalize, scale) in rows)
        {
            if (images.RowSize != h * w && images.RowSize != h * w * 3)
                throw new ArgumentException($"Row '{label}' holds {images.RowSize} values per image, not {h}×{w} (gray) or {h}×{w}×3 (RGB).");
            canvas.DrawText(label, Margin, y + h * scale / 2f + 5, font, ink);
            float lo = 0, hi = 1;
            if (normalize)
            {
                lo = images.Span.ToArray().Min();
                hi = images.Span.ToArray().Max();
                if (hi <= lo) hi = lo + 1;
            }
            for (int i = 0; i < images.Rows; i++)
            {
                int x = Margin + LabelWidth + i * (cell + Gap) + (cell - w * scale) / 2;
                DrawImage(canvas, images.Row(i), h, w, x, y, scale, lo, hi);
            }
            y += h * scale + Gap;
        }
        Save(surface, path);
    }

    private static void DrawImage(SKCanvas canvas, ReadOnlySpan<float> pixels, int h, int w, int x0, int y0, int scale, float lo, float hi,
                                  bool frame = true)
    {
        using var paint = new SKPaint { IsAntialias = false };
        bool rgb = pixels.Length == h * w * 3;  // channels last
        byte Level(float value) => (byte)MathF.Round(Math.Clamp((value - lo) / (hi - lo), 0f, 1f) * 255);
        for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
        {
            int i = r * w + c;
            paint.Color = rgb ? new SKColor(Level(pixels[3 * i]), Level(pixels[3 * i + 1]), Level(pixels[3 * i + 2]))
                              : new SKColor(Level(pixels[i]), Level(pixels[i]), Level(pixels[i]));
            canvas.DrawRect(x0 + c * scale, y0 + r * scale, scale, scale, paint);
        }
        if (!frame) return;
        using var border = new SKPaint { Color = new SKColor(200, 200, 200), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(x0 - 0.5f, y0 - 0.5f, w * scale + 1, h * scale + 1, border);
    }

    /// <summary>Training and validation loss per epoch as a line chart (ScottPlot), the y axis named <paramref name="yLabel"/>.</summary>
    public static void LossCurves(string path, History history, string title = "Loss", string yLabel = "binary cross-entropy")
    {
        ArgumentNullException.ThrowIfNull(history);
        var plot = new ScottPlot.Plot();
        double[] epochs = history.Epochs.Select(e => e + 1.0).ToArray();
        var train = plot.Add.Scatter(epochs, history.Loss.ToArray());
        train.LegendText = "training loss";
        train.LineWidth = 2;
        if (history.ValLoss.Count == epochs.Length)
        {
            var val = plot.Add.Scatter(epochs, history.ValLoss.ToArray());
            val.LegendText = "validation loss";
            val.LineWidth = 2;
        }
        plot.Font.Set("DejaVu Sans"); // a sans face that Debian ships; ScottPlot falls back to a serif otherwise
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        SavePlot(plot, path);
    }

    /// <summary>
    /// Overlaid histograms of several sets of non-negative values (e.g. ReLU code activations with and without an
    /// L1 penalty), each normalised to a fraction of its values per bin, on shared bins from 0 to the largest value.
    /// Exact zeros (inactive units) would dwarf every bin, so they are left out of the curves and reported in the legend.
    /// </summary>
    public static void Histograms(string path, IReadOnlyList<(string Label, Tensor Values)> series, string title, string xLabel, int bins = 60)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("Nothing to draw.", nameof(series));
        float max = series.Max(s => s.Values.Span.ToArray().Max());
        if (max <= 0) max = 1;
        double width = max / bins;
        var plot = new ScottPlot.Plot();
        plot.Font.Set("DejaVu Sans");
        foreach (var (label, values) in series)
        {
            var counts = new double[bins];
            int zeros = 0;
            foreach (float v in values.Span)
            {
                if (v == 0) zeros++;
                else counts[Math.Clamp((int)(v / width), 0, bins - 1)]++;
            }
            var xs = Enumerable.Range(0, bins).Select(i => (i + 0.5) * width).ToArray();
            var line = plot.Add.Scatter(xs, counts.Select(c => c / values.Length).ToArray());
            line.LegendText = $"{label}: mean {values.Mean():F2}, {100.0 * zeros / values.Length:F0}% exactly 0";
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel("fraction of all values, per bin");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        SavePlot(plot, path);
    }

    /// <summary>A histogram of anomaly scores with the threshold as a vertical line, and how many samples lie above it.</summary>
    public static void ScoreHistogram(string path, IReadOnlyList<double> scores, double threshold, string title, int bins = 60)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count == 0) throw new ArgumentException("No scores to draw.", nameof(scores));
        double lo = scores.Min(), hi = Math.Max(scores.Max(), threshold);
        if (hi <= lo) hi = lo + 1;
        double width = (hi - lo) / bins;
        var counts = new double[bins];
        foreach (double v in scores) counts[Math.Clamp((int)((v - lo) / width), 0, bins - 1)]++;
        var plot = new ScottPlot.Plot();
        plot.Font.Set("DejaVu Sans");
        var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(i => lo + (i + 0.5) * width).ToArray(), counts);
        foreach (var bar in bars.Bars) bar.Size = width * 0.95;
        var line = plot.Add.VerticalLine(threshold, 2, ScottPlot.Colors.Red);
        int above = scores.Count(v => v > threshold);
        line.LegendText = $"threshold {threshold:G4}: {above:N0} of {scores.Count:N0} above";
        plot.Title(title);
        plot.XLabel("score (reconstruction error)");
        plot.YLabel("samples");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        SavePlot(plot, path);
    }

    /// <summary>Writes an 800×500 PNG of <paramref name="plot"/> atomically.</summary>
    private static void SavePlot(ScottPlot.Plot plot, string path) =>
        Data.AtomicFile.WriteVia(path, temp => plot.SavePng(temp, 800, 500));

    private static void Save(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        Data.AtomicFile.Write(path, data.SaveTo);
    }
}
