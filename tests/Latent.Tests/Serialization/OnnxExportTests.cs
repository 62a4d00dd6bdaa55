using Latent.Layers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Latent.Tests.Serialization;

/// <summary>Every layer exported to ONNX, loaded in ONNX Runtime and compared with Predict (1e-5), with a dynamic batch.</summary>
public class OnnxExportTests
{
    private static float[] Random(int n, int seed, float lo = 0, float hi = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * (float)rng.NextDouble()).ToArray();
    }

    private static void AssertSameAsPredict(Model model, int seed, params int[] batches) => AssertAllOutputsSameAsPredict(model, seed, 0, batches);

    /// <summary>
    /// Exports <paramref name="model"/> (one input), loads it in ONNX Runtime, and compares every output with PredictAll
    /// (1e-5) for each batch size, on inputs drawn from [<paramref name="low"/>, 1).
    /// </summary>
    private static void AssertAllOutputsSameAsPredict(Model model, int seed, float low, params int[] batches)
    {
        string path = Path.Combine(Path.GetTempPath(), $"latent-{Guid.NewGuid():N}.onnx");
        try
        {
            model.ExportOnnx(path);
            using var session = new InferenceSession(path);
            Assert.Equal(model.Inputs[0].Layer.Name, session.InputMetadata.Keys.Single());
            Assert.Equal(-1, session.InputMetadata.Values.Single().Dimensions[0]);   // dynamic batch
            foreach (int batch in batches)
            {
                int[] shape = [batch, .. model.Inputs[0].Shape];
                var x = Random(shape.Aggregate(1, (a, b) => a * b), seed + batch, low, 1);
                var expected = model.PredictAll([Tensor.FromArray(x, shape)]);
                using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), new DenseTensor<float>(x, shape))]);
                var byName = results.ToDictionary(r => r.Name, r => r.AsEnumerable<float>().ToArray());
                for (int j = 0; j < expected.Count; j++)
                {
                    var actual = byName[expected.Count == 1 ? "output" : $"output_{j}"];
                    var e = expected[j].Span.ToArray();
                    Assert.Equal(e.Length, actual.Length);
                    for (int i = 0; i < e.Length; i++)
                        Assert.True(Math.Abs(e[i] - actual[i]) <= 1e-5 + 1e-5 * Math.Abs(e[i]),
                                    $"{model.Name}, output {j}, batch {batch}, value {i}: Predict {e[i]}, ONNX Runtime {actual[i]}");
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    [InlineData("softmax")]
    [InlineData("leaky_relu")]
    [InlineData("elu")]
    [InlineData("selu")]
    [InlineData("softplus")]
    [InlineData("linear")]
    public void DenseModelsWithEveryActivation(string activation)
    {
        Randomness.SetSeed(1);
        var input = Input.Create(12);
        var h = new Dense(7, activation).Apply(input);
        h = new Dropout(0.3).Apply(h);
        var a = new Dense(7).Apply(h);
        h = new Add().Apply(h, a);
        h = new Activation("tanh").Apply(h);
        var model = new Model(input, new Dense(5, "sigmoid").Apply(h), name: $"dense_{activation}");
        AssertSameAsPredict(model, 1, 1, 3, 8);
    }

    [Fact]
    public void AModelWithASharedLayer()
    {
        Randomness.SetSeed(4);
        var input = Input.Create(6);
        var shared = new Dense(6, "tanh");
        var h = shared.Apply(shared.Apply(input));          // the same weights twice
        var model = new Model(input, new Add().Apply(h, shared.Apply(input)), name: "shared");
        AssertSameAsPredict(model, 4, 2, 7);
    }

    [Fact]
    public void ConvolutionalModelsWithEveryImageLayer()
    {
        Randomness.SetSeed(2);
        var input = Input.Create(12, 12, 2);
        var x = new GaussianNoise(0.1).Apply(input);
        x = new Conv2D(4, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(x);      // 6×6×4
        x = new BatchNormalization().Apply(x);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);                                      // 3×3×4
        x = new ZeroPadding2D(1).Apply(x);                                                            // 5×5×4
        x = new Conv2D(5, (3, 3), activation: "relu").Apply(x);                                       // valid: 3×3×5
        x = new Flatten().Apply(x);
        x = new Dense(16, "relu").Apply(x);
        x = new Reshape([2, 2, 4]).Apply(x);
        x = new Conv2DTranspose(4, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(x);   // 4×4×4
        x = new Conv2DTranspose(3, (2, 2), strides: (3, 3), padding: "valid").Apply(x);             // k < s: 12×12×3
        x = new UpSampling2D((2, 2)).Apply(x);                                                        // 24×24×3
        x = new Cropping2D(6).Apply(x);                                                               // 12×12×3
        x = new MaxPooling2D((3, 3), strides: (2, 2)).Apply(x);                                       // valid: 5×5×3
        var model = new Model(input, new Conv2D(2, (3, 3), padding: "same", activation: "sigmoid").Apply(x), name: "conv");
        // Make the batch normalization's moving statistics non-trivial.
        var xs = Tensor.FromArray(Random(16 * 12 * 12 * 2, 3), 16, 12, 12, 2);
        model.Compile("adam", "mse");
        model.Fit(xs, model.Predict(xs), epochs: 2, batchSize: 8, verbose: 0);
        AssertSameAsPredict(model, 2, 1, 4);
    }

    [Fact]
    public void TheBlogsModelsAndTheirParts()
    {
        Randomness.SetSeed(3);
        var vae = Latent.Models.VariationalAutoencoder.Convolutional(latent: 3);
        AssertSameAsPredict(vae.Generator, 3, 2);
        var meanEncoder = new Model(vae.Model.Inputs[0], vae.Encoder.Outputs[0], name: "encoder");
        AssertSameAsPredict(meanEncoder, 3, 2);
        var dense = Latent.Models.VariationalAutoencoder.Dense(latent: 2);
        AssertSameAsPredict(dense.Generator, 4, 5);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void RecurrentLayersWithTheirOptions(bool sequences, bool backwards)
    {
        Randomness.SetSeed(61);
        var input = Input.Create(6, 5);
        var lstm = new LSTM(7, returnSequences: sequences, goBackwards: backwards, returnState: true).ApplyAll(input);
        var gru = new GRU(4, returnSequences: sequences, goBackwards: backwards, returnState: true).ApplyAll(input);
        var relu = new LSTM(3, activation: "relu", returnSequences: sequences).Apply(input);
        var model = new Model([input], [.. lstm, .. gru, relu], name: "recurrent");
        foreach (var w in model.Weights.Where(w => w.Name.EndsWith("bias", StringComparison.Ordinal)))
            Random(w.Length, 62, -0.5f, 0.5f).CopyTo(w.Values);
        AssertAllOutputsSameAsPredict(model, 63, -1, 1, 4);
    }

    [Fact]
    public void TheSequenceAutoencoderAndTheSequenceWrappers()
    {
        Randomness.SetSeed(64);
        var input = Input.Create(5, 3);
        var code = new Bidirectional(new LSTM(4), mergeMode: "ave").Apply(input);
        var seq = new LSTM(6, returnSequences: true).Apply(new RepeatVector(5).Apply(code));
        var both = new Bidirectional(new GRU(3, returnSequences: true), mergeMode: null).ApplyAll(seq);
        var concat = new Bidirectional(new GRU(2, returnSequences: true)).Apply(seq);
        var mul = new Bidirectional(new LSTM(2, returnState: true), mergeMode: "mul").ApplyAll(seq);
        var dense = new TimeDistributed(new Dense(3, "sigmoid")).Apply(concat);
        var model = new Model([input], [dense, .. both, .. mul], name: "wrappers");
        AssertAllOutputsSameAsPredict(model, 65, -1, 1, 3);

        var clip = Input.Create(3, 6, 6, 1);
        var frames = new TimeDistributed(new Conv2D(2, (3, 3), activation: "relu", padding: "same")).Apply(clip);
        frames = new TimeDistributed(new MaxPooling2D((2, 2))).Apply(frames);
        var video = new Model(clip, new LSTM(4).Apply(new TimeDistributed(new Flatten()).Apply(frames)), name: "video");
        AssertSameAsPredict(video, 66, 1, 2);
    }

    [Fact]
    public void MasksAreRefusedWithAReason()
    {
        var input = Input.Create(4, 2);
        var model = new Model(input, new LSTM(3).Apply(new Masking(0).Apply(input)));
        var e = Assert.Throws<NotSupportedException>(() => model.ExportOnnx(Path.Combine(Path.GetTempPath(), "never.onnx")));
        Assert.Contains("does not carry masks", e.Message);
    }

    [Fact]
    public void AnUnknownLayerIsNamed()
    {
        var input = Input.Create(3);
        var model = new Model(input, new ExternalLayerProbe().Apply(input));
        var e = Assert.Throws<NotSupportedException>(() => model.ExportOnnx(Path.Combine(Path.GetTempPath(), "never.onnx")));
        Assert.Contains("ExternalLayerProbe", e.Message);
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "never.onnx")));
    }

    /// <summary>A layer ONNX export does not know: the identity, written outside the library.</summary>
    private sealed class ExternalLayerProbe() : Layer(null)
    {
        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];
        protected internal override void Forward(NodeContext ctx) => ctx.Input(0).CopyTo(ctx.OutputValues);
        protected internal override void Backward(NodeContext ctx) { }
    }
}
