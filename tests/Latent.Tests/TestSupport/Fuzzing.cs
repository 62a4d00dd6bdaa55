using System.Diagnostics;
using Latent.Data;
using Latent.Layers;
using Parquet.Schema;

namespace Latent.Tests.TestSupport;

/// <summary>
/// The mutation fuzzer shared by the test suite (a slice) and <c>Latent.Bench fuzz</c> (the long run): a valid file of
/// each format Latent reads, damaged many ways and read back. An outcome is "read", "refused" (a
/// <see cref="DataFormatException"/> naming the file), or unexpected (any other exception, a read over the time
/// limit, or an allocation over the file's size plus 64 MB).
/// </summary>
internal static class Fuzzing
{
    /// <summary>A format: its name, the file it is read from, a valid example, and its reader.</summary>
    public sealed record Format(string Name, string Extension, Func<string, string> WriteValid, Action<string> Read);

    /// <summary>What one format's run found.</summary>
    public sealed record Result(string Format, int Inputs, int Read, int Refused, List<string> Unexpected, long MaxAllocated, double MaxSeconds, double Seconds);

    /// <summary>Every file format of the library, each writing its valid example into a folder.</summary>
    public static IReadOnlyList<Format> LibraryFormats() =>
    [
        new("model", ".safetensors", dir =>
        {
            Randomness.SetSeed(1);
            var input = Input.Create(6);
            var model = new Model(input, new Dense(6, "sigmoid").Apply(new Dense(3, "relu", name: "code").Apply(input)));
            model.Compile("adam", "binary_crossentropy");
            var x = Tensor.FromArray(Synthetic.Uniform(24, 1, 0, 1), 4, 6);
            model.Fit(x, x, epochs: 1, batchSize: 4, verbose: 0);
            string path = Path.Combine(dir, "valid.safetensors");
            model.Save(path, new Dictionary<string, string> { ["note"] = "fuzz" });
            return path;
        }, p => Model.Load(p)),
        new("npy", ".npy", dir =>
        {
            string path = Path.Combine(dir, "valid.npy");
            Npy.Write(path, Tensor.FromArray(Synthetic.Uniform(60, 2), 5, 3, 4));
            return path;
        }, p => Npy.Read(p)),
        new("npz", ".npz", dir =>
        {
            string npy = Path.Combine(dir, "inner.npy"), npz = Path.Combine(dir, "valid.npz");
            Npy.Write(npy, Tensor.FromArray(Synthetic.Uniform(24, 4), 4, 6));
            using (var zip = System.IO.Compression.ZipFile.Open(npz, System.IO.Compression.ZipArchiveMode.Create))
                System.IO.Compression.ZipFileExtensions.CreateEntryFromFile(zip, npy, "x_train.npy", System.IO.Compression.CompressionLevel.Optimal);
            return npz;
        }, p => Npz.Read(p)),
        new("csv", ".csv", dir =>
        {
            string path = Path.Combine(dir, "valid.csv");
            File.WriteAllText(path, "a,b,\"c\"\n1,2,3\n4.5,-6,7e2\n8,9,10\n");
            return path;
        }, p => Csv.Read(p)),
        new("parquet", ".parquet", dir => ParquetFiles.Write(Path.Combine(dir, "valid.parquet"), 2,
            (new DataField<double>("x"), new[] { 1.0, 2, 3, 4 }), (new DataField<int>("n"), new[] { 5, 6, 7, 8 })), p => ParquetTable.Read(p)),
        new("idx", "-idx3-ubyte", dir =>
        {
            string path = Path.Combine(dir, "valid-idx3-ubyte");
            byte[] header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
            File.WriteAllBytes(path, [.. header, .. Enumerable.Range(0, 18).Select(i => (byte)(i * 13))]);
            return path;
        }, p => Idx.Read(p)),
        new("idx.gz", "-idx1-ubyte.gz", dir =>
        {
            string path = Path.Combine(dir, "valid-idx1-ubyte.gz");
            using (var gz = new System.IO.Compression.GZipStream(File.Create(path), System.IO.Compression.CompressionLevel.Optimal))
                gz.Write([0, 0, 8, 1, 0, 0, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
            return path;
        }, p => Idx.Read(p)),
        new("png", ".png", dir =>
        {
            string path = Path.Combine(dir, "valid.png");
            ImageFolder.WritePng(path, Synthetic.Uniform(8 * 8, 3, 0, 1), 8, 8, 1);
            return path;
        }, p => ImageFolder.LoadFiles([p], 8, 8)),
    ];

    /// <summary>One random damage to <paramref name="bytes"/>: bit flips, extreme bytes, truncation, a repeated slice, inserted bytes, or a digit or JSON mark.</summary>
    public static byte[] Mutate(byte[] bytes, Random rng)
    {
        var b = (byte[])bytes.Clone();
        int at = rng.Next(b.Length);
        switch (rng.Next(6))
        {
            case 0:
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1:
            {
                byte fill = rng.Next(3) switch { 0 => 0xFF, 1 => 0x00, _ => 0x7F };
                for (int k = 0; k < rng.Next(1, 9) && at + k < b.Length; k++) b[at + k] = fill;
                return b;
            }
            case 2:
                return b[..at];
            case 3:
            {
                int len = rng.Next(1, Math.Max(2, b.Length - at));
                return [.. b[..(at + len)], .. b[at..(at + len)], .. b[(at + len)..]];
            }
            case 4:
                return [.. b[..at], .. Enumerable.Range(0, rng.Next(1, 16)).Select(_ => (byte)rng.Next(256)), .. b[at..]];
            default:
                b[at] = (byte)"0123456789\",{}[]:-.e"[rng.Next(20)];
                return b;
        }
    }

    /// <summary>Reads <paramref name="inputs"/> damaged copies of <paramref name="format"/>'s valid file, written in <paramref name="dir"/>.</summary>
    /// <remarks>
    /// Allocation is measured on the reading thread unless <paramref name="allThreads"/>: a reader that hands the work
    /// to another thread (Parquet's, for its deadline) is measured only by the process's total, which is exact only
    /// when nothing else runs (the bench run, not the test suite).
    /// </remarks>
    public static Result Run(Format format, string dir, int inputs, int seed, double secondsLimit = 10, bool allThreads = false)
    {
        string valid = format.WriteValid(dir);
        format.Read(valid);
        var bytes = File.ReadAllBytes(valid);
        var rng = new Random(seed);
        string damaged = Path.Combine(dir, "damaged" + format.Extension);
        int read = 0, refused = 0;
        long maxAllocated = 0;
        double maxSeconds = 0;
        var unexpected = new List<string>();
        var total = Stopwatch.StartNew();
        for (int i = 0; i < inputs; i++)
        {
            var mutated = Mutate(bytes, rng);
            File.WriteAllBytes(damaged, mutated);
            // Each read runs on a pool thread with a deadline: a reader that never returns is reported (and its file
            // kept) instead of stopping the run; its thread cannot be stopped, so the format's run ends there.
            var read1 = Task.Run(() =>
            {
                long before = allThreads ? GC.GetTotalAllocatedBytes() : GC.GetAllocatedBytesForCurrentThread();
                var clock = Stopwatch.StartNew();
                Exception? error = null;
                try
                {
                    format.Read(damaged);
                }
                catch (Exception e)
                {
                    error = e;
                }
                long after = allThreads ? GC.GetTotalAllocatedBytes() : GC.GetAllocatedBytesForCurrentThread();
                return (Error: error, Allocated: after - before, Seconds: clock.Elapsed.TotalSeconds);
            });
            if (!read1.Wait(TimeSpan.FromSeconds(secondsLimit * 3)))
            {
                string kept = Path.Combine(dir, $"hang{format.Extension}");
                File.WriteAllBytes(kept, mutated);
                unexpected.Add($"{format.Name} input {i} (kept as {kept}): no answer after {secondsLimit * 3} s");
                break;
            }
            var (error, allocated, seconds) = read1.Result;
            switch (error)
            {
                case null:
                    read++;
                    break;
                // A refusal by a reader's deadline is a hang the reader survived: counted as one.
                case DataFormatException e when e.Message.Contains(Path.GetFileName(damaged), StringComparison.Ordinal)
                                                && !e.Message.Contains("did not finish reading", StringComparison.Ordinal):
                    refused++;
                    break;
                default:
                    string keep = Path.Combine(dir, $"unexpected-{unexpected.Count}{format.Extension}");
                    File.WriteAllBytes(keep, mutated);
                    unexpected.Add($"{format.Name} input {i} (kept as {keep}): {error.GetType().Name}: {error.Message}");
                    break;
            }
            maxAllocated = Math.Max(maxAllocated, allocated);
            maxSeconds = Math.Max(maxSeconds, seconds);
            string? over = allocated > (64L << 20) + mutated.Length ? $"{allocated:N0} bytes allocated for a {mutated.Length}-byte file"
                : seconds > secondsLimit ? $"{seconds:F1} s" : null;
            if (over is not null)
            {
                string keep = Path.Combine(dir, $"unexpected-{unexpected.Count}{format.Extension}");
                File.WriteAllBytes(keep, mutated);
                unexpected.Add($"{format.Name} input {i} (kept as {keep}): {over}");
            }
        }
        return new Result(format.Name, inputs, read, refused, unexpected, maxAllocated, maxSeconds, total.Elapsed.TotalSeconds);
    }
}
