using SkiaSharp;

namespace Latent.Plotting;

public static partial class Figures
{
    /// <summary>
    /// Sequences over their reconstructions, one panel per sequence: each feature's input as a solid line and its
    /// reconstruction dashed in the same colour, time along x. For at most 8 features; with more, draw the
    /// sequences as images (<see cref="ImageRows"/>, one row per time step).
    /// </summary>
    /// <param name="inputs">(n, T, F) sequences.</param>
    /// <param name="reconstructions">(n, T, F), the model's outputs for them.</param>
    /// <param name="featureNames">Legend names (F of them); "feature 1", … when null.</param>
    /// <param name="padding">The value of padded steps (all features equal to it) in <paramref name="inputs"/>, which are
    /// left out of both lines; null to draw every step.</param>
    /// <exception cref="ArgumentException">The two tensors differ in shape, are not (n, T, F), or F is above 8.</exception>
    public static void Sequences(string path, Tensor inputs, Tensor reconstructions, string title, IReadOnlyList<string>? featureNames = null,
                                 float? padding = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(reconstructions);
        if (inputs.Rank != 3 || !inputs.Shape.SequenceEqual(reconstructions.Shape))
            throw new ArgumentException($"Expected two (n, timesteps, features) tensors of one shape, received {ShapeUtil.Format(inputs.Shape.ToArray())} and {ShapeUtil.Format(reconstructions.Shape.ToArray())}.");
        int n = inputs.Shape[0], steps = inputs.Shape[1], features = inputs.Shape[2];
        if (features > 8) throw new ArgumentException($"Line plots are for at most 8 features, received {features}: draw the sequences as images instead.");
        if (n == 0) throw new ArgumentException("Nothing to draw.", nameof(inputs));
        const int panelW = 420, panelH = 260;
        int columns = Math.Min(n, 3), rows = (n + columns - 1) / columns, titleH = 34;
        using var surface = SKSurface.Create(new SKImageInfo(columns * panelW, rows * panelH + titleH, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default, 17))
        using (var ink = new SKPaint { Color = new SKColor(40, 40, 40), IsAntialias = true })
            canvas.DrawText(title, Margin, 24, font, ink);
        double[] time;
        var palette = new ScottPlot.Palettes.Category10();
        for (int s = 0; s < n; s++)
        {
            var plot = new ScottPlot.Plot();
            plot.Font.Set("DejaVu Sans");
            var x = inputs.Row(s).ToArray();
            var y = reconstructions.Row(s).ToArray();
            var kept = Enumerable.Range(0, steps)
                .Where(t => padding is not float p || x.AsSpan(t * features, features).ContainsAnyExcept(p)).ToArray();
            if (kept.Length == 0) kept = [0];
            time = [.. kept.Select(t => (double)t)];
            for (int f = 0; f < features; f++)
            {
                var color = palette.GetColor(f);
                var input = plot.Add.Scatter(time, kept.Select(t => (double)x[t * features + f]).ToArray());
                input.Color = color;
                input.LineWidth = 2;
                input.MarkerSize = 0;
                var output = plot.Add.Scatter(time, kept.Select(t => (double)y[t * features + f]).ToArray());
                output.Color = color;
                output.LineWidth = 2;
                output.MarkerSize = 0;
                output.LinePattern = ScottPlot.LinePattern.Dashed;
                if (s == 0)
                {
                    input.LegendText = featureNames is not null && f < featureNames.Count ? featureNames[f] : $"feature {f + 1}";
                    if (f == 0) output.LegendText = "(dashed: reconstruction)";
                }
            }
            plot.Title($"sequence {s + 1}");
            plot.XLabel("time step");
            if (s == 0) plot.ShowLegend(ScottPlot.Alignment.UpperRight);
            using var bitmap = SKBitmap.Decode(plot.GetImage(panelW, panelH).GetImageBytes());
            canvas.DrawBitmap(bitmap, s % columns * panelW, titleH + s / columns * panelH);
        }
        Save(surface, path);
    }
}
