using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>
/// A Dense layer reading the model's own input multiplies a batch that is mostly zeros as a sparse one
/// (<see cref="Dense.SparseInputDensity"/>): its gradients are still those of the finite differences, training agrees
/// with the dense multiply to rounding, and a dense batch takes the dense multiply, bit for bit.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Dense.SparseInputDensity and its unit thresholds
public class DenseSparseInputTests
{
    private static T WithDensity<T>(double density, Func<T> run)
    {
        var saved = (Dense.SparseInputDensity, Dense.SparseMinUnits);
        // Every layer, however narrow: the small models here stand for MNIST's 784 → 256.
        (Dense.SparseInputDensity, Dense.SparseMinUnits) = (density, 1);
        try
        {
            return run();
        }
        finally
        {
            (Dense.SparseInputDensity, Dense.SparseMinUnits) = saved;
        }
    }

    /// <summary>Low-rank data in [0.01, 1] with about <paramref name="density"/> of its values kept, the rest zero.</summary>
    private static float[,] SparseData(int rows, int cols, double density, int seed)
    {
        float[,] data = Synthetic.LowRank(rows, cols, 3, seed);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                data[i, j] = Math.Clamp(Math.Abs(data[i, j]), 0.01f, 1f);
        Synthetic.Sparsify(data, density, seed + 1);
        return data;
    }

    private static Model Build(int features)
    {
        Randomness.SetSeed(12);
        var input = Input.Create(features);
        var code = new Dense(6, "tanh").Apply(input);
        var model = new Model(input, new Dense(features, "sigmoid").Apply(code));
        model.Compile("adagrad", "binary_crossentropy");
        return model;
    }

    [Fact]
    public void GradientsOnMostlyZeroInputsMatchFiniteDifferences()
    {
        var model = Build(30);
        WithDensity(0.25, () =>
        {
            ModelChecker.CheckGradients(model, batch: 5, seed: 3, editInput: (_, x) => Synthetic.Sparsify(x, 0.15, 4));
            return 0;
        });
    }

    [Fact]
    public void TheSparseMultiplyRunsAndSkipsWeightsThatMeetOnlyZeros()
    {
        Randomness.SetSeed(2);
        var input = Input.Create(8);
        var layer = new Dense(3);
        var model = new Model(input, layer.Apply(input));
        var x = new float[4, 8];
        x[0, 1] = 1; x[1, 2] = 0.5f; x[2, 7] = -2; x[3, 1] = 3;   // 4 of 32 lit; input 5 never is
        for (int j = 0; j < 3; j++) layer.Kernel!.Values[5 * 3 + j] = float.NaN;
        var sparse = WithDensity(0.25, () => model.Predict(x).ToArray());
        var dense = WithDensity(0, () => model.Predict(x).ToArray());
        Assert.All(sparse, v => Assert.True(float.IsFinite(v)));
        Assert.All(dense, v => Assert.True(float.IsNaN(v)));   // 0·NaN: the dense multiply adds it
    }

    [Fact]
    public void ANarrowLayerTakesTheSparseForwardOnlyOnOneThread()
    {
        // 32 units: under SparseMinUnits, at SparseOneCoreMinUnits. On a thread that runs its products alone (a
        // replica's part) the forward skips the zeros, so a NaN weight meeting only zero inputs stays out of the output;
        // where the product may be cut across the cores it takes the dense multiply, which adds 0·NaN.
        Assert.True(Dense.SparseMinUnits > 32, "the threshold this test is about moved");
        var saved = (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows);
        (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows) = (32, 0);   // as on AVX2 (AVX-512 machines want 64 rows)
        try
        {
            NarrowLayerOnOneThread();
        }
        finally
        {
            (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows) = saved;
        }
    }

    private static void NarrowLayerOnOneThread()
    {
        Randomness.SetSeed(2);
        var input = Input.Create(64);
        var layer = new Dense(32);
        var model = new Model(input, layer.Apply(input));
        var x = new float[8, 64];
        for (int i = 0; i < 8; i++) { x[i, (7 * i + 1) % 64] = 1; x[i, (11 * i + 3) % 64] = 0.5f; }   // 2 of 64 lit a row
        for (int i = 0; i < 8; i++) Assert.Equal(0f, x[i, 40]);
        for (int j = 0; j < 32; j++) layer.Kernel!.Values[40 * 32 + j] = float.NaN;
        float[] onOneThread = [];
        Latent.Kernels.ComputePool.Shared.Run(new OnFirstPart(() => onOneThread = model.Predict(x).ToArray()), 2);
        Assert.All(onOneThread, v => Assert.True(float.IsFinite(v)));
        if (Latent.Kernels.ComputePool.Shared.Threads > 1)
            Assert.All(model.Predict(x).ToArray(), v => Assert.True(float.IsNaN(v)));
    }

    /// <summary>The simple model's shape in small: a 32-unit code (under <see cref="Dense.SparseMinUnits"/>) between features.</summary>
    private static Model BuildNarrow(int features, string activation, int seed)
    {
        Randomness.SetSeed(seed);
        var input = Input.Create(features);
        var code = new Dense(32, activation).Apply(input);
        var model = new Model(input, new Dense(features, "sigmoid").Apply(code));
        model.Compile("adagrad", "binary_crossentropy");
        return model;
    }

