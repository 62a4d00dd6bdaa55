using Latent.Cli;
using Latent.Data;

namespace Latent.Tests.Cli;

/// <summary>A run folder is not overwritten, mixed up or written by two processes at once; data is not silently misread.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class RunFolderSafetyTests : TestSupport.TempFolder
{
    private readonly string _data;

    public RunFolderSafetyTests() : base("latent-runsafety-")
    {
        _data = Path.Combine(Dir, "d.npy");
        Npy.Write(_data, Tensor.FromArray(TestSupport.Synthetic.LowRank(60, 16, 3, seed: 1)));
    }

    private TrainCommand.Options Options(string run, int epochs = 1, bool overwrite = false) =>
        new("simple", _data, epochs, 20, 4, null, null, 1, run, null, null, Overwrite: overwrite);

    [Fact]
    public void TrainingIntoARunFolderNeedsOverwriteOrResume()
    {
        string run = Path.Combine(Dir, "run");
        Assert.Equal(0, TrainCommand.Run(Options(run)));
        var before = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        var e = Assert.Throws<ArgumentException>(() => TrainCommand.Run(Options(run)));
        Assert.Contains("already holds a run", e.Message);
        Assert.Contains("--resume", e.Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));   // untouched
        Assert.Equal(0, TrainCommand.Run(Options(run, epochs: 2, overwrite: true)));
        Assert.Equal(2, new RunFolder(run).LoadModel().EpochsDone);
        Assert.False(File.Exists(Path.Combine(run, ".lock")));                               // released
    }

    private string OneDimensional()
    {
        string path = Path.Combine(Dir, "one.npy");
        Npy.Write(path, new Tensor([50]));
        return path;
    }

    [Fact]
    public void ResumeRefusesWhatItCannotHonour()
    {
        string run = Path.Combine(Dir, "r");
        Assert.Equal(0, TrainCommand.Run(Options(run)));
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["train", "--resume", run, "--epochs", "3", "--learning-rate", "0.5"], "--learning-rate cannot change it"),
            (["train", "--resume", run, "--epochs", "3", "--batch-size", "7", "--seed", "2"], "--batch-size, --seed cannot change it"),
            (["train", "--resume", run, "--epochs", "3", "--optimizer", "sgd"], "--optimizer"),
            (["train", "--resume", run, "--epochs", "3", "--overwrite"], "exclude each other"),
            (["train", "--model", "simple", "--dataset", _data, "--checkpoint-every", "-1", "--out", Path.Combine(Dir, "neg")], "--checkpoint-every must be 0 (off) or a positive number of epochs, received -1"),
            (["reconstruct", run, "--n", "100000"], "--n draws at most 100 samples"),
            (["train", "--model", "simple", "--dataset", OneDimensional(), "--out", Path.Combine(Dir, "one")], "holds a 1-D array of 50 values"),
        })
            CliTests.AssertUsageError(args, expected);
        Assert.False(Directory.Exists(Path.Combine(Dir, "neg")));
        Assert.Equal(0, CliTests.RunTool(["train", "--resume", run, "--epochs", "2"]).Exit);
    }

    [Fact]
    public void ACsvTableWithAnIdColumnTrainsAndEvaluatesWithTheSameColumns()
    {
        var rows = new List<string> { "id,f1,f2,f3,f4" };
        var rng = new Random(3);
        for (int i = 0; i < 40; i++) rows.Add($"{1000 + i},{rng.Next(256)},{rng.Next(256)},{rng.Next(256)},{rng.Next(256)}");
        string csv = Path.Combine(Dir, "table.csv");
        File.WriteAllLines(csv, rows);
        string run = Path.Combine(Dir, "csv");
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options("simple", csv, 1, 8, 2, null, null, 1, run, null, null, Drop: "id")));
        Assert.Equal(4, new RunFolder(run).LoadModel().Model.Inputs[0].Size);   // the id column left out
        Assert.Contains("\"Drop\": \"id\"", File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.Equal(0, ModelCommands.Evaluate(run, null));                    // read again the same way
        CliTests.AssertUsageError(["train", "--model", "simple", "--dataset", csv, "--columns", "f9", "--out", Path.Combine(Dir, "c2")], "no column 'f9'");
    }

    [Fact]
    public void TheCheckpointCarriesItsHistoryAndAnUnfinishedRunCanBeFinalised()
    {
        string straight = Path.Combine(Dir, "straight"), killed = Path.Combine(Dir, "killed");
        Assert.Equal(0, TrainCommand.Run(Options(straight, epochs: 4)));
        Assert.Equal(0, TrainCommand.Run(Options(killed, epochs: 2)));
        // As if killed right after the checkpoint's rename: history.csv and run.json lag behind, a temp file is left.
        File.WriteAllLines(Path.Combine(killed, "history.csv"), File.ReadAllLines(Path.Combine(killed, "history.csv")).Take(2));
        string orphan = Path.Combine(killed, "model.safetensors.tmp-99999-0123456789abcdef.safetensors");
        File.WriteAllBytes(orphan, new byte[1000]);
        Assert.Equal(0, CliTests.RunTool(["train", "--resume", killed, "--epochs", "4"]).Exit);
        Assert.False(File.Exists(orphan));
        static IEnumerable<string> Rows(string run) => File.ReadAllLines(Path.Combine(run, "history.csv")).Select(l => l[..l.LastIndexOf(',')]);
        Assert.Equal(Rows(straight), Rows(killed));                    // all four epochs, as if it had never stopped
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")).Length, File.ReadAllBytes(Path.Combine(killed, "model.safetensors")).Length);

        // Killed after the last save, before run.json and the figures: --resume with nothing left to train finishes it.
        File.WriteAllText(Path.Combine(killed, "run.json"), File.ReadAllText(Path.Combine(killed, "run.json")).Replace("\"epochs_done\": 4", "\"epochs_done\": 0"));
        File.Delete(Path.Combine(killed, "loss.png"));
        var (exit, stdout, _) = CliTests.RunTool(["train", "--resume", killed]);
        Assert.Equal(0, exit);
        Assert.Contains("Nothing left to train", stdout);
        Assert.True(File.Exists(Path.Combine(killed, "loss.png")));
        Assert.Contains("\"epochs_done\": 4", File.ReadAllText(Path.Combine(killed, "run.json")));
        CliTests.AssertUsageError(["train", "--resume", killed], "has done 4 epochs");   // complete: asks for more
    }

    [Fact]
    public void ARunKilledBeforeItsFirstCheckpointResumesFromTheStart()
    {
        string straight = Path.Combine(Dir, "whole"), early = Path.Combine(Dir, "early");
        Assert.Equal(0, TrainCommand.Run(Options(straight, epochs: 2)));
        // As if killed after run.json was written, before the first checkpoint: the configuration and nothing else.
        Directory.CreateDirectory(early);
        File.Copy(Path.Combine(straight, "run.json"), Path.Combine(early, "run.json"));
        CliTests.AssertUsageError(["train", "--model", "simple", "--dataset", _data, "--out", early], "already holds a run");
        var (exit, stdout, _) = CliTests.RunTool(["train", "--resume", early]);
        Assert.Equal(0, exit);
        Assert.Contains("no checkpoint", stdout);
        Assert.Equal(Model.Load(Path.Combine(straight, "model.safetensors")).GetWeights(), Model.Load(Path.Combine(early, "model.safetensors")).GetWeights());
    }

    [Fact]
    public void AMalformedHistoryIsAClearError()
    {
        string run = Path.Combine(Dir, "h");
        Assert.Equal(0, TrainCommand.Run(Options(run)));
        File.WriteAllText(Path.Combine(run, "history.csv"), "epoch,loss,val_loss,penalty\n1,abc\n");
        CliTests.AssertUsageError(["report", run, "--out", Path.Combine(Dir, "r.html")], "a row has 2 values, the header names 4");
        File.WriteAllText(Path.Combine(run, "history.csv"), "epoch,loss,val_loss,penalty\nx,1,2,3\n");
        CliTests.AssertUsageError(["report", run, "--out", Path.Combine(Dir, "r.html")], "'x' is not an epoch number");
    }

    [Fact]
    public void ASecondWriterIsRefusedAndAStaleLockTakenOver()
    {
        string run = Path.Combine(Dir, "locked");
        Directory.CreateDirectory(run);
        using (var held = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "30")!)!)
        {
            File.WriteAllText(Path.Combine(run, ".lock"), held.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var e = Assert.Throws<InvalidOperationException>(() => TrainCommand.Run(Options(run)));
            Assert.Contains($"pid {held.Id}", e.Message);
            held.Kill();
            held.WaitForExit();
        }
        Assert.Equal(0, TrainCommand.Run(Options(run)));   // the holder is gone: its lock is taken over
        Assert.False(File.Exists(Path.Combine(run, ".lock")));
    }

    [Fact]
    public void ALockHeldByAZombieIsTakenOver()
    {
        // A killed writer whose parent never reaps it (a container's init) stays a zombie with a /proc entry; it writes
        // nothing, so its lock must not block a resume. The shell's background child exits and is never reaped by the
        // `sleep` the shell became.
        if (!OperatingSystem.IsLinux()) return;
        var psi = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("sleep 0.1 & echo $!; exec sleep 30");
        using var parent = System.Diagnostics.Process.Start(psi)!;
        int zombie = int.Parse(parent.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!File.ReadAllText($"/proc/{zombie}/stat").Split(") ")[^1].StartsWith('Z'))
            {
                Assert.True(DateTime.UtcNow < deadline, $"pid {zombie} never became a zombie");
                Thread.Sleep(20);
            }
            string run = Path.Combine(Dir, "zombie");
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, ".lock"), zombie.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(0, TrainCommand.Run(Options(run)));
            Assert.False(File.Exists(Path.Combine(run, ".lock")));
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }
}
