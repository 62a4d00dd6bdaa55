using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>Batch normalization: its gradient, the statistics in training and at inference, moving averages, saving, data-parallel.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public class BatchNormalizationTests
{
    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        Randomness.SetSeed(1);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new BatchNormalization(), [4, 4, 3], batch: 3, seed: 51, training: true));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new BatchNormalization(center: false), [6], batch: 5, seed: 52, training: true));
    }

    [Fact]
    public void TrainingNormalisesEachChannelAndInferenceUsesTheMovingAverages()
    {
        Randomness.SetSeed(2);
        var input = Input.Create(3, 3, 2);
        var bn = new BatchNormalization(momentum: 0.9);
        var model = new Model(input, bn.Apply(input));
        model.Compile(new Latent.Optimizers.Sgd(learningRate: 1e-9), "mse");
        var x = Synthetic.Uniform(8 * 18, 3, 2, 6);                           // channel means ≈ 4, far from 0
        var data = Tensor.FromArray(x, 8, 3, 3, 2);
        var g = model.ComputeGradients(data, data);                           // one training forward
        double[] mu = new double[2], v = new double[2];
        for (int i = 0; i < x.Length; i++) mu[i % 2] += x[i] / 72.0;
        for (int i = 0; i < x.Length; i++) v[i % 2] += (x[i] - mu[i % 2]) * (x[i] - mu[i % 2]) / 72.0;
        var moving = model.Weights.Where(w => !w.IsTrainableWeight).ToArray();
        Assert.Equal(["moving_mean", "moving_variance"], moving.Select(w => w.Name.Split('/')[1]));
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(0.1 * mu[k], moving[0].Values[k], 4);               // 0.9·0 + 0.1·μ_B
            Assert.Equal(0.9 + 0.1 * v[k], moving[1].Values[k], 4);          // 0.9·1 + 0.1·σ²_B (biased)
        }
        model.ApplyGradients();
        Assert.Equal(0.1 * mu[0], moving[0].Values[0], 4);                    // the optimizer leaves the statistics alone

        // Inference: (x − moving mean)/√(moving variance + ε).
        var y = model.Predict(data).Span.ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            int k = i % 2;
            double expected = (x[i] - moving[0].Values[k]) / Math.Sqrt(moving[1].Values[k] + 1e-3);
            Assert.Equal(expected, y[i], 3);
        }
        Assert.Contains("Non-trainable params: 4", model.SummaryText());
    }

    [Fact]
    public void AModelWithBatchNormTrainsDataParallelAndSavesItsStatistics()
    {
        Randomness.SetSeed(3);
        var input = Input.Create(8, 8, 1);
        var h = new Conv2D(4, (3, 3), padding: "same").Apply(input);
        h = new BatchNormalization().Apply(h);
        h = new Activation("tanh").Apply(h);          // smooth, for the finite differences at the end
        var model = new Model(input, new Conv2D(1, (3, 3), padding: "same", activation: "sigmoid").Apply(h));
        model.Compile("adam", "binary_crossentropy");
        var data = Tensor.FromArray(Synthetic.Uniform(64 * 64, 4, 0, 1), 64, 8, 8, 1);
        var history = model.Fit(data, data, epochs: 3, batchSize: 32, verbose: 0, seed: 1);
        Assert.Equal(Latent.Kernels.ComputePool.Shared.Threads >= 2, model.StepIsParallel);   // the batch's statistics summed over the shares
        Assert.True(history.Loss[^1] < history.Loss[0]);
        string path = Path.Combine(Path.GetTempPath(), $"bn-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Model.Load(path);
            Assert.Equal(model.Predict(data).Span.ToArray(), loaded.Predict(data).Span.ToArray());
            Assert.Equal(model.Weights.Select(w => w.IsTrainableWeight), loaded.Weights.Select(w => w.IsTrainableWeight));
        }
        finally
        {
            File.Delete(path);
        }
        ModelChecker.CheckGradients(model, batch: 4, seed: 9, h: 1e-3);
    }
}
