using System.Diagnostics;
using System.Globalization;
using Latent.Datasets;
using Latent.Reduction;

namespace Latent.Bench;

/// <summary>
/// t-SNE on the MNIST test set as bench/tsne.py runs scikit-learn: the first N digits (N > 10,000: the training
/// digits after the test set, up to all 70,000), as PCA to 50 dimensions
/// (seed 1), raw pixels, or an .npy of codes; t-SNE with perplexity 30, seed 1; prints seconds, KL,
/// trustworthiness@10 and 5-fold 10-NN accuracy in 2-D as one JSON line, and optionally writes the input it used
/// (.npy, so scikit-learn gets the same numbers), the embedding and a scatter.
/// Usage: tsne [N] [--input pca50|raw|FILE.npy] [--method barnes_hut|fft|exact] [--save-input F.npy] [--out PREFIX] [--verbose] [--exact-kl] [--no-metrics]
///        tsne-pair N CODES.npy OUT.png   (t-SNE of the raw pixels beside t-SNE of the codes)
/// </summary>
internal static class TsneRun
{
    public static (Tensor X, int[] Labels, double Seconds) Input(string input, int n)
    {
        var (xTrain, yTrain, xTest, yTest) = Mnist.Load();
        if (n > xTest.Rows)
        {
            // Beyond the test set: all 70,000 digits, test set first.
            var all = new Tensor([xTest.Rows + xTrain.Rows, xTest.RowSize]);
            xTest.Span.CopyTo(all.Span);
            xTrain.Span.CopyTo(all.Span[xTest.Span.Length..]);
            (xTest, yTest) = (all, [.. yTest, .. yTrain]);
        }
        n = Math.Min(n, xTest.Rows);
        var sw = Stopwatch.StartNew();
        Tensor x = input switch
        {
            "pca50" => new Pca(50, seed: 1).FitTransform(xTest.SliceRows(0, n)),
            "raw" => xTest.SliceRows(0, n),
            _ => Latent.Data.Npy.Read(input).SliceRows(0, n),
        };
        return (x.Reshape(n, x.RowSize), yTest.Take(n).ToArray(), sw.Elapsed.TotalSeconds);
    }

