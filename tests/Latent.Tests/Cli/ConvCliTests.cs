using Latent.Cli;
using Latent.Data;
using Latent.Tests.TestSupport;
using SkiaSharp;

namespace Latent.Tests.Cli;

/// <summary>The conv and denoise presets on a small folder of images, and 'latent denoise' on a user's images.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class ConvCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-conv-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A folder of <paramref name="count"/> blurry blobs of <paramref name="size"/>×<paramref name="size"/>.</summary>
    private string Images(string name, int count, int size, int? oddOneSize = null)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        var rng = new Random(count + size);
        for (int n = 0; n < count; n++)
        {
            int s = n == count - 1 && oddOneSize is int odd ? odd : size;
            double cx = rng.NextDouble() * s, cy = rng.NextDouble() * s, r = s / 4.0;
            var pixels = new float[s * s];
            for (int y = 0; y < s; y++)
                for (int x = 0; x < s; x++) pixels[y * s + x] = (float)Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * r * r));
            ImageFolder.WritePng(Path.Combine(folder, $"img{n:D3}.png"), pixels, s, s, 1);
        }
        return folder;
    }

    private static TrainCommand.Options Options(string model, string dataset, string output, double? noise = null, int? imageSize = null) =>
        new(model, dataset, 1, 8, 4, null, null, 3, output, null, null, Noise: noise, ImageSize: imageSize);

    [Fact]
    public void DenoiseTrainsOnAFolderAndRestoresAUsersImages()
    {
        string folder = Images("blobs", 40, 16);
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, TrainCommand.Run(Options("denoise", folder, run, noise: 0.3)));
        foreach (var f in new[] { "model.safetensors", "history.csv", "loss.png", "reconstructions.png", "codes.png", "run.json" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.Contains("\"Noise\": 0.3", File.ReadAllText(Path.Combine(run, "run.json")));
        var psnr = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["test_psnr"]!;
        double noisyDb = (double)psnr["noisy"]!, restoredDb = (double)psnr["restored"]!;
        Assert.InRange(noisyDb, 5, 40);      // σ 0.3 noise, clipped: around 12 dB
        Assert.InRange(restoredDb, 1, 60);   // one short epoch: a number, not yet a better one
        using (var figure = SKBitmap.Decode(Path.Combine(run, "reconstructions.png")))
            Assert.True(figure.Height > 3 * 16 * 4, $"three rows of images expected (noisy, restored, clean), height {figure.Height}");

        string restored = Path.Combine(_dir, "restored");
        Assert.Equal(0, ModelCommands.Denoise(run, folder, restored));
        var outputs = Directory.GetFiles(restored).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(40, outputs.Length);
        using (var first = SKBitmap.Decode(outputs[0])) Assert.Equal((16, 16), (first.Width, first.Height));
        string one = Path.Combine(_dir, "one.png");
        Assert.Equal(0, ModelCommands.Denoise(run, Path.Combine(folder, "img000.png"), one));
        Assert.True(File.Exists(one));
        Assert.Equal(0, ModelCommands.Evaluate(run, null));
    }

    [Fact]
    public void ConvPresetTrainsOnTwentyEightPixelImages()
    {
        string folder = Images("digits", 24, 28);
        string run = Path.Combine(_dir, "conv");
        Assert.Equal(0, TrainCommand.Run(Options("conv", folder, run)));
        var (model, epochs) = new RunFolder(run).LoadModel();
        Assert.Equal(1, epochs);
        Assert.Equal([4, 4, 4], RunConfig.EncoderOf(model).Outputs[0].Shape);  // --code-size 4 filters in the code
    }

    [Fact]
    public void BadImageSettingsAreClearErrors()
    {
        string mixed = Images("mixed", 6, 16, oddOneSize: 20);
        var e = Assert.Throws<DataFormatException>(() => TrainCommand.Run(Options("denoise", mixed, Path.Combine(_dir, "m"))));
        Assert.Contains("different sizes", e.Message);
        Assert.Contains("img005.png is 20×20", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
        Assert.Equal(0, TrainCommand.Run(Options("denoise", mixed, Path.Combine(_dir, "m2"), imageSize: 12)));   // resized: fine
        Assert.Contains("--noise", Assert.Throws<ArgumentException>(() => TrainCommand.Run(Options("denoise", mixed, Path.Combine(_dir, "n"), noise: -1))).Message);
        Assert.Contains("apply to a folder of images", Assert.Throws<ArgumentException>(() => TrainCommand.Run(Options("simple", "mnist", Path.Combine(_dir, "s"), imageSize: 32))).Message, StringComparison.OrdinalIgnoreCase);
        var conv = Assert.Throws<ArgumentException>(() => TrainCommand.Run(Options("conv", Images("small", 6, 16), Path.Combine(_dir, "c"))));
        Assert.Contains("28×28", conv.Message);
        var notImages = Assert.Throws<ArgumentException>(() => ModelCommands.Denoise(CliRunWithDenseModel(), mixed, Path.Combine(_dir, "x.png")));
        Assert.Contains("not images", notImages.Message);
    }

    private string CliRunWithDenseModel()
    {
        string data = Path.Combine(_dir, "dense.npy");
        Npy.Write(data, Tensor.FromArray(Synthetic.Uniform(40 * 16, 1, 0, 1), 40, 16));
        string run = Path.Combine(_dir, "dense");
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options("simple", data, 1, 8, 4, null, null, 1, run, null, null)));
        return run;
    }
}
