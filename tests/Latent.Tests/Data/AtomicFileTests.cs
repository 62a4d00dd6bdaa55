using Latent.Data;

namespace Latent.Tests.Data;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AWriterThatFailsMidwayLeavesThePreviousFileAndNoTemporary()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        AtomicFile.WriteAllText(path, "version 1");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("disk full (simulated)");
        }));
        Assert.Contains("simulated", e.Message);
        Assert.Equal("version 1", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void WritesReplaceAndCreateFolders()
    {
        string path = Path.Combine(_dir, "a", "b", "x.png");
        AtomicFile.WriteVia(path, temp =>
        {
            Assert.EndsWith(".png", temp); // libraries that check extensions see the right one
            File.WriteAllText(temp, "one");
        });
        AtomicFile.Write(path, s => s.Write("two"u8));
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
