using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Latent.Data;

namespace Latent.Cli;

/// <summary>
/// <c>latent report RUN --out report.html</c>: one self-contained HTML file (no network: styles, script, pictures and
/// data inline) with the run's configuration and results, its loss curves, its figures, and a latent scatter of
/// test samples where hovering a point shows its input.
/// </summary>
internal static class ReportCommand
{
    /// <summary>Test samples in the interactive scatter.</summary>
    public const int ScatterSamples = 1000;

    private static readonly string[] Figures = ["reconstructions.png", "codes.png", "latent.png", "manifold.png", "samples.png", "tsne.png", "scores.png", "scores-top.png"];

    public static int Run(string runPath, string output)
    {
        var run = new RunFolder(runPath);
        var missing = new[] { "model.safetensors", "run.json", "history.csv" }.Where(f => !File.Exists(Path.Combine(runPath, f))).ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"{runPath} lacks {string.Join(", ", missing)}: a report needs a run folder made by 'latent train' (finished or checkpointed).");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (folder is not null && !Directory.Exists(folder)) throw new ArgumentException($"--out {output}: the folder {folder} does not exist.");
        var (model, epochs) = run.LoadModel();
        var config = RunFolder.ReadConfig(runPath);
        var runJson = JsonNode.Parse(File.ReadAllText(run.RunFile));
        var history = run.ReadHistory();
        var data = TrainCommand.LoadData(config);

