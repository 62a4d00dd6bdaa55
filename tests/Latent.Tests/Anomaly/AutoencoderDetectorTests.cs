using Latent.Anomaly;
using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Anomaly;

/// <summary>The anomaly detector, per-sample losses, ROC AUC and average precision against brute-force definitions.</summary>
public class AutoencoderDetectorTests
{
    /// <summary>Rows near a 3-D subspace of 12-D, and outliers off it.</summary>
    private static (Tensor Normal, Tensor Test, bool[] IsOutlier) Data()
    {
        var all = Tensor.FromArray(Synthetic.LowRank(490, 12, 3, seed: 1));   // one manifold for training and test inliers
        var normal = all.SliceRows(0, 400);
        var inliers = all.SliceRows(400, 90);
        var rng = new Random(3);
        var test = new Tensor([100, 12]);
        inliers.Span.CopyTo(test.Span);
        for (int i = 90 * 12; i < 100 * 12; i++) test.Span[i] = (float)rng.NextDouble();
        return (normal, test, Enumerable.Range(0, 100).Select(i => i >= 90).ToArray());
    }

    [Fact]
    public void FindsPlantedOutliersAndFlagsTheContaminationShare()
    {
        var (normal, test, isOutlier) = Data();
        var detector = new AutoencoderDetector(hiddenUnits: [16, 3], contamination: 0.1, epochs: 30, batchSize: 16, seed: 1);
        detector.Fit(normal);
        double[] scores = detector.DecisionFunction(test);
        Assert.True(Metrics.RocAuc(isOutlier, scores) > 0.95, $"AUC {Metrics.RocAuc(isOutlier, scores)}");
        Assert.True(Metrics.AveragePrecision(isOutlier, scores) > 0.8);
        double flagged = detector.Predict(normal).Count(b => b) / 400.0;
        Assert.InRange(flagged, 0.09, 0.11);                       // the (1 − contamination) quantile of the training scores
        Assert.Equal(Latent.Statistics.Percentiles.Linear(detector.TrainingScores, 90), detector.Threshold);
        // Reproducible from the seed.
        var again = new AutoencoderDetector(hiddenUnits: [16, 3], contamination: 0.1, epochs: 30, batchSize: 16, seed: 1).Fit(normal);
        Assert.Equal(scores, again.DecisionFunction(test));
    }

    [Fact]
    public void AnyCompiledModelCanBeTheAutoencoder()
    {
        var (normal, test, isOutlier) = Data();
        Randomness.SetSeed(2);
        var input = Input.Create(12);
        var model = new Model(input, new Dense(12, "sigmoid").Apply(new Dense(3, "relu").Apply(input)));
        model.Compile("adam", "binary_crossentropy");
        var detector = new AutoencoderDetector(model, contamination: 0.05, epochs: 20, batchSize: 16, seed: 1).Fit(normal);
        Assert.Same(model, detector.Autoencoder);
        Assert.True(Metrics.RocAuc(isOutlier, detector.DecisionFunction(test)) > 0.8);
    }

    [Fact]
    public void TheScoreCanBeTheSquaredErrorWhateverTheLoss()
    {
        var (normal, test, _) = Data();
        Randomness.SetSeed(3);
        var input = Input.Create(12);
        var model = new Model(input, new Dense(12, "sigmoid").Apply(new Dense(3, "relu").Apply(input)));
        model.Compile("adam", "binary_crossentropy");
        var detector = new AutoencoderDetector(model, epochs: 2, batchSize: 16, seed: 1, score: ReconstructionScore.SquaredError).Fit(normal);
        var scores = detector.DecisionFunction(test);
        var x = test;
        var y = model.Predict(x).Span;
        for (int i = 0; i < x.Rows; i++)
        {
            double sum = 0;
            for (int j = 0; j < 12; j++) sum += Math.Pow(y[i * 12 + j] - x.Span[i * 12 + j], 2);
            Assert.Equal(sum / 12, scores[i], 6);
        }
        Assert.NotEqual(model.LossPerSample(x, x)[0], scores[0], 3);   // not the model's own loss (binary cross-entropy)

        // A trained model scores without a detector, either way.
        Assert.Equal(scores, AutoencoderDetector.ScoresOf(model, test, ReconstructionScore.SquaredError));
        Assert.Equal(model.LossPerSample(x, x), AutoencoderDetector.ScoresOf(model, test));
        var e = Assert.Throws<ArgumentException>(() => AutoencoderDetector.ScoresOf(model, Tensor.FromArray(new float[20], 2, 10)));
        Assert.Contains("takes 12 values per sample; x has 10", e.Message);
    }

