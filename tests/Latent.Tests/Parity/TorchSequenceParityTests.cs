using System.Text.Json;
using Latent.Layers;

namespace Latent.Tests.Parity;

/// <summary>
/// LSTM and GRU step by step against PyTorch's nn.LSTM and nn.GRU (weights mapped as bench/parity/make_sequence_reference.py
/// states): an LSTM sequence autoencoder with Adam and a backwards GRU with a per-step Dense under RMSprop, MSE, from fixed
/// weights. All 100 steps' losses must match to within 1e-4 relative, and the outputs after training to within 1e-4.
/// </summary>
public class TorchSequenceParityTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Parity", "torch_sequence_reference.json"))).RootElement;

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void HundredStepsMatchPyTorch(string name)
    {
        int steps = Reference.GetProperty("steps").GetInt32(), batch = Reference.GetProperty("batch").GetInt32();
        int batches = Reference.GetProperty("batches").GetInt32(), t = Reference.GetProperty("timesteps").GetInt32();
        int d = Reference.GetProperty("features").GetInt32(), h = Reference.GetProperty("units").GetInt32();
        var input = Input.Create(t, d);
        SymbolicTensor output = name == "lstm"
            ? new LSTM(d, returnSequences: true).Apply(new RepeatVector(t).Apply(new LSTM(h).Apply(input)))
            : new Dense(d).Apply(new GRU(h, returnSequences: true, goBackwards: true).Apply(input));
        var model = new Model(input, output);
        model.SetWeights(Reference.GetProperty("init").GetProperty(name).EnumerateArray().Select(Floats).ToArray());
        var expected = Reference.GetProperty("cases").GetProperty(name);
        model.Compile(expected.GetProperty("optimizer").GetString()!, "mse");
        var loss = expected.GetProperty("loss").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var x = Floats(Reference.GetProperty("x"));
        int size = t * d;
        for (int step = 0; step < steps; step++)
        {
            var xb = Tensor.FromArray(x.AsSpan(step % batches * batch * size, batch * size).ToArray(), batch, t, d);
            var g = model.ComputeGradients(xb, xb);
            Assert.True(Math.Abs(g.Loss - loss[step]) <= 1e-4 * Math.Abs(loss[step]), $"step {step + 1}: Latent {g.Loss:R}, PyTorch {loss[step]:R}");
            model.ApplyGradients();
        }
        var after = model.Predict(Tensor.FromArray(x.AsSpan(0, batch * size).ToArray(), batch, t, d)).Span.ToArray();
        var torch = Floats(expected.GetProperty("output_after"));
        for (int i = 0; i < torch.Length; i++)
            Assert.True(Math.Abs(after[i] - torch[i]) <= 1e-4, $"output[{i}]: Latent {after[i]}, PyTorch {torch[i]}");
    }
}
