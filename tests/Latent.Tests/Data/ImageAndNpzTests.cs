using System.IO.Compression;
using Latent.Data;
using Latent.Datasets;
using SkiaSharp;

namespace Latent.Tests.Data;

public sealed class ImageAndNpzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-img-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Png(string name, int w, int h, SKColor color)
    {
        using var bmp = new SKBitmap(w, h);
        bmp.Erase(color);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(_dir, name), data.ToArray());
    }

    [Fact]
    public void FolderOfImagesIsResizedGrayscaleInNameOrder()
    {
        Png("b.png", 10, 10, new SKColor(255, 255, 255));
        Png("a.png", 40, 20, new SKColor(255, 0, 0));
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "ignored");
        var t = ImageFolder.Load(_dir, 4, 3);
        Assert.Equal([2, 12], t.Shape);
        Assert.All(t.Row(0).ToArray(), v => Assert.Equal(0.299f, v, 2)); // a.png: pure red -> luma 0.299
        Assert.All(t.Row(1).ToArray(), v => Assert.Equal(1f, v, 3));
        var rgb = ImageFolder.Load(_dir, 2, 2, rgb: true);
        Assert.Equal([2, 12], rgb.Shape);
        Assert.Equal([1f, 0, 0], rgb.Row(0)[..3].ToArray());
    }

    [Fact]
    public void UndecodableImageNamesTheFile()
    {
        Png("good.png", 5, 5, SKColors.Gray);
        File.WriteAllBytes(Path.Combine(_dir, "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(_dir));
        Assert.Contains("broken.png", e.Message);
        Assert.Contains("not an image SkiaSharp can decode", e.Message);
    }

    [Fact]
    public void EmptyFolderIsAClearError()
    {
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(_dir));
        Assert.Contains("no .png", e.Message);
    }

    private string Npz(params (string Name, Tensor T)[] arrays)
    {
        string path = Path.Combine(_dir, "mnist.npz");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, t) in arrays)
        {
            string tmp = Path.Combine(_dir, name + ".npy");
            Npy.Write(tmp, t);
            zip.CreateEntryFromFile(tmp, name + ".npy", CompressionLevel.NoCompression);   // stored: the archive holds what it expands to
        }
        return path;
    }

    [Fact]
    public void NpzArraysAreRead()
    {
        var path = Npz(("x", Tensor.FromArray([1, 2, 3, 4], 2, 2)), ("y", Tensor.FromArray([5f], 1)));
        var arrays = Latent.Data.Npz.Read(path);
        Assert.Equal([1f, 2, 3, 4], arrays["x"].ToArray());
        Assert.Equal([5f], arrays["y"].ToArray());
    }

    [Fact]
    public void MnistNpzIsCheckedAgainstTheOriginalContent()
    {
        var wrongShape = Npz(("x_train", new Tensor(10, 28, 28)), ("y_train", new Tensor(10)), ("x_test", new Tensor(10, 28, 28)), ("y_test", new Tensor(10)));
        Assert.Contains("MNIST's is (60000, 28, 28)", Assert.Throws<DataFormatException>(() => Mnist.LoadNpz(wrongShape)).Message);
        File.Delete(wrongShape);
        var zeros = Npz(("x_train", new Tensor(60000, 28, 28)), ("y_train", new Tensor(60000)), ("x_test", new Tensor(10000, 28, 28)), ("y_test", new Tensor(10000)));
        Assert.Contains("'x_train' differs from MNIST", Assert.Throws<DataFormatException>(() => Mnist.LoadNpz(zeros)).Message);
        File.WriteAllText(Path.Combine(_dir, "not.npz"), "plain text");
        Assert.Contains("not a readable .npz", Assert.Throws<DataFormatException>(() => Latent.Data.Npz.Read(Path.Combine(_dir, "not.npz"))).Message);
    }
}
