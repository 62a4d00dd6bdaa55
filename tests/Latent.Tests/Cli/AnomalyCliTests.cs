using Latent.Cli;
using Latent.Data;

namespace Latent.Tests.Cli;

/// <summary>'latent anomalies' (scores, flags, CSV and pictures) and 'latent export' on one run.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class AnomalyCliTests() : TestSupport.TempFolder("latent-anomaly-cli-")
{

    [Fact]
    public void ScoresAFileAndFlagsTheOddOnes()
    {
        var x = Tensor.FromArray(TestSupport.Synthetic.LowRank(200, 64, 3, seed: 1));
        string train = Path.Combine(Dir, "train.npy");
        Npy.Write(train, x);
        string run = Path.Combine(Dir, "run");
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options("simple", train, 20, 16, 6, "adam", null, 1, run, null, null)));
        // New data: 45 from the same manifold, 5 of noise.
        var fresh = Tensor.FromArray(TestSupport.Synthetic.LowRank(245, 64, 3, seed: 1)).SliceRows(200, 45);
        var odd = new Tensor([50, 64]);
        fresh.Span.CopyTo(odd.Span);
        var rng = new Random(2);
        for (int i = 45 * 64; i < 50 * 64; i++) odd.Span[i] = (float)rng.NextDouble();
        string score = Path.Combine(Dir, "new.npy");
        Npy.Write(score, odd);
        string csv = Path.Combine(Dir, "scores.csv");
        Assert.Equal(0, ModelCommands.Anomalies(run, score, 0.05, csv));
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(50, rows.Length);
        var scores = rows.Select(r => double.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(Metrics.RocAuc(Enumerable.Range(0, 50).Select(i => i >= 45).ToArray(), scores) > 0.9);
        Assert.All(rows.Skip(45), r => Assert.Equal("1", r[2]));
        Assert.True(File.Exists(Path.Combine(Dir, "scores.png")));
        Assert.True(File.Exists(Path.Combine(Dir, "scores-top.png")));           // 64 values: 8×8 images

        CliTests.AssertUsageError(["anomalies", run, "--contamination", "0.9"], "--contamination must be in (0, 0.5], received 0.9");

        // Scored by the mean squared error of the reconstruction instead of the run's loss (binary cross-entropy).
        string mseCsv = Path.Combine(Dir, "mse.csv");
        Assert.Equal(0, ModelCommands.Anomalies(run, score, 0.05, mseCsv, "mse"));
        var mse = File.ReadAllLines(mseCsv).Skip(1).Select(l => double.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var (model, _) = new RunFolder(run).LoadModel();
        var reconstructed = model.Predict(odd);
        for (int i = 0; i < 50; i++)
        {
            double expected = 0;
            for (int j = 0; j < 64; j++) expected += Math.Pow(reconstructed.Span[i * 64 + j] - odd.Span[i * 64 + j], 2) / 64;
            Assert.Equal(expected, mse[i], 1e-6);
        }
        Assert.NotEqual(scores, mse);
        CliTests.AssertUsageError(["anomalies", run, "--score", "l1"], "--score must be loss or mse, received 'l1'");
        Assert.False(File.Exists(Path.Combine(Dir, "scores.csv.tmp")));

        // The same run exported to ONNX, whole and in parts, loads in ONNX Runtime with the shapes it should have.
        foreach (var (part, inSize, outSize) in new[] { ("autoencoder", 64, 64), ("encoder", 64, 6), ("decoder", 6, 64) })
        {
            string onnx = Path.Combine(Dir, part + ".onnx");
            Assert.Equal(0, ModelCommands.Export(run, part, onnx));
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx);
            Assert.Equal(inSize, session.InputMetadata.Values.Single().Dimensions[1]);
            Assert.Equal(outSize, session.OutputMetadata.Values.Single().Dimensions[1]);
        }
        CliTests.AssertUsageError(["export", run, "--out", Path.Combine(Dir, "no-such-folder", "m.onnx")], "no-such-folder does not exist");
    }
}
