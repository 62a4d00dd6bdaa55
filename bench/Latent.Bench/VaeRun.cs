using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Latent.Datasets;
using Latent.Models;

namespace Latent.Bench;

/// <summary>
/// The variational autoencoders at full length, the way bench/pytorch/vae.py runs them: dense (the blog's, RMSprop,
/// batch 100, 60,000 training digits, validated on the test set) or conv (keras.io's vae.py, Adam, batch 128, all
/// 70,000 digits); one JSON line per epoch, then the test ELBO and the importance-sampled log-likelihood.
/// dense-mean is the dense VAE with the reconstruction averaged over pixels instead of summed (posterior collapse).
/// Usage: vae dense|dense-mean|conv EPOCHS [--ll-n N] [--ll-k K] [--seed S] [--json OUT]
/// </summary>
internal static class VaeRun
{
    public static void Run(string[] args)
    {
        string kind = args[1];
        int epochs = int.Parse(args[2], CultureInfo.InvariantCulture);
        string? Opt(string name) => Array.IndexOf(args, name) is int i and >= 0 ? args[i + 1] : null;
        int llN = int.Parse(Opt("--ll-n") ?? "10000", CultureInfo.InvariantCulture);
        int llK = int.Parse(Opt("--ll-k") ?? "1000", CultureInfo.InvariantCulture);
        int seed = int.Parse(Opt("--seed") ?? "1", CultureInfo.InvariantCulture);
        var (train, _, test, _) = Mnist.Load();
        Randomness.SetSeed(seed);
        var vae = kind switch
        {
            "dense" => VariationalAutoencoder.Dense(),
            "dense-mean" => VariationalAutoencoder.Dense(),   // recompiled below with the per-pixel mean: the common mistake
            "conv" => VariationalAutoencoder.Convolutional(),
            _ => throw new ArgumentException($"Unknown VAE '{kind}'. Expected dense or conv."),
        };
        if (kind == "dense-mean") vae.Model.Compile(new Latent.Optimizers.RmsProp(), new Latent.Losses.BinaryCrossentropy());
        Tensor data = train;
        int batch = 100;
        if (kind == "conv")
        {
            batch = 128;
            data = new Tensor([train.Rows + test.Rows, 784]);
            train.Span.CopyTo(data.Span);
            test.Span.CopyTo(data.Span[train.Length..]);
        }
        var rows = new List<Dictionary<string, object?>>();
        var log = new EpochLog(rows);
        vae.Model.Fit(data, data, epochs: epochs, batchSize: batch, shuffle: true, verbose: 0, seed: seed, callbacks: [log],
                      validationData: kind != "conv" ? (test, test) : null);
        var sw = Stopwatch.StartNew();
        var (ll, _) = Metrics.ImportanceLogLikelihood(vae.Encoder, vae.Generator, test.SliceRows(0, llN), llK, seed);
        double llSeconds = sw.Elapsed.TotalSeconds;
        var elbo = vae.Model.EvaluateAll(test, test, batch);
        var result = new Dictionary<string, object?>
        {
            ["engine"] = "latent", ["kind"] = kind, ["test_elbo"] = -elbo.Loss, ["log_likelihood"] = ll,
            ["ll_n"] = llN, ["ll_k"] = llK, ["ll_seconds"] = llSeconds,
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        result["epochs"] = rows;
        if (Opt("--json") is { } path) File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
    }

    private sealed class EpochLog(List<Dictionary<string, object?>> rows) : Callback
    {
        public override void OnEpochEnd(EpochLogs logs)
        {
            var row = new Dictionary<string, object?>
            {
                ["epoch"] = logs.Epoch + 1, ["loss"] = logs.Loss, ["reconstruction"] = logs.Loss - logs.AddedLoss - logs.Penalty,
                ["kl"] = logs.AddedLoss, ["seconds"] = logs.Seconds,
            };
            if (logs.ValLoss is double v) row["val_loss"] = v;
            rows.Add(row);
            Console.WriteLine(JsonSerializer.Serialize(row));
        }
    }
}
