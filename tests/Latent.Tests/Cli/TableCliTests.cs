using Latent.Cli;
using Latent.Data;
using Latent.Tests.TestSupport;
using Parquet.Schema;

namespace Latent.Tests.Cli;

/// <summary>
/// Tables as data: a Parquet file trains like a CSV, each column is scaled on its own (min-max or standard) from the
/// training part, the scaling is kept in run.json and the model, and new rows are scored with it.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class TableCliTests() : TestSupport.TempFolder("latent-table-cli-")
{
    /// <summary>60 rows: an id, a temperature around 20, a pressure around 1000, a count 0–9.</summary>
    private (double[] Temperature, double[] Pressure, int[] Count) Columns(int seed, int rows = 60, double shift = 0)
    {
        var rng = new Random(seed);
        var t = Enumerable.Range(0, rows).Select(_ => 20 + shift + 5 * rng.NextDouble()).ToArray();
        var p = Enumerable.Range(0, rows).Select(_ => 1000 + 30 * rng.NextDouble()).ToArray();
        var c = Enumerable.Range(0, rows).Select(_ => rng.Next(10)).ToArray();
        return (t, p, c);
    }

    private string Parquet(string name, int seed, int rows = 60, double shift = 0)
    {
        var (t, p, c) = Columns(seed, rows, shift);
        return ParquetFiles.Write(Path.Combine(Dir, name), 2,
            (new DataField<string>("id"), Enumerable.Range(0, rows).Select(i => $"r{i}").ToArray()),
            (new DataField<double>("temperature"), t), (new DataField<double>("pressure"), p), (new DataField<int>("count"), c));
    }

    private TrainCommand.Options Options(string dataset, string run, string? scaling = null) =>
        new("simple", dataset, 2, 8, 2, null, null, 1, run, null, null, Drop: "id", Scaling: scaling);

    [Fact]
    public void AParquetTableTrainsWithEachColumnScaledOnItsOwn()
    {
        string data = Parquet("train.parquet", 1), run = Path.Combine(Dir, "minmax");
        Assert.Equal(0, TrainCommand.Run(Options(data, run)));
        var model = Model.Load(Path.Combine(run, "model.safetensors"), out var meta);
        Assert.Equal(3, model.Inputs[0].Size);
        var scaler = FeatureScaler.FromMetadata(meta)!;
        var (t, p, c) = Columns(1);
        // Fitted on the training part, the first 54 rows, per column.
        Assert.Equal((float)t.Take(54).Min(), scaler.Min[0]);
        Assert.Equal((float)p.Take(54).Max(), scaler.Max[1]);
        Assert.Equal(c.Take(54).Max(), scaler.Max[2]);
        Assert.Equal(scaler.Min, RunFolder.ReadConfig(run).FeatureMin);
        Assert.Equal("sigmoid", model.GetLayer("reconstruction").Config().GetString("activation"));

        // New rows, warmer: scored with the run's scaling (not refitted), so the shift shows as higher scores.
        string warm = Parquet("warm.parquet", 2, shift: 10), cool = Parquet("cool.parquet", 3);
        string warmScores = Path.Combine(Dir, "warm.csv"), coolScores = Path.Combine(Dir, "cool.csv");
        Assert.Equal(0, ModelCommands.Anomalies(run, warm, 0.1, warmScores));
        Assert.Equal(0, ModelCommands.Anomalies(run, cool, 0.1, coolScores));
        static double Mean(string csv) => File.ReadAllLines(csv).Skip(1).Average(l => double.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(Mean(warmScores) > Mean(coolScores), $"warm {Mean(warmScores)}, cool {Mean(coolScores)}");
    }

    [Fact]
    public void StandardScalingMakesTheReconstructionLinear()
    {
        string data = Parquet("train.parquet", 4), run = Path.Combine(Dir, "standard");
        Assert.Equal(0, TrainCommand.Run(Options(data, run, "standard")));
        var model = Model.Load(Path.Combine(run, "model.safetensors"), out var meta);
        var scaler = FeatureScaler.FromMetadata(meta)!;
        Assert.Equal(FeatureScaling.Standard, scaler.Kind);
        var (t, _, _) = Columns(4);
        Assert.Equal(t.Take(54).Average(), scaler.Mean[0], 3);
        Assert.Equal("linear", model.GetLayer("reconstruction").Config().GetString("activation"));
        Assert.Equal(scaler.Mean, RunFolder.ReadConfig(run).FeatureMean);
        Assert.Equal(0, ModelCommands.Evaluate(run, null));
        Assert.Equal(0, CliTests.RunTool(["train", "--resume", run, "--epochs", "3"]).Exit);
    }

    [Fact]
    public void ARunMadeBeforePerColumnScalingReadsItsTableAsItWasTrained()
    {
        string csv = Path.Combine(Dir, "old.csv");
        File.WriteAllLines(csv, ["a,b", .. Enumerable.Range(0, 20).Select(i => $"{i},{100 + 3 * i}")]);
        // An old run's configuration: a table, no scaling recorded.
        var old = RunConfig.Preset("simple") with { Dataset = csv };
        var data = TrainCommand.LoadData(old);
        Assert.Null(data.Scaler);
        var raw = Csv.Read(csv);
        Scaling.ToUnitRange(raw);                        // the global scaling such runs were trained with
        var train = new Tensor([data.Train.Rows, 2]);
        data.Train.CopyRows(0, data.Train.Rows, train.Span);
        Assert.Equal(raw.Span[..train.Length].ToArray(), train.Span.ToArray());
        Assert.NotNull(TrainCommand.LoadData(old, newRun: true).Scaler);   // a new run scales per column
    }

    [Fact]
    public void BadTableSettingsGetOneClearError()
    {
        string data = Parquet("t.parquet", 5);
        CliTests.AssertUsageError(["train", "--model", "simple", "--dataset", data, "--out", Path.Combine(Dir, "a")], "column 'id' holds text, not numbers");
        CliTests.AssertUsageError(["train", "--model", "conv", "--dataset", data, "--drop", "id", "--scaling", "standard", "--out", Path.Combine(Dir, "b")],
                                  "--scaling standard applies to the dense presets");
        CliTests.AssertUsageError(["train", "--model", "simple", "--dataset", "mnist", "--scaling", "standard", "--out", Path.Combine(Dir, "c")],
                                  "--scaling applies to a .csv or .parquet table");
        string run = Path.Combine(Dir, "ok");
        Assert.Equal(0, TrainCommand.Run(Options(data, run)));
        string narrow = ParquetFiles.Write(Path.Combine(Dir, "narrow.parquet"), 1,
            (new DataField<string>("id"), new[] { "a", "b", "c" }), (new DataField<double>("temperature"), new[] { 1.0, 2, 3 }));
        CliTests.AssertUsageError(["anomalies", run, "--dataset", narrow, "--out", Path.Combine(Dir, "s.csv")], "has 1 columns; the run was trained on 3");
    }
}
