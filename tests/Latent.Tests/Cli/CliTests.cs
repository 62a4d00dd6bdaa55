using System.Diagnostics;
using Latent.Cli;
using Latent.Data;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Cli;

/// <summary>The tool on a small .npy data set: run folders, resume, exit codes.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // trains for a while; keep it away from timing-sensitive neighbours
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-cli-").FullName;
    private readonly string _data;

    public CliTests()
    {
        _data = Path.Combine(_dir, "my-data.npy");
        // 300 samples of 64 values in [0, 255] (bytes), which the tool scales to [0, 1]; shown as 8×8 images.
        var x = Synthetic.LowRank(300, 64, 3, seed: 9);
        var t = new Tensor(300, 64);
        for (int i = 0; i < 300; i++) for (int j = 0; j < 64; j++) t[i, j] = MathF.Round(x[i, j] * 255);
        Npy.Write(_data, t);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainCommand.Options Options(string output, int epochs, string? resume = null, int? checkpointEvery = null) =>
        resume is null ? new("sparse", _data, epochs, 16, 8, "adam", null, 4, output, null, checkpointEvery)
                       : new(null, null, epochs, null, null, null, null, null, null, resume, checkpointEvery);

    [Fact]
    public void TrainWritesACompleteRunFolder()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, TrainCommand.Run(Options(run, 3)));
        foreach (var f in new[] { "model.safetensors", "history.csv", "loss.png", "reconstructions.png", "codes.png", "run.json" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        var history = File.ReadAllLines(Path.Combine(run, "history.csv"));
        Assert.Equal("epoch,loss,val_loss,penalty,added_loss,val_added_loss,seconds", history[0]);
        Assert.Equal(4, history.Length);
        Assert.All(history.Skip(1), l => Assert.True(double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture) > 0, "sparse: penalty recorded"));
        var runJson = File.ReadAllText(Path.Combine(run, "run.json"));
        Assert.Contains("\"Seed\": 4", runJson);
        Assert.Contains("\"checksum\"", runJson);
        Assert.Contains("\"epochs_done\": 3", runJson);

        string codes = Path.Combine(_dir, "codes.npy");
        Assert.Equal(0, ModelCommands.Encode(run, null, codes));
        Assert.Equal([30, 8], Npy.Read(codes).Shape); // the last 10% is the test set
        Assert.Equal(0, ModelCommands.Reconstruct(run, null, 5, Path.Combine(_dir, "r.png")));
        Assert.True(new FileInfo(Path.Combine(_dir, "r.png")).Length > 1000);
    }

    [Fact]
    public void FivePlusFiveResumedEqualsTenStraight()
    {
        string straight = Path.Combine(_dir, "straight"), resumed = Path.Combine(_dir, "resumed");
        Assert.Equal(0, TrainCommand.Run(Options(straight, 10)));
        Assert.Equal(0, TrainCommand.Run(Options(resumed, 5)));
        Assert.Equal(0, TrainCommand.Run(Options(resumed, 10, resume: resumed)));
        var a = Model.Load(Path.Combine(straight, "model.safetensors")).GetWeights();
        var b = Model.Load(Path.Combine(resumed, "model.safetensors")).GetWeights();
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
        Assert.Equal(File.ReadAllLines(Path.Combine(straight, "history.csv")).Select(DropSeconds),
                     File.ReadAllLines(Path.Combine(resumed, "history.csv")).Select(DropSeconds));
    }

    private static string DropSeconds(string line) => line[..line.LastIndexOf(',')];

    [Fact]
    public void CheckpointEveryNSavesDuringTraining()
    {
        string run = Path.Combine(_dir, "ckpt");
        Assert.Equal(0, TrainCommand.Run(Options(run, 4, checkpointEvery: 2)));
        var (_, epochs) = new RunFolder(run).LoadModel();
        Assert.Equal(4, epochs);
        // Resuming a finished run asks for more epochs.
        var e = Assert.Throws<ArgumentException>(() => TrainCommand.Run(Options(run, 4, resume: run)));
        Assert.Contains("has done 4 epochs", e.Message);
    }

    [Theory]
    [InlineData(2, "train", "--model", "huge")]
    [InlineData(2, "train", "--epochs", "ten")]
    [InlineData(2, "train", "--dataset", "/nonexistent/file.npy", "--epochs", "1")]
    [InlineData(2, "summary", "/nonexistent-run")]
    [InlineData(2, "frobnicate")]
    public void BadUsageExitsWithTwoAndOneLine(int code, params string[] args)
    {
        var (exit, stdout, stderr) = RunTool(args);
        Assert.Equal(code, exit);
        Assert.StartsWith("latent: ", stderr);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
        _ = stdout;
    }

    [Fact]
    public void HelpListsTheCommands()
    {
        var (exit, stdout, _) = RunTool(["--help"]);
        Assert.Equal(0, exit);
        foreach (var c in new[] { "train", "evaluate", "reconstruct", "encode", "summary" }) Assert.Contains(c, stdout);
        var (exit2, trainHelp, _) = RunTool(["train", "--help"]);
        Assert.Equal(0, exit2);
        Assert.Contains("--code-size", trainHelp);
        Assert.Contains("--resume", trainHelp);
    }

    /// <summary>Runs the tool and requires exit 2 with one clean line on stderr that contains <paramref name="expected"/>.</summary>
    internal static void AssertUsageError(string[] args, string expected)
    {
        var (exit, _, stderr) = RunTool(args);
        Assert.True(exit == 2, $"latent {string.Join(' ', args)}: exit {exit}, stderr: {stderr}");
        Assert.StartsWith("latent: ", stderr);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);   // no stack trace
    }

    internal static (int Exit, string Stdout, string Stderr) RunTool(string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Latent.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }
}
