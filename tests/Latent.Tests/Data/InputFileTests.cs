using System.Diagnostics;
using Latent.Data;

namespace Latent.Tests.Data;

/// <summary>
/// Inputs that are not what they say: a named pipe where a file should be (which would block the reader for ever)
/// and an image whose header claims billions of pixels. Each gets one clear error, at once, before any allocation.
/// </summary>
public sealed class InputFileTests() : TestSupport.TempFolder("latent-input-")
{
    private string Fifo(string name)
    {
        string path = Path.Combine(Dir, name);
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return path;
    }

    [Fact]
    public async Task ANamedPipeIsRefusedNotWaitedOn()
    {
        if (OperatingSystem.IsWindows()) return;
        var readers = new (string Name, Action<string> Read)[]
        {
            ("data.npy", p => Npy.Read(p)),
            ("data.csv", p => Csv.Read(p)),
            ("data.parquet", p => ParquetTable.Read(p)),
            ("data.npz", p => Npz.Read(p)),
            ("model.safetensors", p => Model.Load(p)),
        };
        foreach (var (name, read) in readers)
        {
            string fifo = Fifo(name);
            var task = Task.Run(() => Assert.Throws<DataFormatException>(() => read(fifo)));
            Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20))));   // else the reader blocked on the FIFO
            Assert.Contains("named pipe (FIFO)", (await task).Message);
        }
        string folder = Path.Combine(Dir, "images");
        Directory.CreateDirectory(folder);
        File.Move(Fifo("x.png"), Path.Combine(folder, "x.png"));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(folder));
        Assert.Contains("named pipe (FIFO)", e.Message);
        var (exit, _, stderr) = Cli.CliTests.RunTool(["summary", Fifo("run")]);
        Assert.NotEqual(0, exit);
        Assert.DoesNotContain("   at ", stderr);
    }

    /// <summary>A PNG of a few hundred bytes whose header (valid CRCs) says it is <paramref name="width"/>×<paramref name="height"/>: one short compressed row, then the end.</summary>
    private static byte[] PngHeader(int width, int height)
    {
        var png = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
        static void BigEndian(List<byte> to, uint v) { to.Add((byte)(v >> 24)); to.Add((byte)(v >> 16)); to.Add((byte)(v >> 8)); to.Add((byte)v); }
        void Chunk(string type, byte[] data)
        {
            var body = new List<byte>(System.Text.Encoding.ASCII.GetBytes(type));
            body.AddRange(data);
            BigEndian(png, (uint)data.Length);
            png.AddRange(body);
            BigEndian(png, Crc32([.. body]));
        }
        var ihdr = new List<byte>();
        BigEndian(ihdr, (uint)width);
        BigEndian(ihdr, (uint)height);
        ihdr.AddRange([8, 0, 0, 0, 0]);   // 8-bit grayscale, deflate, no filter, no interlace
        Chunk("IHDR", [.. ihdr]);
        using var packed = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(packed, System.IO.Compression.CompressionLevel.Optimal)) z.Write(new byte[256]);
        Chunk("IDAT", packed.ToArray());
        Chunk("IEND", []);
        return [.. png];
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void AnImageClaimingBillionsOfPixelsIsRefusedBeforeDecoding()
    {
        string folder = Path.Combine(Dir, "huge");
        Directory.CreateDirectory(folder);
        string png = Path.Combine(folder, "huge.png");
        File.WriteAllBytes(png, PngHeader(100_000, 100_000));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Load(folder, 28, 28));
        Assert.Contains("100000×100000", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64 << 20, "allocated the image before refusing it");
        e = Assert.Throws<DataFormatException>(() => ImageFolder.LoadNative(folder));
        Assert.Contains("100000×100000", e.Message);
    }
}
