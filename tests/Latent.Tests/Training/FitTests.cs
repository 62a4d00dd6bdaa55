using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Training;

public class FitTests
{
    private static Model Autoencoder(int features, int code, string activation = "relu")
    {
        var input = Input.Create(features);
        var h = new Dense(code, activation).Apply(input);
        return new Model(input, new Dense(features, "sigmoid").Apply(h));
    }

    [Fact]
    public void LowRankDataIsReconstructedFarBetterThanTheBestConstant()
    {
        Randomness.SetSeed(7);
        float[,] all = Synthetic.LowRank(2500, 64, 3, seed: 1);
        float[,] train = Synthetic.Rows(all, 0, 2000), test = Synthetic.Rows(all, 2000, 500);
        var model = Autoencoder(64, 8, "tanh");
        model.Compile("adam", "binary_crossentropy");
        var history = model.Fit(train, train, epochs: 30, batchSize: 32, validationData: (test, test), verbose: 0, seed: 3);

        int n = test.GetLength(0), f = test.GetLength(1);
        var mean = new double[f];
        for (int i = 0; i < train.GetLength(0); i++) for (int j = 0; j < f; j++) mean[j] += train[i, j] / train.GetLength(0);
        double constant = Synthetic.Bce(test, (_, j) => mean[j]);   // best constant predictor: per-feature mean
        double floor = Synthetic.Bce(test, (i, j) => test[i, j]);   // BCE of a perfect reconstruction (targets are not binary)
        double achieved = model.Evaluate(test, test);
        // The excess over the floor must shrink to under 10% of the constant predictor's excess.
        Assert.True(achieved - floor < 0.10 * (constant - floor),
            $"floor {floor:F4}, constant {constant:F4}, achieved {achieved:F4}; history {string.Join(", ", history.ValLoss.Select(v => v.ToString("F4")))}");
    }

