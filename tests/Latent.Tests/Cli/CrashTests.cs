using System.Diagnostics;
using Latent.Cli;
using Latent.Data;

namespace Latent.Tests.Cli;

/// <summary>
/// The crash harness's short form (the long one is bench/crash.py, figures in docs/RELIABILITY.md): `latent train` is
/// killed at seeded random moments and resumed until it finishes; the model loads after every kill, and the finished
/// run has the uninterrupted run's weights and history and no temporary file.
/// </summary>
public sealed class CrashTests() : TestSupport.TempFolder("latent-crash-")
{
    private string Data()
    {
        string path = Path.Combine(Dir, "data.npy");
        Npy.Write(path, Tensor.FromArray(TestSupport.Synthetic.Uniform(1500 * 32, 1, 0, 1), 1500, 32));
        return path;
    }

    private static Process Start(string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Latent.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static IEnumerable<string> History(string run) =>
        File.ReadAllLines(Path.Combine(run, "history.csv")).Select(l => l[..l.LastIndexOf(',')]);   // seconds aside

    [Fact]
    public async Task KilledAtRandomMomentsAndResumedItEndsAsIfNeverStopped()
    {
        string data = Data(), straight = Path.Combine(Dir, "straight"), run = Path.Combine(Dir, "killed");
        string[] train = ["train", "--model", "simple", "--dataset", data, "--epochs", "4", "--batch-size", "32", "--checkpoint-every", "1", "--seed", "3"];
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, CliTests.RunTool([.. train, "--out", straight]).Exit);
        double full = clock.Elapsed.TotalSeconds;
        var rng = new Random(5);
        int kills = 0, starts = 0;
        while (true)
        {
            Assert.True(++starts < 30, "the run never finished");
            // A kill can land after the run wrote everything but before the process exited: it is finished, and a
            // resume would rightly refuse it (exit 2, "has done 4 epochs").
            if (kills > 0 && new RunFolder(run).IsFinalised(4)) break;
            bool resume = File.Exists(Path.Combine(run, "run.json")) || File.Exists(Path.Combine(run, "model.safetensors"));
            using var p = Start(resume ? ["train", "--resume", run] : [.. train, "--out", run]);
            var exited = p.WaitForExitAsync();
            if (kills < 4 && await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(rng.NextDouble() * full))) != exited)
            {
                p.Kill();
                await exited;
                kills++;
                if (File.Exists(Path.Combine(run, "model.safetensors")))
                    Assert.Equal(0, CliTests.RunTool(["summary", run]).Exit);   // whatever moment it died, the model loads
                continue;
            }
            await exited;
            Assert.Equal(0, p.ExitCode);
            if (kills == 0)
            {
                // It finished before any kill (the first, cold run that set the pace was slower than this one):
                // start again with kills drawn from a shorter span.
                full /= 2;
                Directory.Delete(run, recursive: true);
                continue;
            }
            break;
        }
        Assert.True(kills > 0);
        Assert.DoesNotContain(Directory.EnumerateFiles(run), f => f.Contains(".tmp", StringComparison.Ordinal));
        Assert.Equal(History(straight), History(run));
        Assert.Equal(Model.Load(Path.Combine(straight, "model.safetensors")).GetWeights(), Model.Load(Path.Combine(run, "model.safetensors")).GetWeights());
    }
}
