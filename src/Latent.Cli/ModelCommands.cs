using Latent.Data;
using Latent.Plotting;

namespace Latent.Cli;

/// <summary><c>latent evaluate | reconstruct | encode | summary</c> on a run folder.</summary>
internal static class ModelCommands
{
    public static int Evaluate(string runPath, string? dataset)
    {
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        var config = RunFolder.ReadConfig(runPath);
        var data = TrainCommand.LoadData(config, dataset);
        var input = config.Noise > 0 ? (SampleSet)Noise.AddGaussian(data.Test, config.Noise, config.Seed + 1) : data.Test;
        var (loss, penalty) = model.EvaluateParts(input, data.Test, config.BatchSize);
        Console.WriteLine($"{model.Name} after {epochs} epochs: test loss {Describe(loss, penalty, config.IsVariational)} ({model.Loss?.Name}, {data.Test.Rows:N0} samples of {data.Name}, batch {config.BatchSize})");
        if (config.Noise > 0) Console.WriteLine(DescribePsnr(DenoisingPsnr(model, input, data.Test, config.BatchSize)));
        return 0;
    }

    /// <summary>A denoiser's mean PSNR against the clean test images: of its noisy inputs, and of its restorations.</summary>
    public static (double Noisy, double Restored) DenoisingPsnr(Model model, SampleSet noisy, SampleSet clean, int batchSize) =>
        (Metrics.Psnr(noisy, clean).Mean, Metrics.Psnr(model.Predict(noisy, batchSize: batchSize), clean).Mean);

    public static string DescribePsnr((double Noisy, double Restored) psnr) =>
        $"PSNR against the clean test images: noisy {psnr.Noisy:F2} dB, restored {psnr.Restored:F2} dB";

    /// <summary>"0.0917", or "0.1540 (reconstruction 0.1316 + penalty 0.0224)" when there is a penalty (a VAE's is its KL term).</summary>
    public static string Describe(double loss, double penalty, bool variational = false) =>
        penalty == 0 ? $"{loss:F4}" : $"{loss:F4} (reconstruction {loss - penalty:F4} + {(variational ? "KL" : "penalty")} {penalty:F4})";

    /// <summary>
    /// <c>latent tsne</c>: t-SNE of the run's codes (z_mean for a VAE; pixels with <paramref name="raw"/>) for the first
    /// <paramref name="n"/> test samples, drawn by class when the data set has labels, with the time and 10-NN accuracy.
    /// </summary>
    public static int Tsne(string runPath, string? dataset, int n, string method, bool raw, double perplexity, int seed, string output)
    {
        if (n < 4) throw new ArgumentException($"--n must be at least 4, received {n}.");
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        var config = RunFolder.ReadConfig(runPath);
        var data = TrainCommand.LoadData(config, dataset);
        var samples = data.TestHead(n);
        n = samples.Rows;
        Tensor x = raw ? samples.Reshape(n, samples.RowSize) : RunConfig.EncoderOf(model).Predict(samples, batchSize: 256);
        x = x.Reshape(n, x.RowSize);
        var tsne = new Latent.Reduction.Tsne(perplexity, seed, method: method switch
        {
            "auto" => n < 20_000 ? "barnes_hut" : "fft",
            "bh" => "barnes_hut",
            "fft" => "fft",
            "exact" => n <= 5000 ? "exact" : throw new ArgumentException($"--method exact is O(N²) per step; use it for at most 5,000 points, received {n}."),
            _ => throw new ArgumentException($"--method must be auto, bh, fft or exact, received '{method}'."),
        });
        string what = raw ? $"{x.RowSize} pixels" : $"{x.RowSize}-D codes";
        var sw = System.Diagnostics.Stopwatch.StartNew();
        tsne.Progress = (it, kl) => Console.WriteLine($"  step {it,4}: KL {kl:F4} ({sw.Elapsed.TotalSeconds:F1} s)");
        Console.WriteLine($"t-SNE of {n:N0} {data.Name} test samples ({what}), perplexity {perplexity}, {tsne.Method}");
        var embedding = tsne.FitTransform(x);
        double seconds = sw.Elapsed.TotalSeconds;
        var labels = data.TestLabels?.Take(n).ToArray();
        string title = $"t-SNE of {(raw ? "pixels" : "the codes")}: {n:N0} {data.Name} test samples, {seconds:F1} s";
        if (labels is not null)
        {
            double knn = Metrics.KnnAccuracy(embedding, labels, neighbors: 10, folds: 5, seed: seed);
            title += $", 10-NN accuracy {knn:F3}";
        }
        Figures.Scatter(output, embedding, labels ?? new int[n], title, data.ClassNames ?? (labels is null ? ["test samples"] : null));
        Console.WriteLine($"Wrote {output}: KL {tsne.KlDivergence:F4} after {tsne.IterationsRun} steps, {seconds:F1} s ({model.Name}, {epochs} epochs)");
        return 0;
    }

