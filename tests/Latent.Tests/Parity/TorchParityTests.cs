using System.Text.Json;
using Latent.Layers;

namespace Latent.Tests.Parity;

/// <summary>
/// The CI-sized step-parity check: PyTorch's per-step losses for a 20-8-20 autoencoder from fixed weights on
/// fixed batches, for every optimizer and loss, dumped once by bench/parity/make_reference.py. Latent must
/// reproduce each of the 20 steps to within 1e-4 relative.
/// </summary>
public class TorchParityTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Parity", "torch_reference.json"))).RootElement;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var o in new[] { "sgd", "adagrad", "adadelta", "rmsprop", "adam" })
        foreach (var l in new[] { "binary_crossentropy", "mean_squared_error", "mean_absolute_error" })
            data.Add(o, l);
        return data;
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryStepMatchesPyTorch(string optimizer, string loss)
    {
        int f = Reference.GetProperty("features").GetInt32(), h = Reference.GetProperty("hidden").GetInt32();
        int steps = Reference.GetProperty("steps").GetInt32(), batch = Reference.GetProperty("batch").GetInt32();
        var input = Input.Create(f);
        var encoder = new Dense(h, "relu");
        var decoder = new Dense(f, "sigmoid");
        var model = new Model(input, decoder.Apply(encoder.Apply(input)));
        var init = Reference.GetProperty("init");
        model.SetWeights([Floats(init.GetProperty("encoder/kernel")), Floats(init.GetProperty("encoder/bias")),
                          Floats(init.GetProperty("decoder/kernel")), Floats(init.GetProperty("decoder/bias"))]);
        model.Compile(optimizer switch
        {
            "sgd" => new Latent.Optimizers.Sgd(0.5, momentum: 0.9, nesterov: true),
            "adagrad" => new Latent.Optimizers.Adagrad(0.01),
            "adadelta" => new Latent.Optimizers.Adadelta(1.0),
            "rmsprop" => new Latent.Optimizers.RmsProp(0.001),
            _ => new Latent.Optimizers.Adam(0.001),
        }, loss);
        var x = Floats(Reference.GetProperty("x"));
        var expected = Reference.GetProperty("losses").GetProperty($"{optimizer}-{loss}").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(steps, expected.Length);
        for (int s = 0; s < steps; s++)
        {
            var xb = Tensor.FromArray(x.AsSpan(s * batch * f, batch * f).ToArray(), batch, f);
            double actual = model.TrainOnBatch(xb, xb);
            Assert.True(Math.Abs(actual - expected[s]) <= 1e-4 * Math.Abs(expected[s]),
                $"step {s + 1}: Latent {actual:R}, PyTorch {expected[s]:R}");
        }
    }
}
