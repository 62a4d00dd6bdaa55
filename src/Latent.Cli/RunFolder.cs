using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Latent.Plotting;

namespace Latent.Cli;

/// <summary>
/// The files of one training run: model.safetensors (weights, optimizer state, epochs done), history.csv,
/// loss.png, reconstructions.png, codes.png and run.json (configuration, seed, data checksum, versions, machine).
/// </summary>
internal sealed class RunFolder(string path)
{
    public string Path { get; } = path;
    public string ModelFile => System.IO.Path.Combine(Path, "model.safetensors");
    public string HistoryFile => System.IO.Path.Combine(Path, "history.csv");
    public string RunFile => System.IO.Path.Combine(Path, "run.json");

    /// <summary>How many samples the figures show: the first ones of the test set, as the notebook does.</summary>
    public const int FigureSamples = 10;

    /// <summary>A run's per-feature scaling (sequences, tables), saved with the model so new data is scaled the same way.</summary>
    public Latent.Data.FeatureScaler? Scaler { get; set; }

    /// <summary>
    /// Saves the checkpoint: weights, optimizer state, the epoch count and the history up to it, in one file renamed
    /// into place, so they always land together (history.csv, run.json and the figures are rebuilt from it).
    /// </summary>
    public void SaveModel(Model model, int epochsDone, IReadOnlyList<EpochLogs>? history = null)
    {
        var meta = new Dictionary<string, string> { ["epoch"] = epochsDone.ToString(CultureInfo.InvariantCulture) };
        if (Scaler is not null) foreach (var (k, v) in Scaler.ToMetadata()) meta[k] = v;
        if (history is not null) meta["history"] = HistoryCsv(history.Where(r => r.Epoch < epochsDone).ToList());
        model.Save(ModelFile, meta);
    }


    /// <summary>Whether run.json, history.csv and the figures all describe <paramref name="epochsDone"/> epochs.</summary>
    public bool IsFinalised(int epochsDone)
    {
        if (!File.Exists(RunFile) || !File.Exists(HistoryFile) || !File.Exists(System.IO.Path.Combine(Path, "loss.png"))
            || !File.Exists(System.IO.Path.Combine(Path, "reconstructions.png")))
            return false;
        try
        {
            var done = JsonNode.Parse(File.ReadAllText(RunFile))?["epochs_done"]?.GetValue<int>();
            return done == epochsDone && ReadHistory().Count == epochsDone;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or Data.DataFormatException)
        {
            return false;
        }
    }