    public static (Tensor Embedding, double Seconds, double Kl, double Trust, double Knn, int Iterations) Embed(Tensor x, int[] labels, string method, bool verbose,
                                                                                                           bool exactKl = false, bool metrics = true)
    {
        var tsne = new Tsne(perplexity: 30, seed: 1, method: method);
        var sw = Stopwatch.StartNew();
        if (verbose) tsne.Progress = (it, kl) => Console.Error.WriteLine($"  {it,5} KL {kl:F4}  {sw.Elapsed.TotalSeconds:F2} s");
        var y = tsne.FitTransform(x);
        double seconds = sw.Elapsed.TotalSeconds;
        if (exactKl)
        {
            // The method's own KL uses its estimate of Z; the exact one (O(N²)) compares methods fairly.
            var yd = y.Span.ToArray().Select(v => (double)v).ToArray();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  exact KL {Tsne.ExactCost(tsne.LastAffinities!.Value, yd, y.Rows):F4} (the method's estimate {tsne.KlDivergence:F4})"));
        }
        if (!metrics) return (y, seconds, tsne.KlDivergence, double.NaN, double.NaN, tsne.IterationsRun);
        return (y, seconds, tsne.KlDivergence, Metrics.Trustworthiness(x, y, 10), Metrics.KnnAccuracy(y, labels, 10, 5, seed: 1), tsne.IterationsRun);
    }

    public static void Run(string[] args)
    {
        int n = args.Length > 1 && int.TryParse(args[1], out var v) ? v : 10000;
        string? Opt(string name) => Array.IndexOf(args, name) is int i and >= 0 ? args[i + 1] : null;
        string input = Opt("--input") ?? "pca50";
        var (x, labels, prep) = Input(input, n);
        if (Opt("--save-input") is { } save) Latent.Data.Npy.Write(save, x);
        var r = Embed(x, labels, Opt("--method") ?? "barnes_hut", args.Contains("--verbose"), args.Contains("--exact-kl"),
                  metrics: !args.Contains("--no-metrics"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"engine\": \"latent\", \"n\": {x.Rows}, \"dims\": {x.RowSize}, \"input\": \"{Path.GetFileName(input)}\", \"seconds\": {r.Seconds:F2}, \"prep_seconds\": {prep:F2}, \"kl\": {r.Kl:F4}, \"trust10\": {r.Trust:F4}, \"knn10\": {r.Knn:F4}, \"iterations\": {r.Iterations}}}"));
        if (Opt("--out") is { } prefix)
        {
            Latent.Data.Npy.Write(prefix + ".npy", r.Embedding);
            Latent.Plotting.Figures.Scatter(prefix + ".png", r.Embedding, labels, string.Create(CultureInfo.InvariantCulture,
                $"t-SNE of {x.Rows:N0} MNIST {(x.Rows > 10000 ? "" : "test ")}digits ({Path.GetFileNameWithoutExtension(input)}): {r.Seconds:F1} s, 10-NN accuracy {r.Knn:F3}"));
        }
    }

    public static void Pair(string[] args)
    {
        int n = int.Parse(args[1], CultureInfo.InvariantCulture);
        var (raw, labels, _) = Input("raw", n);
        var (codes, _, _) = Input(args[2], n);
        var a = Embed(raw, labels, "barnes_hut", false);
        var b = Embed(codes, labels, "barnes_hut", false);
        Latent.Plotting.Figures.ScatterPair(args[3],
            (a.Embedding, string.Create(CultureInfo.InvariantCulture, $"t-SNE of the {raw.RowSize} pixels: {a.Seconds:F1} s, 10-NN {a.Knn:F3}")),
            (b.Embedding, string.Create(CultureInfo.InvariantCulture, $"t-SNE of the {codes.RowSize}-D codes: {b.Seconds:F1} s, 10-NN {b.Knn:F3}")),
            labels);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pixels: {a.Seconds:F1} s, KL {a.Kl:F4}, trust {a.Trust:F4}, 10-NN {a.Knn:F4}; codes: {b.Seconds:F1} s, KL {b.Kl:F4}, trust {b.Trust:F4}, 10-NN {b.Knn:F4}"));
    }

    /// <summary>Times <see cref="FftRepulsion.Compute"/> on n points in ten Gaussian clusters across a span-wide square.</summary>
    public static void FftTimer(int n, double span, int reps)
    {
        var rng = new Random(1);
        var y = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            int c = i % 10;
            double cx = span * (0.15 + 0.7 * (c % 4) / 3), cy = span * (0.15 + 0.7 * (c / 4) / 2);
            for (int d = 0; d < 2; d++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                y[2 * i + d] = Math.Clamp((d == 0 ? cx : cy) + g * span / 20, 0, span);
            }
        }
        var repulsion = Environment.GetEnvironmentVariable("LATENT_TILE") is { } tile ? new FftRepulsion { Tile = int.Parse(tile) } : new FftRepulsion();
        var rep = new double[2 * n];
        var times = new List<double>();
        for (int r = 0; r < 3; r++) repulsion.Compute(y, n, rep);   // warm: JIT, buffers
        Array.Clear(repulsion.Phases);
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            repulsion.Compute(y, n, rep);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"FFT repulsion, {n} points over {span} units ({repulsion.Boxes} boxes): median {times[times.Count / 2]:F1} ms, best {times[0]:F1} ms; " +
            $"mean ms: spread {Ms(0):F1}, kernel {Ms(1):F1}, convolutions {Ms(2):F1}, gather {Ms(3):F1}"));
        double Ms(int phase) => repulsion.Phases[phase] * 1000.0 / Stopwatch.Frequency / reps;
    }
}