    [Fact]
    public void SameSeedGivesBitIdenticalWeights()
    {
        float[,] x = Synthetic.LowRank(300, 30, 2, seed: 4);
        float[][] Run()
        {
            Randomness.SetSeed(11);
            var input = Input.Create(30);
            var h = new Dropout(0.2).Apply(new Dense(16, "relu").Apply(input));
            var model = new Model(input, new Dense(30, "sigmoid").Apply(new Dense(4, "relu").Apply(h)));
            model.Compile("adadelta", "binary_crossentropy");
            model.Fit(x, x, epochs: 3, batchSize: 7, verbose: 0, seed: 5);
            return model.GetWeights();
        }
        var a = Run();
        var b = Run();
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public void HistoryLossIsTheBatchSizeWeightedMeanOfBatchLosses()
    {
        Randomness.SetSeed(2);
        float[,] x = Synthetic.LowRank(70, 12, 2, seed: 5);   // 70 = 3·20 + 10: the last batch is smaller
        var model = Autoencoder(12, 3);
        model.Compile("sgd", "binary_crossentropy");
        var recorder = new BatchRecorder();
        var history = model.Fit(x, x, epochs: 2, batchSize: 20, verbose: 0, callbacks: [recorder], seed: 1);
        Assert.Equal(8, recorder.Losses.Count);
        double expected = (recorder.Losses[4] * 20 + recorder.Losses[5] * 20 + recorder.Losses[6] * 20 + recorder.Losses[7] * 10) / 70;
        Assert.Equal(expected, history.Loss[1], 12);
    }

    [Fact]
    public void ValLossIsTheLossOnTheWholeValidationSetAfterTheEpoch()
    {
        Randomness.SetSeed(3);
        float[,] all = Synthetic.LowRank(83, 12, 2, seed: 6), x = Synthetic.Rows(all, 0, 50), v = Synthetic.Rows(all, 50, 33);
        var model = Autoencoder(12, 3);
        model.Compile("adagrad", "binary_crossentropy");
        var history = model.Fit(x, x, epochs: 1, batchSize: 8, validationData: (v, v), verbose: 0, seed: 1);
        Assert.Equal(model.Evaluate(v, v, batchSize: 33), history.ValLoss[0], 6);
    }

    [Fact]
    public void ActivityPenaltyIsSummedOverTheBatchAndRecordedSeparately()
    {
        Randomness.SetSeed(4);
        float[,] x = Synthetic.LowRank(40, 10, 2, seed: 8);
        var input = Input.Create(10);
        var codeLayer = new Dense(5, "relu", activityRegularizer: Latent.Regularizers.L1(1e-3));
        var code = codeLayer.Apply(input);
        var model = new Model(input, new Dense(10, "sigmoid").Apply(code));
        model.Compile("sgd", "binary_crossentropy");
        var encoder = new Model(input, code);
        // Before any step: the evaluated penalty over one batch of 40 is λ·Σ|codes| (summed, not averaged).
        var codes = encoder.Predict(x);
        double expectedPenalty = 1e-3 * codes.ToArray().Sum(v => Math.Abs((double)v));
        double withPenalty = model.Evaluate(x, x, batchSize: 40);
        var history = model.Fit(x, x, epochs: 1, batchSize: 40, shuffle: false, verbose: 0, seed: 1);
        Assert.Equal(expectedPenalty, history.Penalty[0], 6);
        Assert.Equal(withPenalty, history.Loss[0], 6);
        Assert.True(history.Penalty[0] > 0 && history.Penalty[0] < history.Loss[0]);
    }

    [Fact]
    public void ShuffleDrawsANewOrderEachEpoch()
    {
        Randomness.SetSeed(5);
        var x = new float[10, 1];
        for (int i = 0; i < 10; i++) x[i, 0] = i / 10f;
        var input = Input.Create(1);
        var recorder = new RecordingIdentity();
        var model = new Model(input, new Dense(1, "sigmoid").Apply(recorder.Apply(input)));
        model.Compile("sgd", "binary_crossentropy");
        model.Fit(x, x, epochs: 3, batchSize: 10, verbose: 0, seed: 9);
        Assert.Equal(3, recorder.Batches.Count);
        Assert.NotEqual(recorder.Batches[0], recorder.Batches[1]);
        Assert.NotEqual(recorder.Batches[1], recorder.Batches[2]);
        Assert.All(recorder.Batches, o => Assert.Equal(Enumerable.Range(0, 10).Select(i => i / 10f), o.Order()));
        model.Fit(x, x, epochs: 1, batchSize: 10, shuffle: false, verbose: 0, seed: 9);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i / 10f), recorder.Batches[^1]);
    }

    [Fact]
    public void ResumingAtAnEpochReproducesTheStraightRun()
    {
        float[,] x = Synthetic.LowRank(90, 10, 2, seed: 10);
        Model Make() { Randomness.SetSeed(21); var m = Autoencoder(10, 3); m.Compile("adam", "binary_crossentropy"); return m; }
        var straight = Make();
        straight.Fit(x, x, epochs: 4, batchSize: 16, verbose: 0, seed: 3);
        var resumed = Make();
        resumed.Fit(x, x, epochs: 2, batchSize: 16, verbose: 0, seed: 3);
        resumed.Fit(x, x, epochs: 4, batchSize: 16, verbose: 0, seed: 3, initialEpoch: 2);
        var a = straight.GetWeights(); var b = resumed.GetWeights();
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public void VerboseWritesAKerasLikeLinePerEpoch()
    {
        Randomness.SetSeed(6);
        float[,] x = Synthetic.LowRank(20, 6, 2, seed: 11);
        var model = Autoencoder(6, 2);
        model.Compile("adagrad", "binary_crossentropy");
        var output = new StringWriter();
        model.Fit(x, x, epochs: 2, batchSize: 5, validationData: (x, x), verbose: 2, output: output, seed: 1);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^Epoch 2/2 - \d+\.\ds - loss: \d\.\d{4} - val_loss: \d\.\d{4}", lines[1]);
    }

    private sealed class BatchRecorder : Callback
    {
        public List<double> Losses { get; } = [];
        public override void OnBatchEnd(int batch, double loss) => Losses.Add(loss);
    }

    /// <summary>Identity that records every training batch it sees.</summary>
    private sealed class RecordingIdentity() : Layer(null)
    {
        public List<float[]> Batches { get; } = [];
        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];
        protected internal override void Forward(NodeContext ctx)
        {
            ctx.Input(0).CopyTo(ctx.OutputValues);
            if (ctx.Training) Batches.Add(ctx.Input(0).ToArray());
        }
        protected internal override void Backward(NodeContext ctx) { }
    }
}
