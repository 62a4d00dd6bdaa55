using System.Diagnostics;
using Latent.Data;
using Latent.Layers;
using Parquet.Schema;

namespace Latent.Tests.Data;

/// <summary>
/// A seeded mutation fuzzer over every file format Latent reads: a valid file of each kind is damaged in many ways
/// (bit flips, bytes overwritten with extreme values, truncation, cut-and-repeat, inserted runs) and read back. Every
/// outcome must be the file read or one clear <see cref="DataFormatException"/> (the message naming the file):
/// never another exception type, a hang, or a large allocation from a small file.
/// </summary>
public sealed class MutationFuzzTests() : TestSupport.TempFolder("latent-fuzz-")
{
    private const int Mutations = 150;

    private string ValidModel()
    {
        Randomness.SetSeed(1);
        var input = Input.Create(6);
        var model = new Model(input, new Dense(6, "sigmoid").Apply(new Dense(3, "relu", name: "code").Apply(input)));
        model.Compile("adam", "binary_crossentropy");
        model.Fit(Tensor.FromArray(TestSupport.Synthetic.Uniform(24, 1, 0, 1), 4, 6), Tensor.FromArray(TestSupport.Synthetic.Uniform(24, 1, 0, 1), 4, 6),
                  epochs: 1, batchSize: 4, verbose: 0);
        string path = Path.Combine(Dir, "valid.safetensors");
        model.Save(path, new Dictionary<string, string> { ["note"] = "fuzz" });
        return path;
    }

    private string ValidNpy()
    {
        string path = Path.Combine(Dir, "valid.npy");
        Npy.Write(path, Tensor.FromArray(TestSupport.Synthetic.Uniform(60, 2), 5, 3, 4));
        return path;
    }

    private string ValidCsv()
    {
        string path = Path.Combine(Dir, "valid.csv");
        File.WriteAllText(path, "a,b,\"c\"\n1,2,3\n4.5,-6,7e2\n8,9,10\n");
        return path;
    }

    private string ValidParquet() =>
        ParquetTableTests.Write(Path.Combine(Dir, "valid.parquet"), 2,
            (new DataField<double>("x"), new[] { 1.0, 2, 3, 4 }), (new DataField<int>("n"), new[] { 5, 6, 7, 8 }));

    private string ValidIdx()
    {
        string path = Path.Combine(Dir, "valid-idx3-ubyte");
        byte[] header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
        File.WriteAllBytes(path, [.. header, .. Enumerable.Range(0, 18).Select(i => (byte)(i * 13))]);
        return path;
    }

    /// <summary>One random damage to <paramref name="bytes"/>.</summary>
    private static byte[] Mutate(byte[] bytes, Random rng)
    {
        var b = (byte[])bytes.Clone();
        int at = rng.Next(b.Length);
        switch (rng.Next(6))
        {
            case 0:   // a few bit flips
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1:   // extreme values over 1-8 bytes (sizes, offsets, counts, exponents)
            {
                byte fill = rng.Next(3) switch { 0 => 0xFF, 1 => 0x00, _ => 0x7F };
                for (int k = 0; k < rng.Next(1, 9) && at + k < b.Length; k++) b[at + k] = fill;
                return b;
            }
            case 2:   // truncated
                return b[..at];
            case 3:   // a slice repeated
            {
                int len = rng.Next(1, Math.Max(2, b.Length - at));
                return [.. b[..(at + len)], .. b[at..(at + len)], .. b[(at + len)..]];
            }
            case 4:   // random bytes inserted
                return [.. b[..at], .. Enumerable.Range(0, rng.Next(1, 16)).Select(_ => (byte)rng.Next(256)), .. b[at..]];
            default:  // a digit or quote swapped in (text formats and JSON headers)
                b[at] = (byte)"0123456789\",{}[]:-.e"[rng.Next(20)];
                return b;
        }
    }

