using Latent.Layers;
using Latent.Serialization;
using Latent.Tests.TestSupport;
using Latent.UserLayers;

namespace Latent.Tests.Training;

/// <summary>
/// Statistics over the whole batch on a data-parallel step (<see cref="NodeContext.SumOverShares"/>): a user layer
/// and batch normalization train on two cores as on one, so does a masked sequence model (its loss's kept steps are
/// counted over the whole batch), a share that fails stops the others instead of leaving them waiting, and a layer
/// that sums without declaring it gets a clear error.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Model.ParallelStepMinRows
public class SumOverSharesTests
{
    [Fact]
    public void BatchCenteringGradientsMatchFiniteDifferences() =>
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new BatchCentering(), [5], batch: 4, seed: 41, training: true));

    [Fact]
    public void AUserLayerWithBatchStatisticsTrainsOnTwoCoresLikeOnOne()
    {
        LayerRegistry.Register<BatchCentering>();
        var x = Tensor.FromArray(Synthetic.LowRank(80, 12, 3, seed: 8));
        ModelChecker.TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads(() =>
        {
            Randomness.SetSeed(12);
            var input = Input.Create(12);
            var h = new BatchCentering().Apply(new Dense(6, "tanh").Apply(input));
            var model = new Model(input, new Dense(12, "sigmoid").Apply(h));
            model.Compile("adam", "binary_crossentropy");
            return model;
        }, x);
    }

    [Fact]
    public void BatchNormalizationTrainsOnTwoCoresLikeOnOne()
    {
        // 70 samples in batches of 32: the last batch of 6 is split 3 + 3.
        var x = Tensor.FromArray(Synthetic.Uniform(70 * 36, 13, 0, 1), 70, 6, 6, 1);
        ModelChecker.TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads(() =>
        {
            Randomness.SetSeed(14);
            var input = Input.Create(6, 6, 1);
            var h = new Conv2D(5, (3, 3), padding: "same").Apply(input);
            h = new Activation("relu").Apply(new BatchNormalization(momentum: 0.8).Apply(h));
            h = new BatchNormalization(center: false).Apply(new Dense(3).Apply(new Flatten().Apply(h)));
            var model = new Model(input, new Reshape([6, 6, 1]).Apply(new Dense(36, "sigmoid").Apply(h)));
            model.Compile("adam", "binary_crossentropy");
            return model;
        }, x);
    }

    [Fact]
    public void AMaskedSequenceModelTrainsOnTwoCoresLikeOnOne()
    {
        // Sample b has its last b % 6 steps padded, so the two halves of a batch keep different numbers of steps: the
        // loss is the mean over the kept steps of the whole batch only if the shares add their counts.
        const int t = 6, d = 3, n = 70;
        var x = Synthetic.Uniform(n * t * d, 36, 0.1f, 0.9f);
        var mask = Latent.Tests.Layers.RecurrentLayerTests.TrailingPadding(n, t);
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] == 0) x.AsSpan(i * d, d).Fill(-1);
        ModelChecker.TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads(() =>
        {
            Randomness.SetSeed(37);
            var input = Input.Create(t, d);
            var seq = new LSTM(5, returnSequences: true).Apply(new Masking(-1).Apply(input));
            var model = new Model(input, new TimeDistributed(new Dense(d, "sigmoid")).Apply(seq));
            model.Compile("adam", "binary_crossentropy");
            return model;
        }, Tensor.FromArray(x, n, t, d));
    }

    [Fact]
    public void AShareWithNoKeptStepAddsNothingToAMaskedLoss()
    {
        // Two samples on two cores: the first is all padding, so its share keeps no step and the loss is the second's.
        const int t = 4, d = 2;
        var x = Synthetic.Uniform(2 * t * d, 38, 0.1f, 0.9f);
        x.AsSpan(0, t * d).Fill(0);
        var xs = Tensor.FromArray(x, 2, t, d);
        (double Loss, float[][] Weights, bool Parallel) Run(bool parallel)
        {
            int saved = Model.ParallelStepMinRows;
            Model.ParallelStepMinRows = parallel ? 1 : int.MaxValue;
            try
            {
                Randomness.SetSeed(39);
                var input = Input.Create(t, d);
                var model = new Model(input, new Dense(d).Apply(new GRU(3, returnSequences: true).Apply(new Masking(0).Apply(input))));
                model.Compile("sgd", "mse");
                double loss = model.TrainOnBatch(xs, xs);
                return (loss, model.GetWeights(), model.StepIsParallel);
            }
            finally
            {
                Model.ParallelStepMinRows = saved;
            }
        }
        var one = Run(false);
        var two = Run(true);
        Assert.Equal(Latent.Kernels.ComputePool.Shared.Threads >= 2, two.Parallel);
        Assert.True(one.Loss > 0);
        Assert.Equal(one.Loss, two.Loss, 6);
        for (int w = 0; w < one.Weights.Length; w++)
            for (int i = 0; i < one.Weights[w].Length; i++)
                Assert.True(Math.Abs(one.Weights[w][i] - two.Weights[w][i]) <= 1e-5f * (1 + Math.Abs(one.Weights[w][i])),
                            $"weight {w}[{i}]: one core {one.Weights[w][i]}, two {two.Weights[w][i]}");
    }

    [Fact]
    public void ALastBatchOfOneSampleTrainsWithBatchNormalization()
    {
        // 33 samples in batches of 32: the second batch has one sample, so one share is empty and the other alone.
        int saved = Model.ParallelStepMinRows;
        Model.ParallelStepMinRows = 1;
        try
        {
            Randomness.SetSeed(15);
            var input = Input.Create(4);
            var model = new Model(input, new Dense(4, "sigmoid").Apply(new BatchNormalization().Apply(new Dense(3).Apply(input))));
            model.Compile("sgd", "mse");
            var x = Tensor.FromArray(Synthetic.Uniform(33 * 4, 16, 0, 1), 33, 4);
            var history = model.Fit(x, x, epochs: 2, batchSize: 32, verbose: 0, seed: 2);
            Assert.All(history.Loss, l => Assert.True(double.IsFinite(l)));
            Assert.Equal(Latent.Kernels.ComputePool.Shared.Threads >= 2, model.StepIsParallel);
        }
        finally
        {
            Model.ParallelStepMinRows = saved;
        }
    }

    [Fact]
    public void AShareThatFailsStopsTheOthersAndItsErrorIsTheOneThrown()
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return; // nothing to split on one core
        int saved = Model.ParallelStepMinRows;
        Model.ParallelStepMinRows = 1;
        try
        {
            Randomness.SetSeed(17);
            var input = Input.Create(6);
            var failing = new FailingCentering();
            var model = new Model(input, new Dense(6, "sigmoid").Apply(failing.Apply(new Dense(4).Apply(input))));
            model.Compile("sgd", "mse");
            var x = Tensor.FromArray(Synthetic.Uniform(64 * 6, 18, 0, 1), 64, 6);
            failing.FailOnLaterShares = true;       // the first share waits at the barrier while the second fails
            var error = Assert.Throws<InvalidDataException>(() => model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0));
            Assert.Contains("share at 16", error.Message);
            Assert.True(model.StepIsParallel);

            failing.FailOnLaterShares = false;      // the same step object works again afterwards
            var history = model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0);
            Assert.True(double.IsFinite(history.Loss[0]));
        }
        finally
        {
            Model.ParallelStepMinRows = saved;
        }
    }

    [Fact]
    public void SummingWithoutDeclaringItIsAClearError()
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        int saved = Model.ParallelStepMinRows;
        Model.ParallelStepMinRows = 1;
        try
        {
            Randomness.SetSeed(19);
            var input = Input.Create(6);
            var model = new Model(input, new Dense(6).Apply(new UndeclaredCentering().Apply(new Dense(4).Apply(input))));
            model.Compile("sgd", "mse");
            var x = Tensor.FromArray(Synthetic.Uniform(32 * 6, 20, 0, 1), 32, 6);
            var error = Assert.Throws<InvalidOperationException>(() => model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0));
            Assert.Contains("SumsOverShares", error.Message);
        }
        finally
        {
            Model.ParallelStepMinRows = saved;
        }
    }

    /// <summary>Sums Σx over the batch, then (when told to) throws on every share but the first, before its second sum.</summary>
    private sealed class FailingCentering() : Layer(null)
    {
        public bool FailOnLaterShares { get; set; }

        protected internal override bool SumsOverShares => true;

        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

        protected internal override void Forward(NodeContext ctx)
        {
            var x = ctx.Input(0);
            var sums = new double[2];
            ctx.SumOverShares(sums);
            if (FailOnLaterShares && ctx.BatchOffset > 0) throw new InvalidDataException($"share at {ctx.BatchOffset} failed");
            ctx.SumOverShares(sums);
            x.CopyTo(ctx.OutputValues);
        }

        protected internal override void Backward(NodeContext ctx)
        {
            if (ctx.NeedsInputGrad(0))
            {
                var dx = ctx.InputGrad(0);
                var dy = ctx.OutputGrad;
                for (int i = 0; i < dy.Length; i++) dx[i] += dy[i];
            }
        }
    }

    /// <summary>Calls SumOverShares without declaring SumsOverShares.</summary>
    private sealed class UndeclaredCentering() : Layer(null)
    {
        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

        protected internal override void Forward(NodeContext ctx)
        {
            ctx.SumOverShares(new double[1]);
            ctx.Input(0).CopyTo(ctx.OutputValues);
        }

        protected internal override void Backward(NodeContext ctx)
        {
            if (ctx.NeedsInputGrad(0))
            {
                var dx = ctx.InputGrad(0);
                var dy = ctx.OutputGrad;
                for (int i = 0; i < dy.Length; i++) dx[i] += dy[i];
            }
        }
    }
}
