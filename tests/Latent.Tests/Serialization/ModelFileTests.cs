using System.Text;
using Latent.Data;
using Latent.Layers;
using Latent.Optimizers;
using Latent.Serialization;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Serialization;

public sealed class ModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Model Deep(string optimizer = "adadelta")
    {
        var input = Input.Create(20);
        var h = new Dense(8, "relu", activityRegularizer: Latent.Regularizers.L1(1e-4)).Apply(input);
        h = new Dropout(0.1).Apply(h);
        var a = new Dense(4, "tanh", kernelRegularizer: Latent.Regularizers.L2(1e-3)).Apply(h);
        var b = new Dense(4, "elu", useBias: false).Apply(h);
        var merged = new Add().Apply(a, b);
        var model = new Model(input, new Activation("sigmoid").Apply(new Dense(20).Apply(merged)));
        model.Compile(optimizer, "binary_crossentropy");
        return model;
    }

    [Fact]
    public void RoundTripIsBitExact()
    {
        Randomness.SetSeed(1);
        var model = Deep();
        Tensor x = Synthetic.LowRank(50, 20, 2, 1);
        model.Fit(x, x, epochs: 2, batchSize: 8, verbose: 0, seed: 1);
        string path = Path.Combine(_dir, "m.safetensors");
        model.Save(path, new Dictionary<string, string> { ["epoch"] = "2" });

        var loaded = Model.Load(path, out var meta);
        Assert.Equal("2", meta["epoch"]);
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        Assert.Equal(model.SummaryText(), loaded.SummaryText());
        Assert.Equal(model.Evaluate(x, x), loaded.Evaluate(x, x));
        Assert.IsType<Adadelta>(loaded.Optimizer);
    }

    [Fact]
    public void SavedOptimizerStateMakesTrainingContinueExactly()
    {
        Tensor x = Synthetic.LowRank(60, 20, 2, 2);
        Randomness.SetSeed(2);
        var straight = Deep("adam");
        straight.Fit(x, x, epochs: 4, batchSize: 8, verbose: 0, seed: 5);

        Randomness.SetSeed(2);
        var first = Deep("adam");
        first.Fit(x, x, epochs: 2, batchSize: 8, verbose: 0, seed: 5);
        string path = Path.Combine(_dir, "half.safetensors");
        first.Save(path);
        var resumed = Model.Load(path);
        Assert.Equal(first.Optimizer!.Iterations, resumed.Optimizer!.Iterations);
        resumed.Fit(x, x, epochs: 4, batchSize: 8, verbose: 0, seed: 5, initialEpoch: 2);

        var a = straight.GetWeights(); var b = resumed.GetWeights();
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public void FileIsPlainSafetensorsWithNamedWeights()
    {
        Randomness.SetSeed(3);
        var model = Deep();
        string path = Path.Combine(_dir, "plain.safetensors");
        model.Save(path);
        using var f = File.OpenRead(path);
        var (tensors, meta) = Safetensors.Read(f, path);
        var kernel = tensors.Single(t => t.Name == model.Layers[1].Name + "/kernel");
        Assert.Equal([20, 8], kernel.Shape);
        Assert.Equal(model.Layers[1].Weights[0].Values.ToArray(), kernel.Data);
        Assert.Contains("latent.architecture", meta.Keys);
        Assert.DoesNotContain(tensors, t => t.Name.StartsWith("optimizer/")); // never trained: no state yet
    }

    [Fact]
    public void FailedSaveLeavesThePreviousFileIntact()
    {
        string path = Path.Combine(_dir, "keep.safetensors");
        Randomness.SetSeed(4);
        Deep().Save(path);
        var before = File.ReadAllBytes(path);
        var input = Input.Create(3);
        var unsaveable = new Model(input, new Unsaveable().Apply(input));
        Assert.Throws<NotSupportedException>(() => unsaveable.Save(path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir)); // no temporary file left behind
    }

    private sealed class Unsaveable() : Layer(null)
    {
        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];
        protected internal override void Forward(NodeContext ctx) => ctx.Input(0).CopyTo(ctx.OutputValues);
        protected internal override void Backward(NodeContext ctx) { }
    }

    public static TheoryData<string, string> Corruptions() => new()
    {
        { "empty", "too short" },
        { "huge-header", "header length" },
        { "truncated", "" },
        { "bad-json", "malformed" },
        { "offsets-outside", "data_offsets" },
        { "unknown-layer", "unknown layer class 'Evil'" },
        { "wrong-shape", "has shape" },
        { "no-architecture", "no Latent architecture" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void CorruptFilesGiveAClearErrorNamingTheFile(string kind, string expected)
    {
        Randomness.SetSeed(5);
        string good = Path.Combine(_dir, "good.safetensors");
        Deep().Save(good);
        var bytes = File.ReadAllBytes(good);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        byte[] WithHeader(string h)
        {
            var hb = Encoding.UTF8.GetBytes(h);
            return [.. BitConverter.GetBytes((long)hb.Length), .. hb, .. bytes.AsSpan(8 + (int)headerLength)];
        }
        byte[] corrupt = kind switch
        {
            "empty" => [],
            "huge-header" => [.. BitConverter.GetBytes(long.MaxValue / 2), .. bytes.AsSpan(8)],
            "truncated" => bytes[..(bytes.Length / 2)],
            "bad-json" => WithHeader("{\"a\": [" + new string(' ', 10)),
            "offsets-outside" => WithHeader(ReplaceFirstOffsets(header)),
            "unknown-layer" => WithHeader(header.Replace("\\u0022class\\u0022:\\u0022Dense\\u0022", "\\u0022class\\u0022:\\u0022Evil\\u0022").Replace("\\\"class\\\":\\\"Dense\\\"", "\\\"class\\\":\\\"Evil\\\"")),
            "wrong-shape" => WithHeader(header.Replace("\"shape\":[20,8]", "\"shape\":[8,20]")),
            "no-architecture" => WithHeader(header.Replace("latent.architecture", "latent.somethingelse")),
            _ => throw new ArgumentException(kind),
        };
        string path = Path.Combine(_dir, kind + ".safetensors");
        File.WriteAllBytes(path, corrupt);
        var e = Assert.Throws<DataFormatException>(() => Model.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    private static string ReplaceFirstOffsets(string header)
    {
        int i = header.IndexOf("\"data_offsets\":[", StringComparison.Ordinal) + "\"data_offsets\":[".Length;
        int j = header.IndexOf(']', i);
        return header[..i] + "0,999999999" + header[j..];
    }

    [Fact]
    public void NamesWithTerminalControlCharactersAreRefusedAndShownEscaped()
    {
        Assert.Contains("\\u001B", Assert.Throws<ArgumentException>(() => new Latent.Layers.Dense(2, name: "a\u001b[2Jb")).Message);
        var input = Input.Create(3);
        Assert.Throws<ArgumentException>(() => new Model(input, new Latent.Layers.Dense(2).Apply(input), name: "m\u0007"));

        // A model file whose layer is named with escape sequences, as a hostile file would have it.
        var model = new Model(input, new Latent.Layers.Dense(2, name: "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX").Apply(input));
        string path = Path.Combine(Path.GetTempPath(), $"latent-evil-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var bytes = File.ReadAllBytes(path);
            // Same length: in the file the architecture is JSON inside a JSON string, so its escape \u001b is
            // written \\u001b there; decoded twice it is ESC.
            string evil = @"\\u001b]0;x\\u0007\\u001b[2J";
            evil += new string('Y', 38 - evil.Length);
            var text = System.Text.Encoding.Latin1.GetString(bytes).Replace(new string('X', 38), evil);
            File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(text));
            var e = Assert.Throws<Latent.Data.DataFormatException>(() => Model.Load(path));
            Assert.Contains("control characters", e.Message);
            Assert.Contains("\\u001B]0;x\\u0007", e.Message);
            Assert.False(e.Message.Any(char.IsControl), "a raw control character in the message");   // (xunit's string DoesNotContain is culture-aware: control characters are ignorable there)
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Rewrites a safetensors file's JSON header through <paramref name="edit"/> (its length field follows).</summary>
    private static void EditHeader(string path, Func<string, string> edit)
    {
        var bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        string header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)n);
        var edited = System.Text.Encoding.UTF8.GetBytes(edit(header));
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((long)edited.Length));
        f.Write(edited);
        f.Write(bytes, 8 + (int)n, bytes.Length - 8 - (int)n);
    }

    [Fact]
    public void AnArchitectureAskingForMoreWeightsThanTheFileHoldsIsRefusedCheaply()
    {
        var input = Input.Create(784);
        var model = new Model(input, new Latent.Layers.Dense(784, "sigmoid").Apply(new Latent.Layers.Dense(2, "relu").Apply(input)));
        string path = Path.Combine(Path.GetTempPath(), $"latent-big-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            // The architecture is JSON in a JSON string; its quotes are written \u0022 there.
            EditHeader(path, h => h.Replace(@"\u0022units\u0022:2,", @"\u0022units\u0022:1300000,"));
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<Latent.Data.DataFormatException>(() => Model.Load(path));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Contains("1,019,200,000 values, more than the file's tensors hold", e.Message);
            Assert.True(allocated < 64L << 20, $"{allocated:N0} bytes allocated before refusing");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
