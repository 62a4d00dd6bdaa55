using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>
/// TimeDistributed: the same as Dense on the last axis for Dense (as the docs say), the same as the layer applied to
/// each frame alone for a convolution, gradients against finite differences, saving and loading, clear errors.
/// </summary>
public class TimeDistributedTests
{
    [Fact]
    public void ForDenseItIsDenseOnTheLastAxis()
    {
        Randomness.SetSeed(51);
        var dense = new Dense(3, "sigmoid");
        var input = Input.Create(4, 5);
        var x = Tensor.FromArray(Synthetic.Uniform(2 * 4 * 5, 1), 2, 4, 5);
        var plain = new Model(input, dense.Apply(input)).Predict(x).Span.ToArray();
        var wrapped = new TimeDistributed(dense);
        var viaWrapper = new Model(input, wrapped.Apply(input)).Predict(x).Span.ToArray();
        Assert.Equal(plain, viaWrapper);
        Assert.Equal(dense.Weights, wrapped.Weights);
        Assert.Equal("TimeDistributed(Dense)", wrapped.TypeName);
    }

    [Fact]
    public void ForAConvolutionItIsTheLayerOnEachFrame()
    {
        Randomness.SetSeed(52);
        int batch = 2, t = 3;
        var conv = new Conv2D(2, (3, 3), activation: "relu", padding: "same");
        var clip = Input.Create(t, 5, 5, 1);
        var y = new Model(clip, new TimeDistributed(new Flatten()).Apply(new TimeDistributed(conv).Apply(clip)));
        var x = Synthetic.Uniform(batch * t * 25, 2);
        var clips = y.Predict(Tensor.FromArray(x, batch, t, 5, 5, 1)).Span.ToArray();
        Assert.Equal([t, 50], y.Outputs[0].Shape);
        var frame = Input.Create(5, 5, 1);
        var frames = new Model(frame, new Flatten().Apply(conv.Apply(frame))).Predict(Tensor.FromArray(x, batch * t, 5, 5, 1)).Span.ToArray();
        Assert.Equal(frames, clips);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        Randomness.SetSeed(53);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new TimeDistributed(new Dense(3, "tanh")), [4, 2], batch: 2, seed: 54));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new TimeDistributed(new Conv2D(2, (3, 3))), [2, 4, 4, 1], batch: 2, seed: 55));
    }

    [Fact]
    public void SavesAndLoads()
    {
        Randomness.SetSeed(56);
        var input = Input.Create(3, 4, 4, 1);
        var x = new TimeDistributed(new Conv2D(2, (3, 3), activation: "relu")).Apply(input);
        x = new TimeDistributed(new Flatten()).Apply(x);
        var model = new Model(input, new LSTM(3).Apply(x));
        model.Compile("adam", "mse");
        var data = Tensor.FromArray(Synthetic.Uniform(8 * 3 * 16, 3, 0, 1), 8, 3, 4, 4, 1);
        var target = Tensor.FromArray(Synthetic.Uniform(8 * 3, 4, 0, 1), 8, 3);
        model.Fit(data, target, epochs: 1, batchSize: 4, verbose: 0);
        string path = Path.Combine(Path.GetTempPath(), $"td-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Model.Load(path);
            Assert.Equal(model.Layers.Select(l => l.Config().ToString()), loaded.Layers.Select(l => l.Config().ToString()));
            Assert.Equal(model.Predict(data).Span.ToArray(), loaded.Predict(data).Span.ToArray());
            loaded.Fit(data, target, epochs: 1, batchSize: 4, verbose: 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadSettingsGetClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => new TimeDistributed(new Dense(3)).Apply(Input.Create(5)));
        Assert.Contains("(None, 5)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TimeDistributed(new Dense(3, activityRegularizer: Regularizers.L1(1e-4))));
        Assert.Contains("activity regularizer", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TimeDistributed(new Conv2D(2, (3, 3))).Apply(Input.Create(3, 5)));
        Assert.Contains("Conv2D", e.Message);
    }
}
