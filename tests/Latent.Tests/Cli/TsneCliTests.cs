using Latent.Cli;
using Latent.Data;

namespace Latent.Tests.Cli;

/// <summary>'latent tsne' and the run folder's tsne.png.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class TsneCliTests() : TestSupport.TempFolder("latent-tsne-cli-")
{

    [Fact]
    public void ARunOnLabelledDataGetsATsneOfItsCodesAndTheCommandDrawsMore()
    {
        string run = Path.Combine(Dir, "simple");
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options("simple", "mnist", 1, 256, 16, null, null, 1, run, null, null)));
        Assert.True(new FileInfo(Path.Combine(run, "tsne.png")).Length > 10000);
        string png = Path.Combine(Dir, "t.png");
        Assert.Equal(0, ModelCommands.Tsne(run, null, 300, "bh", raw: false, perplexity: 20, seed: 1, png));
        Assert.True(File.Exists(png));
        Assert.Equal(0, ModelCommands.Tsne(run, null, 200, "exact", raw: true, perplexity: 10, seed: 1, png));
        File.Delete(png);
        Assert.Equal(0, ModelCommands.Tsne(run, null, 300, "fft", raw: false, perplexity: 20, seed: 1, png));
        Assert.True(File.Exists(png));
    }

    [Fact]
    public void BadTsneSettingsExitWithTwoAndOneLine()
    {
        var x = new Tensor([60, 16]);
        var rng = new Random(1);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)rng.NextDouble();
        string data = Path.Combine(Dir, "d.npy");
        Npy.Write(data, x);
        string run = Path.Combine(Dir, "run");
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options("simple", data, 1, 20, 4, null, null, 1, run, null, null)));
        Assert.False(File.Exists(Path.Combine(run, "tsne.png")));          // no labels: no picture by class
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["tsne", run, "--n", "3"], "--n must be at least 4, received 3"),
            (["tsne", run, "--perplexity", "5"], "perplexity 5 needs more than 3·perplexity = 15 points; received 6"),
            (["tsne", run, "--perplexity", "0", "--out", Path.Combine(Dir, "z.png")], "perplexity=0"),
            (["tsne", run, "--method", "fast"], "fast"),
        })
            CliTests.AssertUsageError(args, expected);
        Assert.Equal(0, CliTests.RunTool(["tsne", run, "--perplexity", "1.5", "--out", Path.Combine(Dir, "ok.png")]).Exit);
    }
}
