using System.Globalization;
using System.Text.Json;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

namespace Latent.Bench;

/// <summary>
/// The denoising autoencoders at full length, the way bench/pytorch/denoise.py runs them, on MNIST's 60,000 training
/// digits validated on the test set, batch 128, noisy copies drawn once:
/// blog: the blog post's Conv32-Pool-Conv32-Pool / Conv32-Up-Conv32-Up-Conv1, Adadelta, noise 0.5, noisy → clean;
/// keras: keras.io's "Convolutional autoencoder for image denoising" (Conv32-Pool-Conv32-Pool / Conv2DTranspose 32 ×2
/// stride 2 → Conv1), Adam, first clean → clean (--clean-epochs, 50), then noise 0.4, noisy → clean.
/// One JSON line per epoch, then the test loss and PSNR (noisy and restored against clean); a figure of noisy,
/// restored and clean test digits.
/// With --checkpoint FILE the model, its optimizer state and the rows so far are saved after every epoch (temporary
/// file, then rename) and a run started again with the same arguments continues from there with the batches it would
/// have seen (Fit's initialEpoch), so a run longer than a session survives being killed.
/// Usage: denoise blog|keras EPOCHS [--clean-epochs N] [--seed S] [--json OUT] [--figure OUT.png] [--checkpoint FILE]
/// </summary>
internal static class DenoiseRun
{
    public static void Run(string[] args)
    {
        string kind = args[1];
        int epochs = int.Parse(args[2], CultureInfo.InvariantCulture);
        string? Opt(string name) => Array.IndexOf(args, name) is int i and >= 0 ? args[i + 1] : null;
        int seed = int.Parse(Opt("--seed") ?? "1", CultureInfo.InvariantCulture);
        int cleanEpochs = kind == "keras" ? int.Parse(Opt("--clean-epochs") ?? "50", CultureInfo.InvariantCulture) : 0;
        double noise = kind == "keras" ? 0.4 : 0.5;
        const int Batch = 128;
        var (train, _, test, _) = Mnist.Load(flatten: false);
        Randomness.SetSeed(seed);
        var model = kind switch
        {
            "blog" => Blog(),
            "keras" => Keras(),
            _ => throw new ArgumentException($"Unknown denoiser '{kind}'. Expected blog or keras."),
        };
        Tensor trainNoisy = Noise.AddGaussian(train, noise, seed), testNoisy = Noise.AddGaussian(test, noise, seed + 1);

        var rows = new List<Dictionary<string, object?>>();
        string? checkpoint = Opt("--checkpoint");
        if (checkpoint is not null && File.Exists(checkpoint))
        {
            model = Model.Load(checkpoint, out var meta);
            rows = JsonSerializer.Deserialize<List<Dictionary<string, JsonElement>>>(meta["rows"])!
                .Select(r => r.ToDictionary(kv => kv.Key, kv => kv.Value.ValueKind == JsonValueKind.String
                    ? (object?)kv.Value.GetString() : kv.Value.GetDouble()))
                .ToList();
            Console.WriteLine($"Continuing from {checkpoint}: {rows.Count} epochs done.");
        }
        int cleanDone = Math.Min(rows.Count, cleanEpochs), noisyDone = rows.Count - cleanDone;
        if (cleanDone < cleanEpochs)
        {
            model.Fit(train, train, epochs: cleanEpochs, batchSize: Batch, shuffle: true, verbose: 0, seed: seed,
                      validationData: (test, test), callbacks: [new EpochLog(rows, "clean", checkpoint)], initialEpoch: cleanDone);
        }
        if (noisyDone < epochs)
        {
            model.Fit(trainNoisy, train, epochs: epochs, batchSize: Batch, shuffle: true, verbose: 0, seed: seed + 1,
                      validationData: (testNoisy, test), callbacks: [new EpochLog(rows, "noisy", checkpoint)], initialEpoch: noisyDone);
        }

        var restored = model.Predict(testNoisy, batchSize: Batch);
        var result = new Dictionary<string, object?>
        {
            ["engine"] = "latent", ["kind"] = kind, ["noise"] = noise, ["clean_epochs"] = cleanEpochs, ["epochs"] = epochs,
            ["test_loss"] = model.Evaluate(testNoisy, test, batchSize: Batch),
            ["psnr_noisy"] = Metrics.Psnr(testNoisy, test).Mean, ["psnr_restored"] = Metrics.Psnr(restored, test).Mean,
            ["seconds"] = rows.Sum(r => (double)r["seconds"]!),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        result["history"] = rows;
        if (Opt("--json") is { } path) File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        if (Opt("--figure") is { } figure)
            Figures.ImageRows(figure,
            [
                ("noisy", testNoisy.SliceRows(0, 10), 28, 28, false, 3),
                ("restored", restored.SliceRows(0, 10), 28, 28, false, 3),
                ("clean", test.SliceRows(0, 10), 28, 28, false, 3),
            ], $"{kind} denoiser, noise {noise}: Latent, {cleanEpochs + epochs} epochs");
    }

    /// <summary>The blog post's denoiser (the CLI's <c>--model denoise</c>), Adadelta.</summary>
    internal static Model Blog() => Denoiser("blog_denoiser", "adadelta", x =>
    {
        x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(x);
        return new UpSampling2D((2, 2)).Apply(x);
    });

    /// <summary>keras.io's denoiser: a Conv2DTranspose decoder, Adam.</summary>
    internal static Model Keras() => Denoiser("keras_denoiser", "adam", x =>
    {
        x = new Conv2DTranspose(32, (3, 3), strides: (2, 2), activation: "relu", padding: "same").Apply(x);
        return new Conv2DTranspose(32, (3, 3), strides: (2, 2), activation: "relu", padding: "same").Apply(x);
    });

    /// <summary>Both denoisers' encoder (Conv32-Pool twice, code 7×7×32), then <paramref name="upsample"/> to 28×28, then Conv 1 sigmoid.</summary>
    private static Model Denoiser(string name, string optimizer, Func<SymbolicTensor, SymbolicTensor> upsample)
    {
        var img = Input.Create(28, 28, 1);
        var x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(img);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        var model = new Model(img, new Conv2D(1, (3, 3), activation: "sigmoid", padding: "same").Apply(upsample(x)), name: name);
        model.Compile(optimizer: optimizer, loss: "binary_crossentropy");
        return model;
    }

    private sealed class EpochLog(List<Dictionary<string, object?>> rows, string phase, string? checkpoint) : Callback
    {
        public override void OnEpochEnd(EpochLogs logs)
        {
            var row = new Dictionary<string, object?>
            {
                ["phase"] = phase, ["epoch"] = logs.Epoch + 1, ["loss"] = logs.Loss, ["val_loss"] = logs.ValLoss, ["seconds"] = logs.Seconds,
            };
            rows.Add(row);
            Console.WriteLine(JsonSerializer.Serialize(row));
            if (checkpoint is not null) Model.Save(checkpoint, new Dictionary<string, string> { ["rows"] = JsonSerializer.Serialize(rows) });
        }
    }
}
