using System.Text.Json;
using Latent.Layers;

namespace Latent.Tests.Parity;

/// <summary>
/// The image layers step by step against PyTorch: a small convolutional autoencoder (stride-1 and stride-2 "same"
/// convolutions, max pooling, a stride-2 transposed convolution, up-sampling, a sigmoid output under binary
/// cross-entropy) from fixed weights on fixed batches, dumped once by bench/parity/make_conv_reference.py. Every
/// one of the 20 steps must match to within 1e-4 relative.
/// </summary>
public class TorchConvParityTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Parity", "torch_conv_reference.json"))).RootElement;

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [InlineData("sgd")]
    [InlineData("adadelta")]
    [InlineData("adam")]
    public void EveryStepMatchesPyTorch(string optimizer)
    {
        int s = Reference.GetProperty("size").GetInt32(), steps = Reference.GetProperty("steps").GetInt32(), batch = Reference.GetProperty("batch").GetInt32();
        var input = Input.Create(s, s, 1);
        var h = new Conv2D(4, (3, 3), padding: "same", activation: "relu").Apply(input);
        h = new MaxPooling2D((2, 2)).Apply(h);
        h = new Conv2D(6, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(h);
        h = new Conv2DTranspose(4, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(h);
        h = new UpSampling2D((2, 2)).Apply(h);
        var model = new Model(input, new Conv2D(1, (3, 3), padding: "same", activation: "sigmoid").Apply(h));
        var init = Reference.GetProperty("init");
        model.SetWeights(new[] { "c1/kernel", "c1/bias", "c2/kernel", "c2/bias", "t3/kernel", "t3/bias", "c4/kernel", "c4/bias" }
                         .Select(k => Floats(init.GetProperty(k))).ToArray());
        model.Compile(optimizer switch
        {
            "sgd" => new Latent.Optimizers.Sgd(0.5, momentum: 0.9, nesterov: true),
            "adadelta" => new Latent.Optimizers.Adadelta(1.0),
            _ => new Latent.Optimizers.Adam(0.001),
        }, "binary_crossentropy");
        var x = Floats(Reference.GetProperty("x"));
        var expected = Reference.GetProperty("losses").GetProperty(optimizer).EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(steps, expected.Length);
        int size = s * s;
        for (int step = 0; step < steps; step++)
        {
            var xb = Tensor.FromArray(x.AsSpan(step * batch * size, batch * size).ToArray(), batch, s, s, 1);
            double actual = model.TrainOnBatch(xb, xb);
            Assert.True(Math.Abs(actual - expected[step]) <= 1e-4 * Math.Abs(expected[step]),
                $"step {step + 1}: Latent {actual:R}, PyTorch {expected[step]:R}");
        }
    }
}
