using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Training;

/// <summary>
/// A step split by samples across the cores (<see cref="DataParallelStep"/>) computes the same update as one
/// executor over the whole batch, up to float rounding: loss scaling, activity penalties (summed and averaged),
/// weight penalties, separate targets, odd batches and batches smaller than the core count.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Model.ParallelStepMinRows
public class DataParallelStepTests
{
    public static TheoryData<string, string, int, bool, string> Cases() => new()
    {
        { "binary_crossentropy", "none", 32, true, "none" },    // sigmoid logits path; the optimizer sums the replicas
        { "binary_crossentropy", "sum", 33, true, "value" },    // odd batch, summed activity penalty, clipping after the sum
        { "mse", "mean", 7, false, "none" },                    // mean-based loss rescaled per replica, averaged penalty, y ≠ x
        { "mae", "none", 3, true, "none" },                     // shares of one and two samples
        { "binary_crossentropy", "mean", 100, false, "norm" },  // per-weight norm clipping: the step sums before the optimizer
        { "binary_crossentropy", "none", 64, true, "global" },  // global norm clipping, likewise
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneStepMatchesTheOneExecutorStep(string loss, string activity, int batch, bool autoencoder, string clip)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return; // nothing to split on one core
        float[,] x = Synthetic.LowRank(batch, 12, 3, seed: batch);
        float[,] y = autoencoder ? x : Synthetic.LowRank(batch, 12, 3, seed: batch + 1);
        (double Loss, float[][] Weights) Run(bool parallel)
        {
            int saved = Model.ParallelStepMinRows;
            Model.ParallelStepMinRows = parallel ? 1 : int.MaxValue;
            try
            {
                Randomness.SetSeed(6);
                var input = Input.Create(12);
                var reg = activity switch
                {
                    "sum" => Latent.Regularizers.L1(1e-3),
                    "mean" => Latent.Regularizers.L1(1e-3, ActivityReduction.Mean),
                    _ => null,
                };
                var code = new Dense(4, "relu", activityRegularizer: reg, kernelRegularizer: Latent.Regularizers.L2(1e-3)).Apply(input);
                var model = new Model(input, new Dense(12, "sigmoid").Apply(code));
                var sgd = clip switch
                {
                    "value" => new Latent.Optimizers.Sgd(learningRate: 1.0) { ClipValue = 0.01 },
                    "norm" => new Latent.Optimizers.Sgd(learningRate: 1.0) { ClipNorm = 0.05 },
                    "global" => new Latent.Optimizers.Sgd(learningRate: 1.0) { GlobalClipNorm = 0.05 },
                    _ => new Latent.Optimizers.Sgd(learningRate: 1.0),
                };
                model.Compile(sgd, Latent.Losses.Loss.Get(loss));
                double l = model.TrainOnBatch(x, y);
                return (l, model.GetWeights());
            }
            finally
            {
                Model.ParallelStepMinRows = saved;
            }
        }
        var one = Run(parallel: false);
        var split = Run(parallel: true);
        Assert.Equal(one.Loss, split.Loss, 1e-6);
        for (int w = 0; w < one.Weights.Length; w++)
            for (int i = 0; i < one.Weights[w].Length; i++)
                Assert.True(Math.Abs(one.Weights[w][i] - split.Weights[w][i]) <= 1e-5f * (1 + Math.Abs(one.Weights[w][i])),
                            $"weight {w}[{i}]: one executor {one.Weights[w][i]}, split {split.Weights[w][i]}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AFrozenLayerKeepsItsWeightsAndTheOthersStillLearn(bool parallel)
    {
        // A frozen layer writes no gradient and the optimizer must leave it alone, on either path.
        float[,] x = Synthetic.LowRank(64, 10, 2, seed: 12);
        int saved = Model.ParallelStepMinRows;
        Model.ParallelStepMinRows = parallel ? 1 : int.MaxValue;
        try
        {
            Randomness.SetSeed(8);
            var input = Input.Create(10);
            var encoder = new Dense(3, "relu");
            var decoder = new Dense(10, "sigmoid");
            var model = new Model(input, decoder.Apply(encoder.Apply(input)));
            model.Compile("adam", "binary_crossentropy");
            model.Fit(x, x, epochs: 2, batchSize: 16, verbose: 0, seed: 1);
            encoder.Trainable = false;
            var frozen = encoder.Kernel!.Values.ToArray();
            var before = decoder.Kernel!.Values.ToArray();
            model.Fit(x, x, epochs: 2, batchSize: 16, verbose: 0, seed: 2);
            Assert.Equal(frozen, encoder.Kernel.Values.ToArray());
            Assert.NotEqual(before, decoder.Kernel.Values.ToArray());
        }
        finally
        {
            Model.ParallelStepMinRows = saved;
        }
    }

    [Fact]
    public void SeveralReplicasPerCoreMatchOnePerCoreAndOneExecutor()
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        const int batch = 30;   // shares of 3 and 4 samples at 4 replicas per core
        var x = Tensor.FromArray(Synthetic.Uniform(batch * 10 * 10 * 2, 21, 0, 1), batch, 10, 10, 2);
        (double Loss, float[][] Weights, int Replicas) Run(int perCore, bool parallel)
        {
            var (savedRows, savedPerCore) = (Model.ParallelStepMinRows, Model.ReplicasPerCore);
            (Model.ParallelStepMinRows, Model.ReplicasPerCore) = (parallel ? 1 : int.MaxValue, perCore);
            try
            {
                var model = TestModels.ConvAutoencoder(side: 10, filters: 8, "adam", seed: 9);
                double loss = 0;
                for (int s = 0; s < 3; s++) loss = model.TrainOnBatch(x, x);
                return (loss, model.GetWeights(), model.StepReplicas);
            }
            finally
            {
                (Model.ParallelStepMinRows, Model.ReplicasPerCore) = (savedRows, savedPerCore);
            }
        }
        int threads = Latent.Kernels.ComputePool.Shared.Threads;
        var one = Run(1, parallel: false);
        var perCore1 = Run(1, parallel: true);
        var perCore4 = Run(4, parallel: true);
        Assert.Equal(threads, perCore1.Replicas);
        Assert.Equal(Math.Min(4 * threads, batch), perCore4.Replicas);
        foreach (var other in new[] { perCore1, perCore4 })
        {
            Assert.Equal(one.Loss, other.Loss, 1e-5);
            for (int w = 0; w < one.Weights.Length; w++)
                for (int i = 0; i < one.Weights[w].Length; i++)
                    Assert.True(Math.Abs(one.Weights[w][i] - other.Weights[w][i]) <= 1e-5f * (1 + Math.Abs(one.Weights[w][i])),
                                $"weight {w}[{i}]: one executor {one.Weights[w][i]}, {other.Replicas} replicas {other.Weights[w][i]}");
        }
    }

    [Fact]
    public void SmallSharesOfADenseModelWhoseProductsSplitRunAsOneExecutor()
    {
        // The notebook's simple model: at batch 24 on two cores the shares would be 12 rows, and every product
        // (2·24·784·32 flops) is split across the cores anyway, so the whole batch runs on one executor; at batch 16 the
        // products are too small to split and shares win; at batch 32 (shares of 16) and 64 the shares are large enough.
        if (Latent.Kernels.ComputePool.Shared.Threads != 2) return;   // the expectations below are for two cores
        Randomness.SetSeed(4);
        var input = Input.Create(784);
        var model = new Model(input, new Dense(784, "sigmoid").Apply(new Dense(32, "relu").Apply(input)));
        model.Compile("adagrad", "binary_crossentropy");
        int ReplicasAt(int batch)
        {
            var x = Tensor.FromArray(Synthetic.Uniform(batch * 784, batch, 0, 1), batch, 784);
            model.TrainOnBatch(x, x);
            return model.StepReplicas;
        }
        Assert.Equal(1, ReplicasAt(24));
        Assert.Equal(2, ReplicasAt(16));
        Assert.Equal(2, ReplicasAt(32));
        Assert.Equal(2, ReplicasAt(64));
        int saved = Model.WholeBatchBelowRows;
        Model.WholeBatchBelowRows = 0;
        try
        {
            Assert.Equal(2, ReplicasAt(24));
        }
        finally
        {
            Model.WholeBatchBelowRows = saved;
        }
    }

    [Fact]
    public void LargeImagesGetSeveralReplicasPerCoreAndDenseModelsOne()
    {
        // A share's largest activation should fit the core's L2: 28×28×32 floats are 100 KB a sample.
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        int threads = Latent.Kernels.ComputePool.Shared.Threads;
        const int batch = 64;
        Randomness.SetSeed(3);
        var input = Input.Create(28, 28, 1);
        var conv = new Model(input, new Conv2D(1, (3, 3), padding: "same").Apply(new Conv2D(32, (3, 3), padding: "same").Apply(input)));
        conv.Compile("sgd", "mse");
        var images = Tensor.FromArray(Synthetic.Uniform(batch * 28 * 28, 4, 0, 1), batch, 28, 28, 1);
        conv.TrainOnBatch(images, images);
        long fits = Math.Max(Model.ParallelStepMinRows, Latent.Kernels.CacheSizes.L2Bytes / (28 * 28 * 32 * sizeof(float)));
        int expected = threads;
        while ((batch + expected - 1) / expected > fits && 2 * expected <= batch / Model.ParallelStepMinRows) expected *= 2;
        Assert.Equal(expected, conv.StepReplicas);
        Assert.True(conv.StepReplicas > threads || batch / threads <= fits, $"{conv.StepReplicas} replicas on {threads} cores");

        var denseIn = Input.Create(784);
        var dense = new Model(denseIn, new Dense(784, "sigmoid").Apply(new Dense(256, "relu").Apply(denseIn)));
        dense.Compile("sgd", "mse");
        var rows = Tensor.FromArray(Synthetic.Uniform(batch * 784, 5, 0, 1), batch, 784);
        dense.TrainOnBatch(rows, rows);
        Assert.Equal(threads, dense.StepReplicas);
    }

    [Theory]
    [InlineData("512K", 524288L)]
    [InlineData("2048K", 2097152L)]
    [InlineData("1M", 1048576L)]
    [InlineData("65536\n", 65536L)]
    public void CacheSizesAreParsedFromSysfs(string text, long bytes) =>
        Assert.Equal(bytes, Latent.Kernels.CacheSizes.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("big")]
    [InlineData("-4K")]
    public void UnreadableCacheSizesAreNull(string text) => Assert.Null(Latent.Kernels.CacheSizes.Parse(text));

    [Fact]
    public void FitIsReproducibleAndTracksTheOneExecutorRun()
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        float[,] x = Synthetic.LowRank(257, 20, 4, seed: 3);   // the last batch has one sample: a replica gets none
        float[][] Train(bool parallel)
        {
            int saved = Model.ParallelStepMinRows;
            Model.ParallelStepMinRows = parallel ? 1 : int.MaxValue;
            try
            {
                Randomness.SetSeed(4);
                var input = Input.Create(20);
                var model = new Model(input, new Dense(20, "sigmoid").Apply(new Dense(5, "relu").Apply(input)));
                model.Compile("adam", "binary_crossentropy");
                model.Fit(x, x, epochs: 2, batchSize: 64, verbose: 0, seed: 2);
                return model.GetWeights();
            }
            finally
            {
                Model.ParallelStepMinRows = saved;
            }
        }
        var a = Train(true);
        var b = Train(true);
        var single = Train(false);
        for (int w = 0; w < a.Length; w++)
        {
            Assert.Equal(a[w], b[w]);   // the same seed and core count: bit-identical
            for (int i = 0; i < a[w].Length; i++)
                Assert.True(Math.Abs(a[w][i] - single[w][i]) <= 1e-4f * (1 + Math.Abs(single[w][i])),
                            $"weight {w}[{i}]: split {a[w][i]}, one executor {single[w][i]}");
        }
    }
}