    private void Fuzz(string valid, Action<string> read, int seed)
    {
        read(valid);   // the undamaged file reads
        var bytes = File.ReadAllBytes(valid);
        var rng = new Random(seed);
        string damaged = Path.Combine(Dir, "damaged" + Path.GetExtension(valid));
        int refused = 0;
        for (int i = 0; i < Mutations; i++)
        {
            var mutated = Mutate(bytes, rng);
            File.WriteAllBytes(damaged, mutated);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            try
            {
                read(damaged);
            }
            catch (DataFormatException e)
            {
                Assert.Contains(Path.GetFileName(damaged), e.Message);
                refused++;
            }
            catch (Exception e)
            {
                File.WriteAllBytes(Path.Combine(Dir, $"failing-{i}{Path.GetExtension(valid)}"), mutated);
                Assert.Fail($"{Path.GetFileName(valid)}, mutation {i}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < (64L << 20) + 1000L * mutated.Length, $"{Path.GetFileName(valid)}, mutation {i}: {allocated:N0} bytes allocated for a {mutated.Length}-byte file");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{Path.GetFileName(valid)}, mutation {i}: {clock.Elapsed.TotalSeconds:F1} s");
        }
        Assert.True(refused >= Mutations / 4, $"{Path.GetFileName(valid)}: only {refused} of {Mutations} damaged files were refused; the mutations miss the format");
    }

    [Fact]
    public void ModelFiles() => Fuzz(ValidModel(), p => Model.Load(p), 11);

    [Fact]
    public void NpyFiles() => Fuzz(ValidNpy(), p => Npy.Read(p), 12);

    [Fact]
    public void CsvFiles() => Fuzz(ValidCsv(), p => Csv.Read(p), 13);

    [Fact]
    public void ParquetFiles() => Fuzz(ValidParquet(), p => ParquetTable.Read(p), 14);

    [Fact]
    public void IdxFiles() => Fuzz(ValidIdx(), p => Idx.Read(p), 15);

    [Fact]
    public void PngImages()
    {
        string folder = Path.Combine(Dir, "images");
        Directory.CreateDirectory(folder);
        string png = Path.Combine(folder, "valid.png");
        ImageFolder.WritePng(png, TestSupport.Synthetic.Uniform(8 * 8, 3, 0, 1), 8, 8, 1);
        Fuzz(png, p => ImageFolder.LoadFiles([p], 8, 8), 16);
    }

    [Fact]
    public void NpzArchives()
    {
        string npy = ValidNpy(), npz = Path.Combine(Dir, "valid.npz");
        using (var zip = System.IO.Compression.ZipFile.Open(npz, System.IO.Compression.ZipArchiveMode.Create))
            System.IO.Compression.ZipFileExtensions.CreateEntryFromFile(zip, npy, "x_train.npy", System.IO.Compression.CompressionLevel.NoCompression);
        Fuzz(npz, p => Npz.Read(p), 17);
    }

    [Fact]
    public void RunConfigurations()
    {
        string run = Path.Combine(Dir, "run");
        Directory.CreateDirectory(run);
        var config = Latent.Cli.RunConfig.Preset("simple") with { Dataset = "table.csv", FeatureMin = [0, 1], FeatureMax = [2, 3] };
        File.WriteAllText(Path.Combine(run, "run.json"),
            System.Text.Json.JsonSerializer.Serialize(new { config }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        Fuzz(Path.Combine(run, "run.json"), p =>
        {
            string folder = Path.Combine(Dir, "run-copy");
            Directory.CreateDirectory(folder);
            File.Copy(p, Path.Combine(folder, "run.json"), overwrite: true);
            try
            {
                var read = Latent.Cli.RunFolder.ReadConfig(folder);
                read.CreateScaler();
                _ = read.ScalingKind;
            }
            catch (DataFormatException e)
            {
                throw new DataFormatException(p, e.Message);   // named after the damaged file, as the fuzzer checks
            }
        }, 18);
    }
}
