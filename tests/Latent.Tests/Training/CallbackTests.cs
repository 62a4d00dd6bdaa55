using Latent.Layers;
using Latent.Optimizers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Training;

public class CallbackTests
{
    [Fact]
    public void EarlyStoppingStopsAndRestoresTheBestWeights()
    {
        Randomness.SetSeed(8);
        float[,] all = Synthetic.LowRank(200, 16, 2, seed: 3);
        float[,] x = Synthetic.Rows(all, 0, 100), v = Synthetic.Rows(all, 100, 100);
        var input = Input.Create(16);
        var model = new Model(input, new Dense(16, "sigmoid").Apply(new Dense(12, "relu").Apply(input)));
        // A learning rate so large that validation loss soon gets worse.
        model.Compile(new Sgd(learningRate: 40), "binary_crossentropy");
        var stopper = new EarlyStopping(patience: 1, restoreBestWeights: true);
        var snapshots = new WeightsPerEpoch();
        var history = model.Fit(x, x, epochs: 50, batchSize: 10, validationData: (v, v), verbose: 0, callbacks: [snapshots, stopper], seed: 1);

        Assert.True(history.Loss.Count < 50, "training should have stopped early");
        Assert.Equal(history.Loss.Count - 1, stopper.StoppedEpoch);
        int best = history.ValLoss.IndexOf(history.ValLoss.Min());
        Assert.Equal(best, stopper.BestEpoch);
        Assert.Equal(snapshots.Weights[best], model.GetWeights().SelectMany(w => w).ToArray());
        Assert.Contains("early stopping", history.StopReason);
    }

    [Fact]
    public void EarlyStoppingWithoutValidationDataSaysSo()
    {
        var input = Input.Create(4);
        var model = new Model(input, new Dense(4, "sigmoid").Apply(input));
        model.Compile("sgd", "binary_crossentropy");
        var x = new Tensor(8, 4);
        var e = Assert.Throws<InvalidOperationException>(() => model.Fit(x, x, verbose: 0, callbacks: [new EarlyStopping()]));
        Assert.Contains("val_loss", e.Message);
    }

    [Fact]
    public void TerminateOnNaNStopsAndKeepsTheLastGoodWeights()
    {
        Randomness.SetSeed(9);
        var x = new Tensor(40, 4);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (i % 5) / 5f;
        var input = Input.Create(4);
        var model = new Model(input, new Dense(4).Apply(new Dense(4, "relu").Apply(input)));
        // MSE on a linear output with a huge learning rate diverges to infinity within a few steps.
        model.Compile(new Sgd(learningRate: 1e6), "mean_squared_error");
        var snapshots = new WeightsPerBatch();
        var history = model.Fit(x, x, epochs: 5, batchSize: 4, verbose: 0, callbacks: [snapshots, new TerminateOnNaN()], shuffle: false, seed: 1);

        Assert.NotNull(history.StopReason);
        Assert.Contains("training stopped", history.StopReason);
        var weights = model.GetWeights().SelectMany(w => w).ToArray();
        Assert.All(weights, w => Assert.True(float.IsFinite(w)));
        Assert.True(double.IsFinite(model.Evaluate(x, x)));
        // The weights are those one of the last two batches started from, not a reinitialisation or a blend.
        int match = snapshots.Before.FindLastIndex(b => b.SequenceEqual(weights));
        Assert.True(match >= snapshots.Before.Count - 2, $"restored weights match batch {match} of {snapshots.Before.Count}");
        Assert.True(snapshots.Before.Count < 10, "divergence should have been caught within a few batches");
    }

    private sealed class WeightsPerEpoch : Callback
    {
        public List<float[]> Weights { get; } = [];
        public override void OnEpochEnd(EpochLogs logs) => Weights.Add(Model.GetWeights().SelectMany(w => w).ToArray());
    }

    private sealed class WeightsPerBatch : Callback
    {
        public List<float[]> Before { get; } = [];
        public List<double> Losses { get; } = [];
        public override void OnBatchBegin(int batch) => Before.Add(Model.GetWeights().SelectMany(w => w).ToArray());
        public override void OnBatchEnd(int batch, double loss) => Losses.Add(loss);
    }
}
