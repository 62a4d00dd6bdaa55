using System.Text.Json;
using Latent.Layers;
using Latent.Losses;

namespace Latent.Tests.Parity;

/// <summary>
/// The variational autoencoder step by step against PyTorch with the same ε fed to both (Sampling's test hook):
/// 16 → 12 relu → (μ, log σ²) 2 → z → 12 relu → 16 sigmoid, summed BCE + KL, from fixed weights, dumped once by
/// bench/parity/make_vae_reference.py. All 200 steps' losses and KL terms must match to within 1e-4 relative.
/// </summary>
public class TorchVaeParityTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Parity", "torch_vae_reference.json"))).RootElement;

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [InlineData("rmsprop")]
    [InlineData("adam")]
    public void TwoHundredStepsMatchPyTorch(string optimizer)
    {
        int steps = Reference.GetProperty("steps").GetInt32(), batch = Reference.GetProperty("batch").GetInt32();
        int batches = Reference.GetProperty("batches").GetInt32(), d = Reference.GetProperty("features").GetInt32();
        int hidden = Reference.GetProperty("hidden").GetInt32(), latent = Reference.GetProperty("latent").GetInt32();
        var input = Input.Create(d);
        var h = new Dense(hidden, "relu").Apply(input);
        var sampling = new Sampling(1.0);
        var z = sampling.Apply(new Dense(latent).Apply(h), new Dense(latent).Apply(h));
        var model = new Model(input, new Dense(d, "sigmoid").Apply(new Dense(hidden, "relu").Apply(z)));
        var init = Reference.GetProperty("init");
        model.SetWeights(new[] { "h/kernel", "h/bias", "mean/kernel", "mean/bias", "logvar/kernel", "logvar/bias", "d1/kernel", "d1/bias", "d2/kernel", "d2/bias" }
                         .Select(k => Floats(init.GetProperty(k))).ToArray());
        model.Compile(optimizer == "adam" ? new Latent.Optimizers.Adam() : new Latent.Optimizers.RmsProp(),
                      new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
        var eps = Floats(Reference.GetProperty("eps"));
        int step = 0, calls = 0;
        sampling.EpsilonSource = (offset, e) =>
        {
            eps.AsSpan((step * batch + offset) * latent, e.Length).CopyTo(e);
            calls++;
        };
        var x = Floats(Reference.GetProperty("x"));
        var expected = Reference.GetProperty("cases").GetProperty(optimizer);
        var loss = expected.GetProperty("loss").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var kl = expected.GetProperty("kl").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (step = 0; step < steps; step++)
        {
            var xb = Tensor.FromArray(x.AsSpan(step % batches * batch * d, batch * d).ToArray(), batch, d);
            var g = model.ComputeGradients(xb, xb);
            Assert.True(Math.Abs(g.Loss - loss[step]) <= 1e-4 * Math.Abs(loss[step]), $"step {step + 1}: Latent {g.Loss:R}, PyTorch {loss[step]:R}");
            Assert.True(Math.Abs(g.AddedLoss - kl[step]) <= 1e-4 * Math.Abs(kl[step]) + 1e-6, $"step {step + 1}: KL Latent {g.AddedLoss:R}, PyTorch {kl[step]:R}");
            model.ApplyGradients();
        }
        Assert.Equal(steps, calls);
    }
}
