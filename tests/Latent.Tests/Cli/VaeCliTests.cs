using Latent.Cli;
using Latent.Data;
using SkiaSharp;

namespace Latent.Tests.Cli;

/// <summary>The vae and conv-vae presets, their figures, 'latent generate', 'latent manifold' and 'latent encode', and their errors.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class VaeCliTests() : TestSupport.TempFolder("latent-vae-cli-")
{

    private static TrainCommand.Options Options(string model, string dataset, string output, int epochs = 1, int? code = null,
                                                double? klWeight = null, int? klWarmup = null, string? resume = null) =>
        new(resume is null ? model : null, resume is null ? dataset : null, epochs, resume is null ? 50 : null, code, null, null,
            resume is null ? 3 : null, resume is null ? output : null, resume, null, KlWeight: klWeight, KlWarmup: klWarmup);

    /// <summary>An .npy of <paramref name="count"/> 28×28 blobs in [0, 1].</summary>
    private string Blobs(int count)
    {
        var rng = new Random(count);
        var x = new Tensor([count, 784]);
        for (int n = 0; n < count; n++)
        {
            double cx = 6 + rng.NextDouble() * 16, cy = 6 + rng.NextDouble() * 16;
            for (int p = 0; p < 784; p++)
                x.Span[n * 784 + p] = (float)Math.Exp(-(Math.Pow(p % 28 - cx, 2) + Math.Pow(p / 28 - cy, 2)) / 18);
        }
        string path = Path.Combine(Dir, "blobs.npy");
        Npy.Write(path, x);
        return path;
    }

    [Fact]
    public void VaeTrainsOnMnistAndDrawsItsPictures()
    {
        string run = Path.Combine(Dir, "vae");
        Assert.Equal(0, TrainCommand.Run(Options("vae", "mnist", run)));
        foreach (var f in new[] { "model.safetensors", "history.csv", "loss.png", "reconstructions.png", "latent.png", "samples.png", "manifold.png", "run.json" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.False(File.Exists(Path.Combine(run, "codes.png")));
        var header = File.ReadLines(Path.Combine(run, "history.csv")).First().Split(',');
        var row = File.ReadLines(Path.Combine(run, "history.csv")).Skip(1).First().Split(',');
        double kl = double.Parse(row[Array.IndexOf(header, "added_loss")], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(kl, 0.5, 50);                     // the KL of a 2-D latent after an epoch: a few nats

        string samples = Path.Combine(Dir, "samples.png"), manifold = Path.Combine(Dir, "manifold.png"), codes = Path.Combine(Dir, "z.npy");
        Assert.Equal(0, ModelCommands.Generate(run, 16, 2, samples));
        Assert.Equal(0, ModelCommands.Manifold(run, 5, 2.0, manifold));
        Assert.Equal(0, ModelCommands.Encode(run, null, codes));
        Assert.Equal([10000, 2], Npy.Read(codes).Shape);
        using (var m = SKBitmap.Decode(manifold)) Assert.True(m.Width >= 5 * 28 * 2 && m.Height >= 5 * 28 * 2, $"{m.Width}×{m.Height}");
        using (var s = SKBitmap.Decode(samples)) Assert.True(s.Width >= 4 * 28 * 2, $"{s.Width}");
        Assert.Equal(0, ModelCommands.Evaluate(run, null));
    }

    [Fact]
    public void ConvVaeWithAWiderLatentWarmsUpResumesAndRefusesAManifold()
    {
        string data = Blobs(120);
        string run = Path.Combine(Dir, "conv-vae");
        Assert.Equal(0, TrainCommand.Run(Options("conv-vae", data, run, epochs: 2, code: 3, klWeight: 0.5, klWarmup: 2)));
        Assert.True(File.Exists(Path.Combine(run, "latent.png")));       // through t-SNE
        Assert.False(File.Exists(Path.Combine(run, "manifold.png")));    // 3-D latent: no plane to walk
        var history = new RunFolder(run).ReadHistory();
        Assert.Equal(0, history[0].AddedLoss);                           // warm-up epoch 0: weight 0
        Assert.True(history[1].AddedLoss > 0);
        Assert.Equal(0, TrainCommand.Run(Options("conv-vae", data, run, epochs: 3, resume: run)));
        Assert.Equal(3, new RunFolder(run).ReadHistory().Count);
        var (model, _) = new RunFolder(run).LoadModel();
        Assert.Equal(0.5, model.Layers.OfType<Latent.Layers.Sampling>().Single().KlWeight);

        var e = Assert.Throws<ArgumentException>(() => ModelCommands.Manifold(run, 15, null, Path.Combine(Dir, "m.png")));
        Assert.Contains("3 dimensions", e.Message);
        Assert.Equal(0, ModelCommands.Generate(run, 9, 0, Path.Combine(Dir, "g.png")));
    }

    [Fact]
    public void BadVaeSettingsExitWithTwoAndOneLine()
    {
        string data = Blobs(40);
        string plain = Path.Combine(Dir, "plain");
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options("simple", data, 1, 20, 4, null, null, 1, plain, null, null)));
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["generate", plain, "--out", Path.Combine(Dir, "x.png")], "not a variational autoencoder"),
            (["manifold", plain], "not a variational autoencoder"),
            (["train", "--model", "vae", "--dataset", data, "--kl-weight", "-1", "--out", Path.Combine(Dir, "neg")], "--kl-weight must be a finite number ≥ 0, received -1"),
            (["train", "--model", "vae", "--dataset", data, "--kl-weight", "NaN", "--out", Path.Combine(Dir, "nan")], "received NaN"),
            (["train", "--model", "simple", "--dataset", data, "--kl-warmup", "3", "--out", Path.Combine(Dir, "w")], "apply to --model vae or conv-vae"),
            (["manifold", plain, "--grid", "1"], "--grid must be between 2 and 100"),
            (["generate", plain, "--n", "0"], "--n must be positive"),
        })
            CliTests.AssertUsageError(args, expected);
        Assert.False(Directory.Exists(Path.Combine(Dir, "neg")));
    }
}