    /// <summary>
    /// <c>latent anomalies</c>: scores every sample of <paramref name="dataset"/> by the run's reconstruction error
    /// (its own loss, per sample), flags those above the (1 − contamination) quantile of the run's training scores,
    /// and writes <paramref name="output"/> (CSV: index, score, outlier) and beside it a PNG: the score histogram with
    /// the threshold, and the most unusual samples when they are images.
    /// </summary>
    public static int Anomalies(string runPath, string? dataset, double contamination, string output, string score = "loss")
    {
        if (!(contamination > 0 && contamination <= 0.5))
            throw new ArgumentException($"--contamination must be in (0, 0.5], received {contamination}.");
        var by = score switch
        {
            "loss" => Latent.Anomaly.ReconstructionScore.Loss,
            "mse" => Latent.Anomaly.ReconstructionScore.SquaredError,
            _ => throw new ArgumentException($"--score must be loss or mse, received '{score}'."),
        };
        var run = new RunFolder(runPath);
        var (model, _) = run.LoadModel();
        var config = RunFolder.ReadConfig(runPath);
        var training = TrainCommand.LoadData(config);
        var target = dataset is null ? training : TrainCommand.LoadData(config, dataset);
        // Scored as the run trained: the whole file when one is given, else the run's own test set.
        SampleSet x = dataset is null ? training.Test : Concat(target.Train, target.Test);
        if (x.RowSize != model.Inputs[0].Size)
            throw new ArgumentException($"{runPath} takes {model.Inputs[0].Size} values per sample; {target.Name} has {x.RowSize}.");
        var trainScores = Latent.Anomaly.AutoencoderDetector.ScoresOf(model, training.Train, by);
        double threshold = Latent.Statistics.Percentiles.Linear(trainScores, 100 * (1 - contamination));
        var scores = Latent.Anomaly.AutoencoderDetector.ScoresOf(model, x, by);
        var lines = new List<string> { "index,score,outlier" };
        lines.AddRange(scores.Select((v, i) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i},{v:R},{(v > threshold ? 1 : 0)}")));
        AtomicFile.WriteAllText(output, string.Join('\n', lines) + "\n");
        int flagged = scores.Count(v => v > threshold);
        string png = Path.ChangeExtension(output, ".png");
        Figures.ScoreHistogram(png, scores, threshold, $"{model.Name}: reconstruction error ({(by == Latent.Anomaly.ReconstructionScore.Loss ? "loss" : "mean squared error")}) of {scores.Length:N0} samples of {target.Name}");
        if (target.ImageHeight > 1)
        {
            var worst = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).Take(10).ToArray();
            var images = new Tensor([worst.Length, x.RowSize]);
            for (int k = 0; k < worst.Length; k++) x.CopyRows(worst[k], 1, images.Span.Slice(k * x.RowSize, x.RowSize));
            var recon = model.Predict(images.Reshape([worst.Length, .. model.Inputs[0].Shape]));
            string top = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, Path.GetFileNameWithoutExtension(output) + "-top.png");
            int scale = RunFolder.ImageScale(target);
            Figures.ImageRows(top,
            [
                ("most unusual", images, target.ImageHeight, target.ImageWidth, false, scale),
                ("reconstruction", recon.Reshape(worst.Length, x.RowSize), target.ImageHeight, target.ImageWidth, false, scale),
            ], $"The {worst.Length} highest scores (samples {string.Join(", ", worst)})");
        }
        Console.WriteLine($"Wrote {output} and {png}: {flagged:N0} of {scores.Length:N0} samples above the threshold {threshold:G5} " +
                          $"(the {100 * (1 - contamination):G4}th percentile of {trainScores.Length:N0} training scores)");
        return 0;
    }

    private static SampleSet Concat(SampleSet a, SampleSet b)
    {
        var all = new Tensor([a.Rows + b.Rows, .. a.Shape.Skip(1)]);
        a.CopyRows(0, a.Rows, all.Span);
        b.CopyRows(0, b.Rows, all.Span[(a.Rows * a.RowSize)..]);
        return all;
    }

    /// <summary>
    /// <c>latent export</c>: the run's autoencoder, its encoder (to the code, or z_mean for a VAE) or its decoder
    /// (from the code, or the VAE's generator) as an ONNX file with a dynamic batch axis.
    /// </summary>
    public static int Export(string runPath, string part, string output)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (folder is not null && !Directory.Exists(folder))
            throw new ArgumentException($"--out {output}: the folder {folder} does not exist.");
        var run = new RunFolder(runPath);
        var (model, _) = run.LoadModel();
        var scaler = File.Exists(run.RunFile) ? RunFolder.ReadConfig(runPath).CreateScaler() : null;
        bool variational = model.Layers.OfType<Latent.Layers.Sampling>().Any();
        Model target = part switch
        {
            "autoencoder" => model,
            "encoder" => RunConfig.EncoderOf(model),
            "decoder" => variational ? RunConfig.VaeOf(model, runPath).Generator : model.SubModel(model.GetLayerOutput("code"), name: "decoder"),
            _ => throw new ArgumentException($"--part must be autoencoder, encoder or decoder, received '{part}'."),
        };
        target.ExportOnnx(output, scaler?.ToMetadata());
        Console.WriteLine($"Wrote {output}: {part} '{target.Name}', input ({string.Join(", ", target.Inputs[0].Shape)}) → output ({string.Join(", ", target.Outputs[0].Shape)}), batch dynamic" +
                          (scaler is null ? "" : "; inputs are min-max scaled per feature first (feature_min, feature_max in the file's metadata)"));
        return 0;
    }

    /// <summary><c>latent generate</c>: decodes <paramref name="n"/> draws of z ~ N(0, I) from a trained VAE into a grid of images.</summary>
    public static int Generate(string runPath, int n, int seed, string output)
    {
        if (n <= 0) throw new ArgumentException($"--n must be positive, received {n}.");
        if (n > 4096) throw new ArgumentException($"--n draws at most 4096 samples into one picture, received {n}.");
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        var vae = RunConfig.VaeOf(model, runPath);
        var (h, w) = RunFolder.ImageSizeOf(model);
        var images = vae.Sample(n, seed);
        Figures.ImageGrid(output, images, h, w, columns: (int)Math.Ceiling(Math.Sqrt(n)), $"{n} samples of {model.Name}, {epochs} epochs (z ~ N(0, I), seed {seed})");
        Console.WriteLine($"Wrote {output}");
        return 0;
    }

    /// <summary><c>latent manifold</c>: the decoded grid over a 2-D latent plane.</summary>
    public static int Manifold(string runPath, int grid, double? limit, string output)
    {
        if (grid < 2 || grid > 100) throw new ArgumentException($"--grid must be between 2 and 100 points a side, received {grid}.");
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        var vae = RunConfig.VaeOf(model, runPath);
        if (vae.LatentSize != 2)
            throw new ArgumentException($"{runPath}'s latent space has {vae.LatentSize} dimensions; a manifold walks a 2-D plane (train with --code-size 2), or use 'latent generate'.");
        var (h, w) = RunFolder.ImageSizeOf(model);
        Figures.Manifold(output, vae.Generator, grid, limit, h, w, $"{model.Name}, {epochs} epochs: decoded {grid}×{grid} grid over the latent plane");
        Console.WriteLine($"Wrote {output}");
        return 0;
    }

    public static int Reconstruct(string runPath, string? dataset, int n, string output)
    {
        if (n <= 0) throw new ArgumentException($"--n must be positive, received {n}.");
        if (n > 100) throw new ArgumentException($"--n draws at most 100 samples side by side in one picture, received {n}.");
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        var config = RunFolder.ReadConfig(runPath);
        var data = TrainCommand.LoadData(config, dataset);
        var samples = data.TestHead(n);
        var recon = model.Predict(samples);
        int scale = RunFolder.ImageScale(data);
        Figures.ImageRows(output,
        [
            ("original", samples, data.ImageHeight, data.ImageWidth, false, scale),
            ("reconstruction", recon, data.ImageHeight, data.ImageWidth, false, scale),
        ], $"{model.Name}, {data.Name}, {epochs} epochs");
        Console.WriteLine($"Wrote {output}");
        return 0;
    }

    public static int Encode(string runPath, string? dataset, string output)
    {
        var run = new RunFolder(runPath);
        var (model, _) = run.LoadModel();
        var encoder = RunConfig.EncoderOf(model);
        var config = RunFolder.ReadConfig(runPath);
        var data = TrainCommand.LoadData(config, dataset);
        var codes = encoder.Predict(data.Test, batchSize: 256);
        Npy.Write(output, codes);
        Console.WriteLine($"Wrote {output}: {(model.Layers.OfType<Latent.Layers.Sampling>().Any() ? "z_mean" : "codes")} of shape {ShapeText(codes.Shape)} for the {data.Name} test set");
        return 0;
    }

    private static string ShapeText(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + ")";

    /// <summary>
    /// <c>latent denoise</c>: restores a user's images with a trained model. A PNG/JPEG file gives one restored PNG;
    /// a folder gives a folder of restored PNGs under the same names. Images are read at the model's size and
    /// channels (resized if they differ).
    /// </summary>
    public static int Denoise(string runPath, string input, string output)
    {
        var run = new RunFolder(runPath);
        var (model, _) = run.LoadModel();
        var shape = model.Inputs[0].Shape;
        if (shape.Count != 3)
            throw new ArgumentException($"{runPath} holds a model of input shape ({string.Join(", ", shape)}), not images: train one with --model denoise or conv.");
        int h = shape[0], w = shape[1], c = shape[2];
        string[] files;
        if (Directory.Exists(input))
            files = Directory.EnumerateFiles(input).Where(f => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg")
                             .Order(StringComparer.Ordinal).ToArray();
        else if (File.Exists(input)) files = [input];
        else throw new FileNotFoundException($"--input {input}: no such file or folder.");
        if (files.Length == 0) throw new DataFormatException(input, "holds no .png, .jpg or .jpeg files.");
        var images = ImageFolder.LoadFiles(files, w, h, c == 3);
        var restored = model.Predict(images);
        bool toFolder = Directory.Exists(input);
        if (toFolder) Directory.CreateDirectory(output);
        for (int i = 0; i < files.Length; i++)
        {
            string target = toFolder ? Path.Combine(output, Path.GetFileNameWithoutExtension(files[i]) + ".png") : output;
            ImageFolder.WritePng(target, restored.Row(i), h, w, c);
        }
        Console.WriteLine(toFolder ? $"Wrote {files.Length} restored images to {output}/" : $"Wrote {output}");
        return 0;
    }

    public static int Summary(string runPath)
    {
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        model.Summary();
        Console.WriteLine($"Epochs done: {epochs}; optimizer: {model.Optimizer}; loss: {model.Loss?.Name}");
        return 0;
    }
}