        var html = new StringBuilder();
        string Esc(string? s) => WebUtility.HtmlEncode(s ?? "");
        string title = $"{config.Model} on {data.Name}, {epochs} epoch{(epochs == 1 ? "" : "s")}";
        html.Append($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Latent: {{Esc(title)}}</title>
            <style>
            body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px 40px; color: #222; max-width: 1200px; }
            h1 { font-size: 24px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            table { border-collapse: collapse; } td, th { padding: 3px 12px 3px 0; text-align: left; font-size: 14px; }
            th { color: #555; font-weight: normal; } img { max-width: 100%; border: 1px solid #eee; margin: 6px 0; }
            .chart text { font-size: 12px; fill: #444; } #hover { position: fixed; right: 24px; top: 24px; background: #fff;
              border: 1px solid #ccc; padding: 8px; font-size: 13px; display: none; box-shadow: 0 2px 8px #0002; }
            </style></head><body>
            <h1>Latent run: {{Esc(title)}}</h1>
            """);
        // Configuration and results.
        html.Append("<h2>Configuration</h2><table>");
        foreach (var (key, value) in (runJson?["config"] as JsonObject ?? []).Select(p => (p.Key, p.Value?.ToJsonString() ?? "")))
            html.Append($"<tr><th>{Esc(key)}</th><td>{Esc(value.Trim('"'))}</td></tr>");
        html.Append($"<tr><th>parameters</th><td>{model.CountParams():N0}</td></tr>");
        html.Append($"<tr><th>data</th><td>{Esc(data.Name)}: {data.Train.Rows:N0} training, {data.Test.Rows:N0} test samples</td></tr>");
        html.Append($"<tr><th>machine</th><td>{Esc(runJson?["machine"]?.ToJsonString())}</td></tr></table>");
        html.Append("<h2>Results</h2><table>");
        var final = runJson?["final"];
        foreach (var key in new[] { "loss", "val_loss", "test_loss" })
            if (final?[key] is JsonNode v) html.Append($"<tr><th>{key}</th><td>{Esc(v.ToJsonString())}</td></tr>");
        if (history.Count > 0)
            html.Append($"<tr><th>training time</th><td>{history.Sum(h => h.Seconds):F1} s over {history.Count} epochs</td></tr>");
        html.Append("</table>");
        if (history.Count > 0) html.Append("<h2>Loss</h2>").Append(LossChart(history));
        // Figures from the run folder, inline.
        foreach (var f in Figures)
        {
            string path = Path.Combine(runPath, f);
            if (!File.Exists(path)) continue;
            html.Append($"<h2>{Esc(Path.GetFileNameWithoutExtension(f))}</h2><img alt=\"{Esc(f)}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(path))}\">");
        }
        html.Append(Scatter(model, data));
        html.Append("<p style=\"color:#777;font-size:12px\">Written by Latent ").Append(Esc(typeof(Model).Assembly.GetName().Version?.ToString()))
            .Append(" on ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)).Append(".</p></body></html>\n");
        AtomicFile.WriteAllText(output, html.ToString());
        Console.WriteLine($"Wrote {output} ({new FileInfo(output).Length / 1024:N0} KB, self-contained)");
        return 0;
    }

    /// <summary>Training and validation loss per epoch as an inline SVG line chart.</summary>
    private static string LossChart(IReadOnlyList<EpochLogs> history)
    {
        const int w = 760, h = 320, left = 60, right = 20, top = 20, bottom = 40;
        var series = new List<(string Name, string Color, double[] Values)> { ("training", "#1f77b4", history.Select(r => r.Loss).ToArray()) };
        if (history.All(r => r.ValLoss is not null)) series.Add(("validation", "#ff7f0e", history.Select(r => r.ValLoss!.Value).ToArray()));
        double lo = series.Min(s => s.Values.Min()), hi = series.Max(s => s.Values.Max());
        if (hi <= lo) hi = lo + 1;
        int n = history.Count;
        string X(int i) => (left + (n == 1 ? 0 : (double)i / (n - 1)) * (w - left - right)).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double v) => (top + (hi - v) / (hi - lo) * (h - top - bottom)).ToString("F1", CultureInfo.InvariantCulture);
        var svg = new StringBuilder($"<svg class=\"chart\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">");
        svg.Append($"<line x1=\"{left}\" y1=\"{h - bottom}\" x2=\"{w - right}\" y2=\"{h - bottom}\" stroke=\"#999\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{h - bottom}\" stroke=\"#999\"/>");
        for (int t = 0; t <= 4; t++)
        {
            double v = lo + (hi - lo) * t / 4;
            svg.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{Y(v)}\" text-anchor=\"end\" dominant-baseline=\"middle\">{v:G4}</text>"));
        }
        svg.Append($"<text x=\"{left}\" y=\"{h - 12}\">epoch {history[0].Epoch + 1}</text><text x=\"{w - right}\" y=\"{h - 12}\" text-anchor=\"end\">epoch {history[^1].Epoch + 1}</text>");
        int k = 0;
        foreach (var (name, color, values) in series)
        {
            svg.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', values.Select((v, i) => $"{X(i)},{Y(v)}"))}\"/>");
            if (n <= 100) svg.Append(string.Concat(values.Select((v, i) => $"<circle cx=\"{X(i)}\" cy=\"{Y(v)}\" r=\"3\" fill=\"{color}\"/>")));
            svg.Append($"<text x=\"{w - right - 120}\" y=\"{top + 14 + 16 * k}\" fill=\"{color}\" style=\"fill:{color}\">— {name}</text>");
            k++;
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>
    /// The first test samples' codes in 2-D (z_mean or a 2-D code as it is; wider codes through t-SNE), coloured by
    /// class when there are labels; hovering a point draws its input beside the page.
    /// </summary>
    private static string Scatter(Model model, DataSource data)
    {
        var head = data.TestHead(ScatterSamples);
        int n = head.Rows;
        if (n < 4) return "";
        var codes = RunConfig.EncoderOf(model).Predict(head, batchSize: 256);
        codes = codes.Reshape(n, codes.RowSize);
        string how = codes.RowSize == 2 ? "the 2-D code" : $"t-SNE of the {codes.RowSize}-D codes";
        var xy = codes.RowSize == 2 ? codes : new Latent.Reduction.Tsne(perplexity: Math.Min(30, (n - 1) / 3.0 * 0.99), seed: 1).FitTransform(codes);
        var labels = data.TestLabels?.Take(n).ToArray();
        var p = xy.Span;
        float minX = float.MaxValue, maxX = float.MinValue, minY = float.MaxValue, maxY = float.MinValue;
        for (int i = 0; i < n; i++) { minX = Math.Min(minX, p[2 * i]); maxX = Math.Max(maxX, p[2 * i]); minY = Math.Min(minY, p[2 * i + 1]); maxY = Math.Max(maxY, p[2 * i + 1]); }
        const int size = 640, pad = 20;
        string[] palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
        var svg = new StringBuilder($"<h2>Latent space</h2><p>{n:N0} test samples, {how}{(labels is null ? "" : ", coloured by class")}. Hover a point to see its input.</p>");
        svg.Append($"<svg id=\"scatter\" width=\"{size}\" height=\"{size}\" style=\"border:1px solid #eee\">");
        for (int i = 0; i < n; i++)
        {
            double x = pad + (p[2 * i] - minX) / Math.Max(maxX - minX, 1e-12) * (size - 2 * pad);
            double y = size - pad - (p[2 * i + 1] - minY) / Math.Max(maxY - minY, 1e-12) * (size - 2 * pad);
            string color = labels is null ? "#1f77b4" : palette[labels[i] % palette.Length];
            svg.Append(string.Create(CultureInfo.InvariantCulture, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"3\" fill=\"{color}\" fill-opacity=\"0.7\" data-i=\"{i}\"/>"));
        }
        svg.Append("</svg>");
        if (labels is not null)
            svg.Append("<p>").Append(string.Join(" ", labels.Distinct().Order().Select(c =>
                $"<span style=\"color:{palette[c % palette.Length]}\">● {WebUtility.HtmlEncode(data.ClassNames is { } names && c < names.Count ? names[c] : c.ToString(CultureInfo.InvariantCulture))}</span>"))).Append("</p>");
        // The inputs as bytes, for the hover box (images only).
        bool images = data.ImageHeight > 1;
        int h = data.ImageHeight, w = data.ImageWidth, c = data.Channels;
        string pixels = "";
        if (images)
        {
            var bytes = new byte[n * h * w * c];
            var s = head.Span;
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Clamp(MathF.Round(s[i] * 255), 0, 255);
            pixels = Convert.ToBase64String(bytes);
        }
        string labelJson = labels is null ? "null" : "[" + string.Join(",", labels) + "]";
        svg.Append($$"""
            <div id="hover"><canvas id="digit" width="{{w * 4}}" height="{{h * 4}}"></canvas><div id="caption"></div></div>
            <script>
            (function () {
              const W = {{w}}, H = {{h}}, C = {{c}}, images = {{(images ? "true" : "false")}};
              const labels = {{labelJson}};
              const raw = images ? Uint8Array.from(atob("{{pixels}}"), ch => ch.charCodeAt(0)) : null;
              const box = document.getElementById("hover"), canvas = document.getElementById("digit"), caption = document.getElementById("caption");
              const ctx = canvas.getContext("2d");
              if (!images) canvas.style.display = "none";
              document.getElementById("scatter").addEventListener("mouseover", e => {
                const i = e.target.getAttribute && e.target.getAttribute("data-i");
                if (i === null) return;
                const k = Number(i);
                if (images) {
                  const img = ctx.createImageData(W, H);
                  for (let p = 0; p < W * H; p++) {
                    for (let ch = 0; ch < 3; ch++) img.data[4 * p + ch] = raw[(k * W * H + p) * C + (C === 3 ? ch : 0)];
                    img.data[4 * p + 3] = 255;
                  }
                  const small = document.createElement("canvas"); small.width = W; small.height = H;
                  small.getContext("2d").putImageData(img, 0, 0);
                  ctx.imageSmoothingEnabled = false;
                  ctx.drawImage(small, 0, 0, W * 4, H * 4);
                }
                caption.textContent = "test sample " + k + (labels ? ", class " + labels[k] : "");
                box.style.display = "block";
              });
              document.body.dataset.ready = "1";   // the script ran to the end (the browser test looks for it)
            })();
            </script>
            """);
        return svg.ToString();
    }
}
