using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Training;

/// <summary>
/// A data-parallel step that runs the optimizer's update inside its own job, block by block as each block's gradients
/// become final (<see cref="DataParallelStep.Run"/> with an optimizer), gives the bits of the update run after the step:
/// every optimizer, value clipping, a shared layer, an empty share; skips a step whose loss is not finite; and a replica
/// that fails ends the step with its error instead of leaving the other thread waiting.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Model.ParallelStepMinRows, Model.UpdateInStep, DataParallelStep.UpdateBlockFloats
public class UpdateInStepTests
{
    /// <summary>Fit with the given knobs; restores them afterwards.</summary>
    private static T With<T>(bool inStep, int block, Func<T> run)
    {
        var saved = (Model.ParallelStepMinRows, Model.UpdateInStep, DataParallelStep.UpdateBlockFloats);
        (Model.ParallelStepMinRows, Model.UpdateInStep, DataParallelStep.UpdateBlockFloats) = (1, inStep, block);
        try
        {
            return run();
        }
        finally
        {
            (Model.ParallelStepMinRows, Model.UpdateInStep, DataParallelStep.UpdateBlockFloats) = saved;
        }
    }

    /// <summary>784-style autoencoder in small: 24-16-(shared 8→8 twice)-24, so a layer's gradient is final only after its first call.</summary>
    private static Model Build(Latent.Optimizers.Optimizer optimizer)
    {
        Randomness.SetSeed(31);
        var input = Input.Create(24);
        var h = new Dense(16, "relu").Apply(input);
        var shared = new Dense(16, "tanh");
        var code = shared.Apply(shared.Apply(h));
        var model = new Model(input, new Dense(24, "sigmoid").Apply(code));
        model.Compile(optimizer, "binary_crossentropy");
        return model;
    }

    public static TheoryData<string, int> Optimizers() => new()
    {
        { "sgd-momentum", 64 }, { "adagrad", 64 }, { "adadelta", 128 }, { "rmsprop", 64 }, { "adam", 4096 }, { "adam-clip", 64 },
    };

    private static Latent.Optimizers.Optimizer Make(string name) => name switch
    {
        "sgd-momentum" => new Latent.Optimizers.Sgd(learningRate: 0.1, momentum: 0.9),
        "adam-clip" => new Latent.Optimizers.Adam { ClipValue = 1e-3 },
        _ => Latent.Optimizers.Optimizer.Get(name),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void FitGivesTheBitsOfTheUpdateAfterTheStep(string optimizer, int block)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return; // no replicas on one core
        float[,] x = Synthetic.LowRank(150, 24, 4, seed: 3);       // batch 32: shares of 16; the last batch 22
        (float[][] Weights, List<double> Loss, long Steps, bool Parallel) Run(bool inStep) => With(inStep, block, () =>
        {
            var opt = Make(optimizer);
            var model = Build(opt);
            var history = model.Fit(x, x, epochs: 3, batchSize: 32, verbose: 0, seed: 5);
            return (model.GetWeights(), history.Loss, opt.Iterations, model.StepIsParallel);
        });
        var after = Run(inStep: false);
        var inside = Run(inStep: true);
        Assert.True(inside.Parallel);
        Assert.Equal(after.Steps, inside.Steps);
        Assert.Equal(after.Loss, inside.Loss);
        for (int w = 0; w < after.Weights.Length; w++)
            Assert.Equal(after.Weights[w], inside.Weights[w]);
    }

    [Fact]
    public void TheBlocksCountDoesNotChangeTheBits()
    {
        // Blocks of 64 floats (about eighteen for this store), or the store cut into about two (UpdateBlocksPerStep):
        // the update is element-wise, so any cut into blocks, claimed by either core, gives the same bits.
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        float[,] x = Synthetic.LowRank(150, 24, 4, seed: 3);
        float[][] Run(int perStep) => With(inStep: true, block: 64, () =>
        {
            int saved = DataParallelStep.UpdateBlocksPerStep;
            DataParallelStep.UpdateBlocksPerStep = perStep;
            try
            {
                var model = Build(Make("adam"));
                model.Fit(x, x, epochs: 2, batchSize: 32, verbose: 0, seed: 5);
                return model.GetWeights();
            }
            finally
            {
                DataParallelStep.UpdateBlocksPerStep = saved;
            }
        });
        var many = Run(0);
        var two = Run(2);
        for (int w = 0; w < many.Length; w++) Assert.Equal(many[w], two[w]);
    }

    /// <summary>81 rows of 60 (at batch 16 the last batch has 1 row, so one share has none); 85% zeros when <paramref name="sparse"/>.</summary>
    private static float[,] SmallData(bool sparse)
    {
        float[,] x = Synthetic.LowRank(81, 60, 4, seed: 3);
        if (sparse)
        {
            var rng = new Random(4);
            for (int i = 0; i < 81; i++)
                for (int j = 0; j < 60; j++)
                    if (rng.NextDouble() < 0.85) x[i, j] = 0;
        }
        return x;
    }

