using System.Diagnostics;
using System.Globalization;
using Latent.Datasets;
using Latent.Reduction;

namespace Latent.Bench;

/// <summary>
/// t-SNE on the MNIST test set as bench/tsne.py runs scikit-learn: the first N digits, PCA to 50 dimensions
/// (seed 1), then t-SNE (perplexity 30, seed 1); prints seconds (PCA apart), KL, trustworthiness@10 and 5-fold
/// 10-NN accuracy in 2-D, and optionally writes the embedding (.npy) and a scatter (.png).
/// Usage: tsne [N] [--input pca50|FILE.npy] [--method barnes_hut|exact] [--out PREFIX]
/// </summary>
internal static class TsneRun
{
    public static void Run(string[] args)
    {
        int n = args.Length > 1 && int.TryParse(args[1], out var v) ? v : 10000;
        string? Opt(string name) => Array.IndexOf(args, name) is int i and >= 0 ? args[i + 1] : null;
        var (_, _, xTest, yTest) = Mnist.Load();
        string input = Opt("--input") ?? "pca50";
        var sw = Stopwatch.StartNew();
        Tensor x = input == "pca50"
            ? new Pca(50, seed: 1).FitTransform(xTest.SliceRows(0, n))
            : Latent.Data.Npy.Read(input).SliceRows(0, n);
        double pcaSeconds = sw.Elapsed.TotalSeconds;
        var labels = yTest.Take(n).ToArray();
        var tsne = new Tsne(perplexity: 30, seed: 1, method: Opt("--method") ?? "barnes_hut");
        sw.Restart();
        if (args.Contains("--verbose")) tsne.Progress = (it, kl) => Console.Error.WriteLine($"  {it,5} KL {kl:F4}  {sw.Elapsed.TotalSeconds:F2} s");
        var y = tsne.FitTransform(x);
        double seconds = sw.Elapsed.TotalSeconds;
        double trust = Metrics.Trustworthiness(x, y, 10);
        double knn = Metrics.KnnAccuracy(y, labels, 10, 5, seed: 1);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latent n={n} input={input} seconds={seconds:F2} (pca {pcaSeconds:F2}) kl={tsne.KlDivergence:F4} trust10={trust:F4} knn10={knn:F4} iterations={tsne.IterationsRun}"));
        if (Opt("--out") is { } prefix)
        {
            Latent.Data.Npy.Write(prefix + ".npy", y);
            Latent.Plotting.Figures.Scatter(prefix + ".png", y, labels, string.Create(CultureInfo.InvariantCulture,
                $"t-SNE of {n:N0} MNIST test digits ({input}): {seconds:F1} s, 10-NN accuracy {knn:F3}"));
        }
    }
}