    [Fact]
    public void ANarrowLayersGradientFromTheRowsMatchesFiniteDifferences()
    {
        // 32 units on one thread: the forward skips the zeros, and the kernel's gradient is written from the same rows.
        Assert.True(Dense.SparseMinUnits > 32 && Dense.SparseGradByRows, "the path this test is about moved");
        var saved = (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows, Dense.SparseInputDensity);
        (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows, Dense.SparseInputDensity) = (32, 0, 0.25);
        try
        {
            var model = BuildNarrow(40, "tanh", seed: 31);
            Latent.Kernels.ComputePool.Shared.Run(new OnFirstPart(() =>
                ModelChecker.CheckGradients(model, batch: 6, seed: 5, editInput: (_, x) => Synthetic.Sparsify(x, 0.15, 6))), 2);
        }
        finally
        {
            (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows, Dense.SparseInputDensity) = saved;
        }
    }

    [Fact]
    public void TrainingWithTheGradientFromTheRowsKeepsTheDenseProductsBits()
    {
        // The notebook's shape in small: a 32-unit code, batches of 32 run as two shares of 16 (or as one on one core).
        // Each weight gradient element is the dense multiply's chain of FMAs less its exact zero terms: the same bits.
        float[,] data = SparseData(96, 50, 0.2, seed: 14);
        float[][] Train(bool byRows)
        {
            var saved = (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows, Dense.SparseGradByRows);
            (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows, Dense.SparseGradByRows) = (32, 0, byRows);
            try
            {
                var model = BuildNarrow(50, "relu", seed: 16);
                model.Fit(data, data, epochs: 2, batchSize: 32, verbose: 0, seed: 1);
                return model.GetWeights();
            }
            finally
            {
                (Dense.SparseOneCoreMinUnits, Dense.SparseOneCoreMinRows, Dense.SparseGradByRows) = saved;
            }
        }
        Assert.Equal(Train(false), Train(true));
    }

    private sealed class OnFirstPart(Action run) : Latent.Kernels.IParallelWork
    {
        public void Execute(int part)
        {
            if (part == 0) run();
        }
    }

    [Fact]
    public void TrainingOnSparseDataAgreesWithTheDenseMultiply()
    {
        float[,] data = SparseData(96, 40, 0.18, seed: 8);
        (float[][] Weights, List<double> Loss) Train(double density) => WithDensity(density, () =>
        {
            var model = Build(40);
            var history = model.Fit(data, data, epochs: 3, batchSize: 16, verbose: 0, seed: 1);
            return (model.GetWeights(), history.Loss);
        });
        var sparse = Train(0.25);
        var dense = Train(0);
        for (int e = 0; e < 3; e++) Assert.Equal(dense.Loss[e], sparse.Loss[e], 5);
        for (int w = 0; w < dense.Weights.Length; w++)
            for (int i = 0; i < dense.Weights[w].Length; i++)
                Assert.True(Math.Abs(dense.Weights[w][i] - sparse.Weights[w][i]) <= 1e-4f,
                            $"weight {w}[{i}]: {sparse.Weights[w][i]} sparse, {dense.Weights[w][i]} dense");
        Assert.NotEqual(dense.Weights[0], sparse.Weights[0]);   // the sums differ in rounding: the sparse multiply ran
    }

    [Fact]
    public void ADenseBatchTakesTheDenseMultiplyBitForBit()
    {
        float[,] data = Synthetic.LowRank(64, 40, 3, seed: 5);   // no zeros
        float[][] Train(double density) => WithDensity(density, () =>
        {
            var model = Build(40);
            model.Fit(data, data, epochs: 2, batchSize: 16, verbose: 0, seed: 1);
            return model.GetWeights();
        });
        Assert.Equal(Train(0), Train(0.25));
    }

    [Fact]
    public void ASequenceOfSparseStepsIsMultipliedRowByRow()
    {
        Randomness.SetSeed(21);
        var input = Input.Create(5, 70);                     // (batch, steps, features): Dense acts on each step
        var layer = new Dense(64, "tanh");
        var model = new Model(input, layer.Apply(input));
        Synthetic.Uniform(64, 24).CopyTo(layer.Bias!.Values);   // the sparse sums start from the bias, the dense add it last
        var x = Synthetic.Uniform(6 * 5 * 70, 22, 0, 1);
        Synthetic.Sparsify(x, 0.1, 23);
        var batch = Tensor.FromArray(x, 6, 5, 70);
        var sparse = WithDensity(0.25, () => model.Predict(batch).ToArray());
        var dense = WithDensity(0, () => model.Predict(batch).ToArray());
        Assert.Equal(6 * 5 * 64, sparse.Length);
        for (int i = 0; i < dense.Length; i++)
            Assert.True(Math.Abs(dense[i] - sparse[i]) <= 1e-6f, $"output {i}: {sparse[i]} sparse, {dense[i]} dense");
        Assert.NotEqual(dense, sparse);   // rounded differently: the sparse multiply ran
    }
}
