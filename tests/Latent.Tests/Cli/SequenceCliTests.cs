using Latent.Cli;
using Latent.Data;

namespace Latent.Tests.Cli;

/// <summary>The lstm preset: sequences from CSV and .npy files with per-feature scaling kept in the model, its figures, and its errors.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class SequenceCliTests() : TestSupport.TempFolder("latent-seq-cli-")
{
    private static TrainCommand.Options Options(string dataset, string output, int? timesteps, int epochs = 2) =>
        new("lstm", dataset, epochs, 16, 6, null, null, 3, output, null, null, Timesteps: timesteps);

    /// <summary>(count, 12 steps, 3 features): two waves in their own units and a nearly constant third feature.</summary>
    private (string Csv, string Npy, Tensor Raw) Waves(int count)
    {
        var rng = new Random(5);
        var x = new Tensor([count, 12, 3]);
        for (int n = 0; n < count; n++)
        {
            double f = 0.2 + 0.4 * rng.NextDouble(), p = 6 * rng.NextDouble();
            for (int t = 0; t < 12; t++)
            {
                x.Span[(n * 12 + t) * 3] = (float)(10 + 5 * Math.Sin(f * t + p));
                x.Span[(n * 12 + t) * 3 + 1] = (float)(2 * Math.Cos(f * t + p));
                x.Span[(n * 12 + t) * 3 + 2] = (float)(100 + 0.1 * rng.NextDouble());
            }
        }
        string csv = Path.Combine(Dir, "waves.csv"), npy = Path.Combine(Dir, "waves.npy");
        File.WriteAllLines(csv, Enumerable.Range(0, count).Select(n =>
            string.Join(",", x.Row(n).ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        Npy.Write(npy, x);
        return (csv, npy, x);
    }

    [Fact]
    public void AnLstmRunOnACsvKeepsItsScalingAndScoresNewDataTheSameWay()
    {
        var (csv, _, raw) = Waves(60);
        string run = Path.Combine(Dir, "lstm");
        Assert.Equal(0, TrainCommand.Run(Options(csv, run, 12)));
        foreach (var f in new[] { "model.safetensors", "history.csv", "loss.png", "reconstructions.png", "errors.png", "codes.png", "run.json" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);

        // The scaling is fitted on the training part (the first 54 sequences) and saved in the model.
        Model.Load(Path.Combine(run, "model.safetensors"), out var meta);
        var scaler = FeatureScaler.FromMetadata(meta)!;
        var expected = FeatureScaler.Fit(raw.SliceRows(0, 54));
        Assert.Equal(expected.Min, scaler.Min);
        Assert.Equal(expected.Max, scaler.Max);
        Assert.Equal(3, scaler.Features);

        // The last 30 sequences as a 3-D .npy (whose own ranges differ) are scaled with the run's scaling, not
        // refitted: its test part (the last 3) gets the codes those sequences got in the run's test set.
        string half = Path.Combine(Dir, "half.npy"), fromCsv = Path.Combine(Dir, "a.npy"), fromNpy = Path.Combine(Dir, "b.npy");
        Npy.Write(half, raw.SliceRows(30, 30));
        Assert.NotEqual(expected.Max, FeatureScaler.Fit(raw.SliceRows(30, 27)).Max);
        Assert.Equal(0, ModelCommands.Encode(run, null, fromCsv));
        Assert.Equal(0, ModelCommands.Encode(run, half, fromNpy));
        var a = Npy.Read(fromCsv);
        var b = Npy.Read(fromNpy);
        Assert.Equal([6, 6], a.Shape);
        Assert.Equal(a.SliceRows(3, 3).Span.ToArray(), b.Span.ToArray());

        // Resuming keeps the recorded scaling.
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options(null, null, 3, null, null, null, null, null, null, run, null)));
        Model.Load(Path.Combine(run, "model.safetensors"), out meta);
        Assert.Equal(expected.Max, FeatureScaler.FromMetadata(meta)!.Max);
    }

    [Fact]
    public void MnistRowsGiveTheContractModel()
    {
        // Training it takes an epoch of 60,000 sequences: examples/sequence_autoencoder.cs and bench/ run that.
        var data = DataSource.Load("mnist-rows", null, timesteps: 0);
        Assert.True(data.IsSequence);
        Assert.Equal((28, 28), (data.ImageHeight, data.ImageWidth));
        Assert.NotNull(data.TestLabels);
        var (autoencoder, encoder) = RunConfig.Preset("lstm").Build(data.ImageHeight, data.ImageWidth, 1);
        Assert.Equal([28, 28], autoencoder.Inputs[0].Shape);
        Assert.Equal([28, 28], autoencoder.Outputs[0].Shape);
        Assert.Equal([64], encoder.Outputs[0].Shape);
        Assert.Equal(["sequence", "code", "repeat_vector", "reconstruction"], autoencoder.Layers.Select(l => l.Name.StartsWith("repeat_vector", StringComparison.Ordinal) ? "repeat_vector" : l.Name));
        var e = Assert.Throws<ArgumentException>(() => DataSource.Load("mnist-rows", null, timesteps: 14));
        Assert.Contains("28 steps", e.Message);
    }

    [Theory]
    [InlineData("csv", 7, "which 7 steps do not divide")]
    [InlineData("npy", 5, "holds sequences of 12 steps")]
    [InlineData("csv", null, "pass --timesteps T")]
    [InlineData("nan", 2, "is not a finite number")]
    [InlineData("ragged", 1, "has 2 values, earlier lines have 3")]
    [InlineData("flat", 0, "expected sequences (N, T, F)")]
    public void BadSequenceDataGetsOneClearError(string kind, int? timesteps, string message)
    {
        var (csv, npy, _) = Waves(20);
        string file = kind switch
        {
            "csv" => csv,
            "npy" => npy,
            "nan" => Write("nan.csv", "1,2,3,4\n4,nan,5,6\n1,2,3,4\n"),
            "ragged" => Write("ragged.csv", "1,2,3\n4,5\n"),
            _ => Flat(),
        };
        var e = Assert.ThrowsAny<Exception>(() => TrainCommand.Run(Options(file, Path.Combine(Dir, "bad"), timesteps)));
        Assert.Contains(message, e.Message);
        Assert.False(File.Exists(Path.Combine(Dir, "bad", "model.safetensors")));
    }

    [Fact]
    public void TimestepsBelongToTheLstmPreset()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainCommand.Run(new TrainCommand.Options("simple", "mnist", 1, 32, null, null, null, 1, Path.Combine(Dir, "s"), null, null, Timesteps: 4)));
        Assert.Contains("--timesteps applies to --model lstm", e.Message);
        var (exit, _, stderr) = CliTests.RunTool(["train", "--model", "lstm", "--dataset", "mnist-rows", "--timesteps", "-3", "--out", Path.Combine(Dir, "n")]);
        Assert.Equal(2, exit);
        Assert.Contains("--timesteps must be positive", stderr);
    }

    [Fact]
    public void PaddedSequencesAreMaskedInTheScalingTheModelAndTheScores()
    {
        var (_, _, raw) = Waves(60);
        // Sequence n keeps its first 6 + n % 7 steps; the rest is padding (0 in every feature).
        for (int n = 0; n < 60; n++)
            for (int t = 6 + n % 7; t < 12; t++) raw.Span.Slice((n * 12 + t) * 3, 3).Clear();
        string npy = Path.Combine(Dir, "padded.npy"), run = Path.Combine(Dir, "masked");
        Npy.Write(npy, raw);
        Assert.Equal(0, TrainCommand.Run(Options(npy, run, null) with { MaskValue = 0 }));
        var model = Model.Load(Path.Combine(run, "model.safetensors"), out var meta);
        // The padding is not part of the scaling (the first feature never goes below 5) and the output's loss skips it.
        var scaler = FeatureScaler.FromMetadata(meta)!;
        Assert.True(scaler.Min[0] >= 5, $"min {scaler.Min[0]}");
        Assert.NotNull(model.Outputs[0].Mask);
        Assert.Equal(0, RunFolder.ReadConfig(run).MaskValue);
        // A sequence's score is the mean squared error over its kept steps: its padding does not count.
        var scaled = raw.SliceRows(54, 6);
        scaler.Transform(scaled, maskValue: 0);
        Assert.Equal(FeatureScaler.ScaledPadding, scaled.Span[(0 * 12 + 11) * 3]);
        var scores = model.LossPerSample(scaled, scaled);
        var pred = model.Predict(scaled).Span;
        for (int n = 0; n < 6; n++)
        {
            double sum = 0;
            int kept = 0;
            for (int t = 0; t < 12; t++)
            {
                if (scaled.Span[(n * 12 + t) * 3] == FeatureScaler.ScaledPadding) continue;
                kept++;
                for (int f = 0; f < 3; f++)
                {
                    double d = pred[(n * 12 + t) * 3 + f] - scaled.Span[(n * 12 + t) * 3 + f];
                    sum += d * d;
                }
            }
            Assert.Equal(sum / (kept * 3), scores[n], 5);
        }
        Assert.Equal(0, ModelCommands.Anomalies(run, null, 0.1, Path.Combine(Dir, "scores.csv")));
    }

    [Fact]
    public void AnLstmRunExportsToOnnxWithItsScaling()
    {
        var (_, npy, raw) = Waves(30);
        string run = Path.Combine(Dir, "onnx-run"), onnx = Path.Combine(Dir, "encoder.onnx");
        Assert.Equal(0, TrainCommand.Run(Options(npy, run, null, epochs: 1)));
        Assert.Equal(0, ModelCommands.Export(run, "encoder", onnx));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx);
        var meta = session.ModelMetadata.CustomMetadataMap;
        var scaler = FeatureScaler.FromMetadata(meta.ToDictionary(p => p.Key, p => p.Value))!;
        // New data scaled as the metadata says, then encoded by ONNX Runtime, matches the run's own encoder.
        var x = raw.SliceRows(0, 4);
        scaler.Transform(x);
        var model = Model.Load(Path.Combine(run, "model.safetensors"));
        var expected = new Model(model.Inputs[0], model.GetLayerOutput("code")).Predict(x).Span.ToArray();
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(),
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x.Span.ToArray(), [4, 12, 3]))]);
        var actual = results.Single().AsEnumerable<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
    }

    [Fact]
    public void AMaskValueThatMasksEverythingIsRefused()
    {
        string npy = Path.Combine(Dir, "zeros.npy");
        Npy.Write(npy, new Tensor([10, 4, 2]));
        var (exit, _, stderr) = CliTests.RunTool(["train", "--model", "lstm", "--dataset", npy, "--mask-value", "0", "--out", Path.Combine(Dir, "z")]);
        Assert.Equal(2, exit);
        Assert.Contains("mask value 0 masks every step", stderr);
        var e = Assert.Throws<ArgumentException>(() => TrainCommand.Run(Options("mnist-rows", Path.Combine(Dir, "m"), null) with { MaskValue = 0 }));
        Assert.Contains("mnist-rows has none", e.Message);
        e = Assert.Throws<ArgumentException>(() => TrainCommand.Run(new TrainCommand.Options("simple", "mnist", 1, 32, null, null, null, 1, Path.Combine(Dir, "s"), null, null, MaskValue: 0)));
        Assert.Contains("--mask-value applies to --model lstm", e.Message);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Flat()
    {
        string path = Path.Combine(Dir, "flat.npy");
        Npy.Write(path, new Tensor([2, 2, 2, 2]));
        return path;
    }
}
