using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

public class DenseGradientTests
{
    public static TheoryData<string> ActivationNames() =>
        new(["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "softplus", "selu"]);

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void DenseGradientsMatchFiniteDifferences(string activation)
    {
        Randomness.SetSeed(3);
        var layer = new Dense(7, activation);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(layer, [5], batch: 4, seed: 11));
    }

    [Fact]
    public void DenseOnRank3InputActsOnTheLastAxis()
    {
        Randomness.SetSeed(4);
        var layer = new Dense(3, "tanh");
        GradientChecker.AssertAll(GradientChecker.CheckLayer(layer, [2, 4], batch: 3, seed: 5));
    }

    [Fact]
    public void DenseWithoutBiasHasOnlyAKernel()
    {
        var layer = new Dense(3, useBias: false);
        layer.Apply(Input.Create(4));
        Assert.Single(layer.Weights);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Dense(3, "sigmoid", useBias: false), [4], 2, 6));
    }

    [Fact]
    public void ForwardIsXTimesWPlusBThroughTheActivation()
    {
        var layer = new Dense(2, "relu");
        var input = Input.Create(3);
        var output = layer.Apply(input);
        float[] w = [1, -1, 2, 0, -3, 1]; // (3, 2)
        w.CopyTo(layer.Kernel!.Values);
        float[] b = [0.5f, -0.5f];
        b.CopyTo(layer.Bias!.Values);
        var model = new Model(input, output);
        var y = model.Predict(Tensor.FromArray(new float[] { 1, 2, 3 }, 1, 3));
        // z = [1 + 4 - 9 + 0.5, -1 + 0 + 3 - 0.5] = [-3.5, 1.5] -> relu -> [0, 1.5]
        Assert.Equal([0f, 1.5f], y.ToArray());
    }

    [Fact]
    public void GlorotUniformStaysWithinItsLimitAndHasTheRightSpread()
    {
        Randomness.SetSeed(9);
        var layer = new Dense(300);
        layer.Apply(Input.Create(500));
        double limit = Math.Sqrt(6.0 / 800);
        var k = layer.Kernel!.Values.ToArray();
        Assert.All(k, v => Assert.InRange(v, -limit, limit));
        double variance = k.Select(v => (double)v * v).Average();
        Assert.InRange(variance, limit * limit / 3 * 0.95, limit * limit / 3 * 1.05); // U(-l, l) has variance l²/3
        Assert.All(layer.Bias!.Values.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BadSettingsAreClearErrors()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(-3));
        Assert.Contains("units=-3", e.Message);
        var a = Assert.Throws<ArgumentException>(() => new Dense(3, "swish2"));
        Assert.Contains("swish2", a.Message);
    }
}