    /// <summary>A 60-40-12-60 autoencoder trained two epochs on <paramref name="x"/> at batch 16.</summary>
    private static (Model Model, List<double> Loss) FitSmall(string optimizer, float[,] x)
    {
        Randomness.SetSeed(5);
        var input = Input.Create(60);
        var h = new Dense(40, "relu").Apply(input);
        h = new Dense(12, "tanh").Apply(h);
        var model = new Model(input, new Dense(60, "sigmoid").Apply(h));
        model.Compile(optimizer, "binary_crossentropy");
        var history = model.Fit(x, x, epochs: 2, batchSize: 16, verbose: 0, seed: 9);
        return (model, history.Loss);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DeferredKernelGradientsAgreeWithTheReplicasOwnAndRepeatBitForBit(bool sparseInput)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        float[,] x = SmallData(sparseInput);
        (float[][] Weights, List<double> Loss, int Deferred) Run(bool defer) => With(inStep: true, block: 64, () =>
        {
            var saved = (DataParallelStep.DeferWeightGrads, DataParallelStep.DeferMinFloats, DataParallelStep.DeferBlockFloats,
                         Dense.SparseMinUnits);
            // Kernels of 2,400 and 720 values deferred (the 480 of the middle one not), in blocks of 7 and 2 rows.
            (DataParallelStep.DeferWeightGrads, DataParallelStep.DeferMinFloats, DataParallelStep.DeferBlockFloats) = (defer, 500, 300);
            Dense.SparseMinUnits = 1;
            try
            {
                var (model, loss) = FitSmall("rmsprop", x);
                return (model.GetWeights(), loss, model.StepDeferred);
            }
            finally
            {
                (DataParallelStep.DeferWeightGrads, DataParallelStep.DeferMinFloats, DataParallelStep.DeferBlockFloats,
                 Dense.SparseMinUnits) = saved;
            }
        });
        var own = Run(defer: false);
        var deferred = Run(defer: true);
        var again = Run(defer: true);
        Assert.Equal(2, deferred.Deferred);
        // The later replicas' products are added into the first's inside the multiply: the same terms, another rounding.
        for (int e = 0; e < own.Loss.Count; e++) Assert.Equal(own.Loss[e], deferred.Loss[e], 6);
        for (int w = 0; w < own.Weights.Length; w++)
            for (int i = 0; i < own.Weights[w].Length; i++)
                Assert.True(Math.Abs(own.Weights[w][i] - deferred.Weights[w][i]) <= 1e-5f, $"weight {w}[{i}]: {deferred.Weights[w][i]} deferred, {own.Weights[w][i]} not");
        Assert.Equal(deferred.Loss, again.Loss);
        for (int w = 0; w < own.Weights.Length; w++) Assert.Equal(deferred.Weights[w], again.Weights[w]);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 0)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public void PostedKernelGradientsGiveTheReplicasOwnBits(bool inStep, int sparse)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        float[,] x = SmallData(sparse > 0);
        (float[][] Weights, List<double> Loss, int Posted) Run(bool post) => With(inStep, block: 64, () =>
        {
            var saved = (DataParallelStep.PostKernelGrads, Dense.SparseMinUnits, Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows);
            DataParallelStep.PostKernelGrads = post;
            // 1: the first layer's forward from the nonzeros and its gradient from the rows; 2: its gradient from the columns.
            if (sparse == 1) (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows) = (1, 0);
            if (sparse == 2) Dense.SparseMinUnits = 1;
            try
            {
                var (model, loss) = FitSmall("adagrad", x);
                return (model.GetWeights(), loss, model.StepPosted);
            }
            finally
            {
                (DataParallelStep.PostKernelGrads, Dense.SparseMinUnits, Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows) = saved;
            }
        });
        var own = Run(post: false);
        var posted = Run(post: true);
        Assert.Equal(0, own.Posted);
        Assert.Equal(3, posted.Posted);   // the last step's one share with rows: its three kernels
        Assert.Equal(own.Loss, posted.Loss);
        for (int w = 0; w < own.Weights.Length; w++) Assert.Equal(own.Weights[w], posted.Weights[w]);
    }

    [Fact]
    public void SeveralReplicasPerCoreGiveTheSameBitsToo()
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        var x = Tensor.FromArray(Synthetic.Uniform(40 * 8 * 8 * 2, 23, 0, 1), 40, 8, 8, 2);
        (float[][] Weights, int Replicas) Run(bool inStep) => With(inStep, 64, () =>
        {
            int saved = Model.ReplicasPerCore;
            Model.ReplicasPerCore = 4;  // shares of 5 rows, claimed by whichever thread is free
            try
            {
                var model = TestModels.ConvAutoencoder(side: 8, filters: 6, "rmsprop", seed: 17);
                model.Fit(x, x, epochs: 2, batchSize: 40, verbose: 0, seed: 2);
                return (model.GetWeights(), model.StepReplicas);
            }
            finally
            {
                Model.ReplicasPerCore = saved;
            }
        });
        var after = Run(inStep: false);
        var inside = Run(inStep: true);
        Assert.Equal(4 * Latent.Kernels.ComputePool.Shared.Threads, inside.Replicas);
        for (int w = 0; w < after.Weights.Length; w++) Assert.Equal(after.Weights[w], inside.Weights[w]);
    }

    [Fact]
    public void ASharedLayersWeightsAreReadyOnlyAfterItsFirstCall()
    {
        var model = Build(new Latent.Optimizers.Sgd());
        model.TrainOnBatch(Synthetic.LowRank(4, 24, 2, seed: 1), Synthetic.LowRank(4, 24, 2, seed: 1)); // lays the weights out in the model's store
        var weights = model.Weights.ToArray();
        int[] ready = GraphExecutor.ReadyOffsets(model.Nodes, weights);
        // Nodes: dense, shared (first call), shared (second call), output dense.
        var layerOf = model.Nodes.Select(n => n.Layer).ToArray();
        int outputNode = layerOf.Length - 1, secondCall = outputNode - 1, firstCall = outputNode - 2, first = outputNode - 3;
        int End(Layer layer) => layer.Weights.Max(w => w.Offset + w.Length);
        // After the output layer: the shared layer and the first dense are still pending.
        Assert.Equal(End(layerOf[firstCall]), ready[outputNode]);
        // After the shared layer's second call its gradient still lacks the first call's share.
        Assert.Equal(End(layerOf[firstCall]), ready[secondCall]);
        Assert.Same(layerOf[firstCall], layerOf[secondCall]);
        Assert.Equal(End(layerOf[first]), ready[firstCall]);
        Assert.Equal(0, ready[first]);
        Assert.True(End(layerOf[first]) <= layerOf[firstCall].Weights.Min(w => w.Offset));
    }

    [Theory]
    [InlineData(1)]   // the replicas one after another on the calling thread
    [InlineData(2)]   // on both threads
    public void AStepWhoseLossIsNotFiniteUpdatesNothing(int threading)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        float[,] x = Synthetic.LowRank(32, 24, 4, seed: 8);
        WithThreading(threading, () => With(inStep: true, block: 64, () =>
        {
            var opt = new Latent.Optimizers.Adam();
            var model = Build(opt);
            model.TrainOnBatch(x, x);
            var weights = model.GetWeights();
            weights[^1][0] = float.NaN;             // the output's bias: a logit, and so the loss, that is not finite
            model.SetWeights(weights);
            var before = model.GetWeights();
            long steps = opt.Iterations;
            double loss = model.TrainOnBatch(x, x);
            Assert.False(double.IsFinite(loss), $"loss {loss}");
            Assert.True(model.StepIsParallel);
            Assert.Equal(steps, opt.Iterations);
            var now = model.GetWeights();
            for (int w = 0; w < before.Length; w++) Assert.Equal(before[w], now[w]);
            return 0;
        }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AFailingReplicaEndsTheStepWithItsError(int threading)
    {
        if (Latent.Kernels.ComputePool.Shared.Threads < 2) return;
        float[,] x = Synthetic.LowRank(64, 24, 4, seed: 9);
        WithThreading(threading, () => With(inStep: true, block: 64, () =>
        {
            Randomness.SetSeed(4);
            var failing = new FailingBackward();
            var input = Input.Create(24);
            var h = new Dense(16, "relu").Apply(failing.Apply(new Dense(24, "relu").Apply(input)));
            var model = new Model(input, new Dense(24, "sigmoid").Apply(h));
            model.Compile("adam", "binary_crossentropy");
            failing.Fail = true;
            var fit = Task.Run(() => model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0));
            // The first share's thread waits for the first layer's gradients of the share that fails.
            Assert.True(fit.ContinueWith(_ => { }).Wait(TimeSpan.FromSeconds(60)), "Fit hung after a replica failed");
            var error = Assert.Throws<AggregateException>(() => fit.Wait());
            Assert.Contains("share at 16", error.InnerException!.Message);
            failing.Fail = false;                   // the same step object works again afterwards
            var history = model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0);
            Assert.True(double.IsFinite(history.Loss[0]));
            Assert.True(model.StepIsParallel);
            return 0;
        }));
    }

    /// <summary>Runs with <see cref="DataParallelStep.Threading"/> set; restores it afterwards.</summary>
    private static T WithThreading<T>(int threading, Func<T> run)
    {
        int saved = DataParallelStep.Threading;
        DataParallelStep.Threading = threading;
        try
        {
            return run();
        }
        finally
        {
            DataParallelStep.Threading = saved;
        }
    }

    /// <summary>Identity that, when told to, throws in backward on every share but the first.</summary>
    private sealed class FailingBackward() : Layer(null)
    {
        public bool Fail { get; set; }

        protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

        protected internal override void Forward(NodeContext ctx) => ctx.Input(0).CopyTo(ctx.OutputValues);

        protected internal override void Backward(NodeContext ctx)
        {
            if (Fail && ctx.BatchOffset > 0) throw new InvalidDataException($"share at {ctx.BatchOffset} failed");
            if (ctx.NeedsInputGrad(0))
            {
                var dx = ctx.InputGrad(0);
                var dy = ctx.OutputGrad;
                for (int i = 0; i < dy.Length; i++) dx[i] += dy[i];
            }
        }
    }
}