    [Fact]
    public void AnLstmAutoencoderFindsUnusualSequences()
    {
        // Normal: smooth waves of 10 steps; unusual: the same with noise. An LSTM autoencoder scores the noisy ones higher.
        var rng = new Random(6);
        Tensor Waves(int n, double noise)
        {
            var x = new Tensor([n, 10, 1]);
            for (int i = 0; i < n; i++)
            {
                double phase = 6 * rng.NextDouble();
                for (int t = 0; t < 10; t++) x.Span[i * 10 + t] = (float)(0.5 + 0.4 * Math.Sin(0.6 * t + phase) + noise * (rng.NextDouble() - 0.5));
            }
            return x;
        }
        var normal = Waves(300, 0);
        var test = new Tensor([60, 10, 1]);
        Waves(50, 0).Span.CopyTo(test.Span);
        Waves(10, 0.8).Span.CopyTo(test.Span[500..]);
        Randomness.SetSeed(4);
        var input = Input.Create(10, 1);
        var code = new LSTM(8).Apply(input);
        var model = new Model(input, new LSTM(1, returnSequences: true, activation: "sigmoid").Apply(new RepeatVector(10).Apply(code)));
        model.Compile("adam", "mse");
        var detector = new AutoencoderDetector(model, epochs: 15, batchSize: 16, seed: 1).Fit(normal);
        var auc = Metrics.RocAuc([.. Enumerable.Range(0, 60).Select(i => i >= 50)], detector.DecisionFunction(test));
        Assert.True(auc > 0.9, $"ROC AUC {auc}");
    }

    [Fact]
    public void LossPerSampleAveragesToEvaluate()
    {
        var x = Tensor.FromArray(Synthetic.LowRank(50, 12, 3, seed: 4));
        Randomness.SetSeed(3);
        var input = Input.Create(12);
        var model = new Model(input, new Dense(12, "sigmoid").Apply(new Dense(4, "relu").Apply(input)));
        foreach (var loss in new Latent.Losses.Loss[] { new Latent.Losses.BinaryCrossentropy(), new Latent.Losses.MeanSquaredError(),
                                                         new Latent.Losses.BinaryCrossentropy(reduction: Latent.Losses.LossReduction.SumOverFeatures) })
        {
            model.Compile("sgd", loss);
            var per = model.LossPerSample(x, x, batchSize: 16);
            Assert.Equal(50, per.Length);
            Assert.Equal(model.Evaluate(x, x, batchSize: 50), per.Average(), 4);
        }
    }

    [Fact]
    public void RankingMetricsMatchTheirDefinitions()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = 30;
            var truth = Enumerable.Range(0, n).Select(i => i % 3 == 0 || rng.Next(5) == 0).ToArray();
            var scores = Enumerable.Range(0, n).Select(_ => (double)rng.Next(8)).ToArray();   // many ties
            double pairs = 0, count = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (truth[i] && !truth[j]) { count++; pairs += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0; }
            Assert.Equal(pairs / count, Metrics.RocAuc(truth, scores), 12);
            // AP: precision at each distinct threshold, weighted by the recall it adds.
            double ap = 0, lastRecall = 0;
            foreach (double t in scores.Distinct().OrderByDescending(v => v))
            {
                int tp = Enumerable.Range(0, n).Count(i => scores[i] >= t && truth[i]), fl = scores.Count(v => v >= t);
                double recall = (double)tp / truth.Count(b => b);
                ap += (recall - lastRecall) * tp / fl;
                lastRecall = recall;
            }
            Assert.Equal(ap, Metrics.AveragePrecision(truth, scores), 12);
        }
        Assert.Equal(1.0, Metrics.RocAuc([false, false, true], [0.1, 0.2, 0.9]));
    }

    [Fact]
    public void BadInputGetsClearErrors()
    {
        Assert.Contains("contamination=0.7", Assert.Throws<ArgumentOutOfRangeException>(() => new AutoencoderDetector(contamination: 0.7)).Message);
        Assert.Contains("[8, 0]", Assert.Throws<ArgumentException>(() => new AutoencoderDetector(hiddenUnits: [8, 0])).Message);
        Assert.Contains("Fit", Assert.Throws<InvalidOperationException>(() => new AutoencoderDetector().DecisionFunction(new Tensor([2, 3]))).Message);
        var d = new AutoencoderDetector(hiddenUnits: [4], epochs: 1).Fit(Tensor.FromArray(Synthetic.LowRank(20, 6, 2, seed: 1)));
        Assert.Contains("fitted on 6 values per sample; x has 5", Assert.Throws<ArgumentException>(() => d.DecisionFunction(new Tensor([3, 5]))).Message);
        Assert.Contains("3 labels, 2 scores", Assert.Throws<ArgumentException>(() => Metrics.RocAuc([true, false, true], [0.1, 0.2])).Message);
        Assert.Contains("0 negatives", Assert.Throws<ArgumentException>(() => Metrics.RocAuc([true, true], [0.1, 0.2])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Metrics.AveragePrecision([true, false], [double.NaN, 0.2])).Message);
        var input = Input.Create(4);
        var uncompiled = new Model(input, new Dense(4).Apply(input));
        Assert.Contains("not compiled", Assert.Throws<ArgumentException>(() => new AutoencoderDetector(uncompiled)).Message);
    }
}