    /// <summary>Removes temporary files a killed writer left behind (called with the run's lock held).</summary>
    public int RemoveOrphans()
    {
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(Path, "*.tmp-*"))
        {
            try { File.Delete(file); removed++; } catch (IOException) { }
        }
        return removed;
    }

    public (Model Model, int EpochsDone) LoadModel()
    {
        var (model, epochs, _) = LoadCheckpoint();
        return (model, epochs);
    }

    /// <summary>The checkpoint: model, epochs done, and the history it carries (null for files written before checkpoints carried it).</summary>
    public (Model Model, int EpochsDone, List<EpochLogs>? History) LoadCheckpoint()
    {
        if (!File.Exists(ModelFile)) throw new FileNotFoundException($"{Path} holds no model.safetensors: is it a run folder made by 'latent train'?");
        var model = Model.Load(ModelFile, out var meta);
        int epochs = meta.TryGetValue("epoch", out var e) && int.TryParse(e, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var history = meta.TryGetValue("history", out var csv) ? ParseHistory(csv.Split('\n').ToList()) : null;
        return (model, epochs, history);
    }

    public void WriteHistory(IReadOnlyList<EpochLogs> rows) => Data.AtomicFile.WriteAllText(HistoryFile, HistoryCsv(rows));

    /// <summary>history.csv's text. added_loss is what layers add (a VAE's KL); loss − penalty − added_loss is the reconstruction.</summary>
    private static string HistoryCsv(IReadOnlyList<EpochLogs> rows)
    {
        var lines = new List<string> { "epoch,loss,val_loss,penalty,added_loss,val_added_loss,seconds" };
        static string Opt(double? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        lines.AddRange(rows.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"{r.Epoch + 1},{r.Loss:R},{Opt(r.ValLoss)},{r.Penalty:R},{r.AddedLoss:R},{Opt(r.ValAddedLoss)},{r.Seconds:F3}")));
        return string.Join('\n', lines) + "\n";
    }

    public List<EpochLogs> ReadHistory() => File.Exists(HistoryFile) ? ParseHistory(File.ReadLines(HistoryFile).ToList()) : [];

    private List<EpochLogs> ParseHistory(List<string> lines)
    {
        if (lines.Count == 0) return [];
        var columns = lines[0].Split(',').Select((name, i) => (name, i)).DistinctBy(p => p.name).ToDictionary(p => p.name, p => p.i);
        if (!columns.ContainsKey("epoch") || !columns.ContainsKey("loss") || !columns.ContainsKey("penalty"))
            throw new Data.DataFormatException(HistoryFile, "its header does not name the columns epoch, loss and penalty.");
        int number = 1;
        return lines.Skip(1).Where(l => { number++; return l.Length > 0; }).Select(l =>
        {
            var f = l.Split(',');
            if (f.Length < columns.Count)
                throw new Data.DataFormatException(HistoryFile, $"a row has {f.Length} values, the header names {columns.Count}: '{Data.SafeText.Printable(l[..Math.Min(l.Length, 60)])}'.");
            double D(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new Data.DataFormatException(HistoryFile, $"'{Data.SafeText.Printable(s[..Math.Min(s.Length, 30)])}' is not a number.");
            double? Col(string name) => columns.TryGetValue(name, out int i) && i < f.Length && f[i].Length > 0 ? D(f[i]) : null;
            int epoch = int.TryParse(f[columns["epoch"]], NumberStyles.None, CultureInfo.InvariantCulture, out int e) && e >= 1 ? e
                : throw new Data.DataFormatException(HistoryFile, $"'{Data.SafeText.Printable(f[columns["epoch"]])}' is not an epoch number.");
            return new EpochLogs(epoch - 1, D(f[columns["loss"]]), D(f[columns["penalty"]]), Col("val_loss"), null, Col("seconds") ?? 0)
            {
                AddedLoss = Col("added_loss") ?? 0,
                ValAddedLoss = Col("val_added_loss"),
            };
        }).ToList();
    }

    public void WriteRun(RunConfig config, DataSource data, Model model, IReadOnlyList<EpochLogs> history, double? testLoss,
                         (double Noisy, double Restored)? psnr = null)
    {
        var json = new JsonObject
        {
            ["config"] = JsonSerializer.SerializeToNode(config),
            ["dataset"] = new JsonObject { ["name"] = data.Name, ["checksum"] = data.Checksum, ["train"] = data.Train.Rows, ["test"] = data.Test.Rows },
            ["epochs_done"] = history.Count == 0 ? 0 : history[^1].Epoch + 1,
            ["final"] = new JsonObject
            {
                ["loss"] = history.Count > 0 ? history[^1].Loss : null,
                ["val_loss"] = history.Count > 0 ? history[^1].ValLoss : null,
                ["test_loss"] = testLoss,
            },
            ["test_psnr"] = psnr is { } p ? new JsonObject { ["noisy"] = p.Noisy, ["restored"] = p.Restored } : null,
            ["params"] = model.CountParams(),
            ["latent_version"] = typeof(Model).Assembly.GetName().Version?.ToString(),
            ["machine"] = new JsonObject
            {
                ["os"] = RuntimeInformation.OSDescription,
                ["dotnet"] = RuntimeInformation.FrameworkDescription,
                ["cores"] = Environment.ProcessorCount,
                ["simd"] = Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "none",
            },
            ["written"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        };
        Data.AtomicFile.WriteAllText(RunFile, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static RunConfig ReadConfig(string runPath)
    {
        string file = System.IO.Path.Combine(runPath, "run.json");
        if (!File.Exists(file)) throw new FileNotFoundException($"{runPath} holds no run.json: is it a run folder made by 'latent train'?");
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(file))?["config"] ?? throw new Data.DataFormatException(file, "no config object.");
            var config = node.Deserialize<RunConfig>() ?? throw new Data.DataFormatException(file, "unreadable config.");
            // Everything later code reads without checking: present, known, and (the scaling) well-formed.
            if (config.Model is null || config.Dataset is null || config.Optimizer is null || config.L1Reduction is null || config.Header is null || config.Scaling is null)
                throw new Data.DataFormatException(file, "the config lacks its model, dataset, optimizer or settings.");
            if (!RunConfig.Models.Contains(config.Model))
                throw new Data.DataFormatException(file, $"names an unknown model '{Data.SafeText.Printable(config.Model)}'.");
            _ = config.ScalingKind;
            _ = config.CreateScaler();
            return config;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            throw new Data.DataFormatException(file, $"is not a readable run configuration: {Data.SafeText.Printable(e.Message)}");
        }
    }

    /// <summary>
    /// Writes reconstructions.png (for a denoising run, given the noisy test inputs it was evaluated on: noisy input,
    /// restored, clean), codes.png and loss.png; for a VAE, latent.png (the test set's z_mean by class), samples.png
    /// and, for a 2-D latent, manifold.png instead of codes.png. Returns the files written.
    /// </summary>
    public List<string> WriteFigures(Model autoencoder, Model encoder, DataSource data, IReadOnlyList<EpochLogs> history, string title,
                             SampleSet? noisyTest = null)
    {
        var samples = data.TestHead(FigureSamples);
        var input = samples;
        if (noisyTest is not null)
        {
            input = new Tensor([samples.Rows, .. noisyTest.Shape.Skip(1)]);
            noisyTest.CopyRows(0, samples.Rows, input.Span);
        }
        var recon = autoencoder.Predict(input);
        int scale = ImageScale(data);
        var written = new List<string> { "reconstructions.png" };
        if (data.IsSequence && data.ImageWidth <= 8)
            Figures.Sequences(System.IO.Path.Combine(Path, "reconstructions.png"), samples.SliceRows(0, Math.Min(6, samples.Rows)),
                              recon.SliceRows(0, Math.Min(6, recon.Rows)), $"{title}: test sequences (solid) and their reconstructions (dashed)",
                              padding: data.Padding);
        else Figures.ImageRows(System.IO.Path.Combine(Path, "reconstructions.png"), noisyTest is not null
            ? [("noisy input", input, data.ImageHeight, data.ImageWidth, false, scale),
               ("restored", recon, data.ImageHeight, data.ImageWidth, false, scale),
               ("clean", samples, data.ImageHeight, data.ImageWidth, false, scale)]
            : [("original", samples, data.ImageHeight, data.ImageWidth, false, scale),
               ("reconstruction", recon, data.ImageHeight, data.ImageWidth, false, scale)], title);
        if (data.IsSequence)
        {
            double[] errors = autoencoder.LossPerSample(data.Test, data.Test);
            double line = errors.Order().ElementAt(Math.Min(errors.Length - 1, errors.Length * 99 / 100));
            Figures.ScoreHistogram(System.IO.Path.Combine(Path, "errors.png"), errors, line,
                                   $"{title}: reconstruction error (MSE) per test sequence; the line is the 99th percentile");
            written.Add("errors.png");
        }
        bool variational = autoencoder.Layers.OfType<Latent.Layers.Sampling>().Any();
        if (variational)
            written.AddRange(WriteVaeFigures(Latent.Models.VariationalAutoencoder.FromModel(autoencoder), encoder, data, title));
        else
        {
            var codes = encoder.Predict(input);
            var (ch, cw) = CodeGrid(codes.RowSize);
            Figures.ImageRows(System.IO.Path.Combine(Path, "codes.png"),
            [
                ("input", samples, data.ImageHeight, data.ImageWidth, false, scale),
                ($"code {ch}×{cw}", codes.Reshape(codes.Rows, codes.RowSize), ch, cw, true, Math.Max(1, 28 * scale / Math.Max(ch, cw))),
            ], $"{title}: codes (min-max scaled over the row)");
            written.Add("codes.png");
            if (data.TestLabels is not null) written.Add(WriteTsne(encoder, data, title));
        }
        var h = new History();
        foreach (var r in history)
        {
            h.Epochs.Add(r.Epoch);
            h.Loss.Add(r.Loss);
            if (r.ValLoss is double v) h.ValLoss.Add(v);
        }
        if (h.ValLoss.Count != h.Loss.Count) h.ValLoss.Clear();
        Figures.LossCurves(System.IO.Path.Combine(Path, "loss.png"), h, title,
                           variational ? "−ELBO: BCE summed over pixels + KL (nats)"
                           : autoencoder.Loss is Latent.Losses.MeanSquaredError ? "mean squared error" : "binary cross-entropy");
        written.Add("loss.png");
        return written;
    }

    /// <summary>The number of test samples in a run folder's tsne.png: enough to see the classes, few enough to keep train quick.</summary>
    public const int TsneSamples = 2000;

    /// <summary>tsne.png: t-SNE of the codes of the first <see cref="TsneSamples"/> labelled test samples.</summary>
    private string WriteTsne(Model encoder, DataSource data, string title)
    {
        var head = data.TestHead(TsneSamples);
        int n = head.Rows;
        var codes = encoder.Predict(head, batchSize: 256);
        codes = codes.Reshape(n, codes.RowSize);
        var embedding = new Latent.Reduction.Tsne(perplexity: Math.Min(30, (n - 1) / 3.0 - 0.01), seed: 1).FitTransform(codes);
        double knn = Metrics.KnnAccuracy(embedding, data.TestLabels!.Take(n).ToArray(), 10, 5, seed: 1);
        Figures.Scatter(System.IO.Path.Combine(Path, "tsne.png"), embedding, data.TestLabels!.Take(n).ToArray(),
                        $"{title}: t-SNE of the codes of {n:N0} test samples (10-NN accuracy {knn:F3})", data.ClassNames);
        return "tsne.png";
    }

    /// <summary>latent.png (z_mean of the test set, by class when the data set has labels), samples.png, and manifold.png for a 2-D latent.</summary>
    private List<string> WriteVaeFigures(Latent.Models.VariationalAutoencoder vae, Model meanEncoder, DataSource data, string title)
    {
        // A latent above 2-D is drawn through t-SNE: on fewer samples, to keep train quick.
        int n = Math.Min(data.Test.Rows, vae.LatentSize > 2 ? TsneSamples : 10000);
        var head = data.TestHead(n);
        var zMean = meanEncoder.Predict(head, batchSize: 256);
        var labels = data.TestLabels?.Take(n).ToArray() ?? new int[n];
        var names = data.ClassNames ?? (data.TestLabels is null ? ["test samples"] : null);
        var written = new List<string>();
        if (vae.LatentSize >= 2)
        {
            Figures.LatentScatter(System.IO.Path.Combine(Path, "latent.png"), zMean, labels,
                                  $"{title}: z_mean of {n:N0} test samples" + (vae.LatentSize > 2 ? $" (t-SNE of {vae.LatentSize}-D)" : ""), names);
            written.Add("latent.png");
        }
        Figures.ImageGrid(System.IO.Path.Combine(Path, "samples.png"), vae.Sample(64, seed: 1), data.ImageHeight, data.ImageWidth, 8, $"{title}: 64 samples, z ~ N(0, I)");
        written.Add("samples.png");
        if (vae.LatentSize == 2)
        {
            Figures.Manifold(System.IO.Path.Combine(Path, "manifold.png"), vae.Generator, 15, null, data.ImageHeight, data.ImageWidth, $"{title}: decoded 15×15 grid");
            written.Add("manifold.png");
        }
        return written;
    }

    /// <summary>Image height and width of a model's input: (h, w) of an (h, w, c) input, the side of a square flat one, else (1, size).</summary>
    public static (int Height, int Width) ImageSizeOf(Model model)
    {
        var shape = model.Inputs[0].Shape;
        if (shape.Count == 3) return (shape[0], shape[1]);
        return DataSource.ImageShape(model.Inputs[0].Size);
    }

    /// <summary>Screen pixels per image pixel: 4 for MNIST-sized images, less for large ones, 1 for rows of features.</summary>
    public static int ImageScale(DataSource data) => data.ImageHeight == 1 ? 1 : Math.Clamp(112 / Math.Max(data.ImageHeight, data.ImageWidth), 1, 4);

    /// <summary>A near-square grid for a code of <paramref name="size"/> values (32 → 4×8).</summary>
    public static (int Height, int Width) CodeGrid(int size)
    {
        for (int h = (int)Math.Sqrt(size); h >= 1; h--)
            if (size % h == 0) return (h, size / h);
        return (1, size);
    }
}
