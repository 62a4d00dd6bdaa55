using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

public class ActivationAndDropoutTests
{
    [Theory]
    [MemberData(nameof(DenseGradientTests.ActivationNames), MemberType = typeof(DenseGradientTests))]
    public void ActivationLayerGradientsMatchFiniteDifferences(string activation)
    {
        // Inputs kept away from the kinks at 0 so central differences are valid.
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Activation(activation), [9], batch: 3, seed: 21,
            input: i => (i % 2 == 0 ? 1 : -1) * (0.1f + 0.37f * (i % 7))));
    }

    [Fact]
    public void DropoutGradientMatchesFiniteDifferencesInTraining()
    {
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Dropout(0.3), [20], batch: 4, seed: 2, training: true));
    }

    [Fact]
    public void DropoutDropsAboutRateAndScalesTheRest()
    {
        var layer = new Dropout(0.25);
        var output = layer.Apply(Input.Create(1000));
        var inBuf = new TensorBuffer([1000], 10, true);
        Array.Fill(inBuf.Value, 1f);
        var outBuf = new TensorBuffer([1000], 10, true);
        var ctx = new NodeContext([inBuf], [outBuf], [true], 1000, 10, 7) { Batch = 10, FullBatch = 10, Training = true };
        ctx.Random.BeginStep(0, 10);
        layer.Forward(ctx);
        var y = outBuf.Value;
        int zeros = y.Count(v => v == 0);
        Assert.InRange(zeros, 2300, 2700);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1 / 0.75f, v, 5));
        ctx.Training = false;
        layer.Forward(ctx);
        Assert.All(outBuf.Value, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void ActivationValuesMatchTheirFormulas()
    {
        float[] z = [-2f, -0.5f, 0.5f, 3f];
        double[] Expected(string name) => name switch
        {
            "relu" => z.Select(v => Math.Max(v, 0.0)).ToArray(),
            "sigmoid" => z.Select(v => 1 / (1 + Math.Exp(-v))).ToArray(),
            "tanh" => z.Select(v => Math.Tanh(v)).ToArray(),
            "leaky_relu" => z.Select(v => v > 0 ? v : 0.2 * v).ToArray(),
            "elu" => z.Select(v => v > 0 ? v : Math.Exp(v) - 1).ToArray(),
            "softplus" => z.Select(v => Math.Log(1 + Math.Exp(v))).ToArray(),
            "selu" => z.Select(v => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.Exp(v) - 1))).ToArray(),
            "softmax" => z.Select(v => Math.Exp(v) / z.Sum(u => Math.Exp(u))).ToArray(),
            _ => z.Select(v => (double)v).ToArray(),
        };
        foreach (var name in Latent.Activations.ActivationFunction.Names)
        {
            var f = Latent.Activations.ActivationFunction.Get(name);
            var y = new float[z.Length];
            f.Forward(z, y, z.Length);
            var e = Expected(name);
            for (int i = 0; i < z.Length; i++) Assert.True(Math.Abs(e[i] - y[i]) < 1e-5, $"{name}({z[i]}) = {y[i]}, expected {e[i]}");
        }
    }

    [Fact]
    public void ActivationsVectorPathMatchesScalarPathOnEveryTailLength()
    {
        // Lengths 0..40 cover every tail of 16- and 8-wide vectors; the scalar reference is the same op on one element.
        foreach (var name in Latent.Activations.ActivationFunction.Names.Where(n => n != "softmax"))
        {
            var f = Latent.Activations.ActivationFunction.Get(name);
            for (int n = 0; n <= 40; n++)
            {
                var z = Synthetic.Uniform(n, n, -4, 4);
                var y = new float[n];
                f.Forward(z, y, Math.Max(n, 1));
                for (int i = 0; i < n; i++)
                {
                    var one = new float[1];
                    f.Forward([z[i]], one, 1);
                    Assert.True(Math.Abs(one[0] - y[i]) <= 1e-5f * (1 + Math.Abs(one[0])), $"{name} n={n} i={i}: {y[i]} vs {one[0]}");
                }
            }
        }
    }
}
