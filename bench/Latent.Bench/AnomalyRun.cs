using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Latent.Anomaly;
using Latent.Datasets;
using Latent.Layers;

namespace Latent.Bench;

/// <summary>
/// The one-class anomaly benchmark's Latent side: for each class c of MNIST or Fashion-MNIST, train on the training
/// images of c alone, score all 10,000 test images, and report the ROC AUC of "not c" (Metrics.RocAuc). Two detectors:
/// dense (AutoencoderDetector's default: per-pixel standardisation, 64-32-64 relu, linear output, MSE, Adam, batch 32)
/// and conv (the blog's convolutional autoencoder on the [0, 1] pixels: 16-8-8 conv/pool, 4×4×8 code, sigmoid output,
/// Adam, batch 128), trained with binary cross-entropy, the blog's loss, and scored by each image's mean squared
/// error (<c>--conv-loss mse</c> trains with mean squared error, which left 7 of MNIST's 10 classes at the blank image;
/// <c>--conv-score loss</c> scores by the cross-entropy, which ranks grey images first: see docs/ANOMALY.md). One JSON
/// line per (model, class): AUC, average precision, seconds.
/// Usage: anomaly mnist|fashion-mnist [--models dense,conv] [--epochs-dense 30] [--epochs-conv 30] [--conv-loss binary_crossentropy|mse] [--conv-score squared-error|loss] [--classes 0,1,...] [--seed 1]
/// </summary>
internal static class AnomalyRun
{
    public static void Run(string[] args)
    {
        string dataset = args[1];
        string? Opt(string name) => Array.IndexOf(args, name) is int i and >= 0 ? args[i + 1] : null;
        var models = (Opt("--models") ?? "dense,conv").Split(',');
        int epochsDense = int.Parse(Opt("--epochs-dense") ?? "30", CultureInfo.InvariantCulture);
        int epochsConv = int.Parse(Opt("--epochs-conv") ?? "30", CultureInfo.InvariantCulture);
        int seed = int.Parse(Opt("--seed") ?? "1", CultureInfo.InvariantCulture);
        string convLoss = Opt("--conv-loss") ?? "binary_crossentropy";
        var convScore = (Opt("--conv-score") ?? "squared-error") == "loss" ? ReconstructionScore.Loss : ReconstructionScore.SquaredError;
        var classes = (Opt("--classes") ?? "0,1,2,3,4,5,6,7,8,9").Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var (xTrain, yTrain, xTest, yTest) = dataset switch
        {
            "mnist" => Mnist.Load(),
            "fashion-mnist" => FashionMnist.Load(),
            _ => throw new ArgumentException($"Unknown data set '{dataset}'. Expected mnist or fashion-mnist."),
        };
        foreach (string model in models)
            foreach (int c in classes)
            {
                var rows = Enumerable.Range(0, yTrain.Length).Where(i => yTrain[i] == c).ToArray();
                var normal = xTrain.GatherRows(rows);
                var test = xTest;
                var sw = Stopwatch.StartNew();
                AutoencoderDetector detector;
                if (model == "dense")
                {
                    detector = new AutoencoderDetector(hiddenUnits: [64, 32], epochs: epochsDense, batchSize: 32, seed: seed);
                }
                else
                {
                    normal = normal.Reshape(normal.Rows, 28, 28, 1);
                    test = xTest.Reshape(xTest.Rows, 28, 28, 1);
                    detector = new AutoencoderDetector(Conv(seed, convLoss), epochs: epochsConv, batchSize: 128, seed: seed, score: convScore);
                }
                detector.Fit(normal);
                double[] scores = detector.DecisionFunction(test);
                double seconds = sw.Elapsed.TotalSeconds;
                var outlier = yTest.Select(y => y != c).ToArray();
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    engine = "latent", dataset, model = model != "conv" ? model : convLoss != "binary_crossentropy" ? $"conv ({convLoss})" : convScore == ReconstructionScore.Loss ? "conv (bce score)" : model, @class = c, train = rows.Length,
                    auc = Metrics.RocAuc(outlier, scores), ap = Metrics.AveragePrecision(outlier, scores), seconds,
                }));
            }
    }

    /// <summary>The blog's convolutional autoencoder (the conv preset's layers), compiled with Adam and <paramref name="loss"/>.</summary>
    private static Model Conv(int seed, string loss)
    {
        Randomness.SetSeed(seed);
        var model = BlogModels.ConvAutoencoder("conv_detector");
        model.Compile("adam", loss);
        return model;
    }
}
