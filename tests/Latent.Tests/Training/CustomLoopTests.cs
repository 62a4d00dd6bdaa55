using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Training;

/// <summary>A custom training loop: gradients of a batch, read or changed by the caller, applied by the optimizer.</summary>
public class CustomLoopTests
{
    private static Model Build()
    {
        Randomness.SetSeed(21);
        var input = Input.Create(12);
        var model = new Model(input, new Dense(12, "sigmoid").Apply(new Dense(4, "relu").Apply(input)));
        model.Compile("adam", "binary_crossentropy");
        return model;
    }

    [Fact]
    public void ComputeThenApplyIsTrainOnBatch()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(32, 12, 3, seed: 1));
        var a = Build();
        var b = Build();
        for (int step = 0; step < 3; step++)
        {
            double la = a.TrainOnBatch(x, x);
            var g = b.ComputeGradients([x], [x]);
            Assert.Equal(la, g.Loss, 12);
            b.ApplyGradients();
        }
        for (int w = 0; w < a.Weights.Count; w++) Assert.Equal(a.GetWeights()[w], b.GetWeights()[w]);
    }

    [Fact]
    public void ChangedGradientsAreWhatTheOptimizerApplies()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(16, 12, 3, seed: 2));
        var model = Build();
        var before = model.GetWeights();
        var g = model.ComputeGradients(x, x);
        Assert.True(g.GlobalNorm() > 0);
        foreach (var w in model.Weights) g.Of(w).Clear();        // nothing to learn: SGD-like steps change nothing
        Assert.Equal(0, g.GlobalNorm());
        model.ApplyGradients();
        for (int w = 0; w < before.Length; w++) Assert.Equal(before[w], model.GetWeights()[w]);
    }

    [Fact]
    public void ApplyWithoutGradientsIsAClearError()
    {
        var model = Build();
        var e = Assert.Throws<InvalidOperationException>(() => model.ApplyGradients());
        Assert.Contains("ComputeGradients first", e.Message);
        var x = Tensor.FromArray(Synthetic.LowRank(8, 12, 3, seed: 3));
        model.ComputeGradients(x, x);
        model.ApplyGradients();
        Assert.Throws<InvalidOperationException>(() => model.ApplyGradients()); // once per ComputeGradients
    }
}
