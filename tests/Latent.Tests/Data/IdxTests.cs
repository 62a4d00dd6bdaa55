using System.Buffers.Binary;
using System.IO.Compression;
using Latent.Data;

namespace Latent.Tests.Data;

public sealed class IdxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] Idx(int[] shape, byte[] data, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * shape.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)shape.Length;
        for (int d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        data.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void ReadsRawAndGzip()
    {
        var data = Enumerable.Range(0, 24).Select(i => (byte)i).ToArray();
        var raw = Latent.Data.Idx.Read(Write("a", Idx([2, 3, 4], data)));
        Assert.Equal([2, 3, 4], raw.Shape);
        Assert.Equal(data, raw.Data);
        var gz = Latent.Data.Idx.Read(Write("a.gz", Gzip(Idx([2, 3, 4], data))));
        Assert.Equal(data, gz.Data);
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { "bad-magic", "magic bytes" },
        { "float-type", "0x0D is not supported" },
        { "zero-dim", "dimension 1 is 0" },
        { "truncated", "truncated: the IDX header (shape (2, 3)) claims 6 bytes but the file holds only 4" },
        { "trailing", "trailing data" },
        { "forged-huge", "truncated" },
        { "forged-overflow", "more bytes than one array can hold" },
        { "empty", "too short" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesNameTheFileAndTheProblem(string kind, string expected)
    {
        byte[] bytes = kind switch
        {
            "bad-magic" => [0x50, 0x4B, 8, 1, 0, 0, 0, 1, 7],
            "float-type" => Idx([1], [0, 0, 0, 0], type: 0x0D),
            "zero-dim" => Idx([2, 0], []),
            "truncated" => Idx([2, 3], [1, 2, 3, 4]),
            "trailing" => Idx([2], [1, 2, 3]),
            "forged-huge" => Idx([60000, 28, 28], [1, 2, 3]),        // claims 47 MB, holds 3 bytes
            "forged-overflow" => Idx([int.MaxValue, int.MaxValue], []),
            "empty" => [],
            _ => throw new ArgumentException(kind),
        };
        string path = Write(kind, kind == "forged-huge" ? Gzip(bytes) : bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => Latent.Data.Idx.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.True(allocated < 40 << 20, $"a forged header made the reader allocate {allocated:N0} bytes");
    }

    [Fact]
    public void CompressedBombsAreRefusedFromTheirHeadersWithinTheBudget()
    {
        string dir = Directory.CreateTempSubdirectory("latent-bomb-").FullName;
        try
        {
            // gzip IDX: a header claiming 100,000 × 1,000 bytes, and that many zeros (≈100 KB compressed).
            string idx = Path.Combine(dir, "bomb-idx3-ubyte.gz");
            using (var f = File.Create(idx))
            using (var gz = new System.IO.Compression.GZipStream(f, System.IO.Compression.CompressionLevel.SmallestSize))
            {
                gz.Write([0, 0, 8, 2, 0, 1, 0x86, 0xA0, 0, 0, 0x03, 0xE8]);
                var zeros = new byte[1 << 20];
                for (int i = 0; i < 100_000_000 / zeros.Length + 1; i++) gz.Write(zeros);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<Latent.Data.DataFormatException>(() => Latent.Data.Idx.Read(idx));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < new FileInfo(idx).Length + (64L << 20));
            Assert.Contains("100,000,000 bytes, more than a compressed file of its size may expand to", e.Message);

            // npz: one entry of 100 MB of zeros behind a valid .npy header.
            string npz = Path.Combine(dir, "bomb.npz");
            using (var f = File.Create(npz))
            using (var zip = new System.IO.Compression.ZipArchive(f, System.IO.Compression.ZipArchiveMode.Create))
            using (var entry = zip.CreateEntry("x.npy", System.IO.Compression.CompressionLevel.SmallestSize).Open())
            {
                var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (25000000,), }";
                header = header.PadRight(118 - 1) + "\n";
                entry.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0]);
                entry.Write(System.Text.Encoding.Latin1.GetBytes(header));
                var zeros = new byte[1 << 20];
                for (int i = 0; i < 100_000_000 / zeros.Length; i++) entry.Write(zeros);
                entry.Write(new byte[100_000_000 % zeros.Length]);
            }
            before = GC.GetAllocatedBytesForCurrentThread();
            var z = Assert.Throws<Latent.Data.DataFormatException>(() => Latent.Data.Npz.Read(npz));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < new FileInfo(npz).Length + (64L << 20));
            Assert.Contains("more than an archive of its size may expand to", z.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
