using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Tensors;

/// <summary>A float[,] passed to Fit, Evaluate and Predict is read in place: no copy, the same results as a tensor.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public class ArraySampleSetTests
{
    private static Model Build()
    {
        Randomness.SetSeed(3);
        var input = Input.Create(64);
        var model = new Model(input, new Dense(64, "sigmoid").Apply(new Dense(8, "relu").Apply(input)));
        model.Compile("adagrad", "binary_crossentropy");
        return model;
    }

    [Fact]
    public void FitOnAnArrayEqualsFitOnATensorAndCopiesNothing()
    {
        float[,] x = Synthetic.LowRank(4096, 64, 3, seed: 1);                  // 1 MB
        var viaTensor = Build();
        viaTensor.Fit(Tensor.FromArray(x), Tensor.FromArray(x), epochs: 1, batchSize: 64, verbose: 0, seed: 2);
        var viaArray = Build();
        viaArray.Fit(x, x, epochs: 1, batchSize: 64, verbose: 0, seed: 2);      // warm-up: plans, JIT
        var again = Build();
        long before = GC.GetAllocatedBytesForCurrentThread();
        again.Fit(x, x, epochs: 1, batchSize: 64, verbose: 0, seed: 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < x.Length * sizeof(float) / 4, $"Fit on a 1 MB array allocated {allocated} bytes");
        if (Latent.Kernels.ComputePool.Shared.Threads >= 2) Assert.True(again.StepIsParallel);
        for (int w = 0; w < viaTensor.Weights.Count; w++)
        {
            Assert.Equal(viaTensor.GetWeights()[w], viaArray.GetWeights()[w]);
            Assert.Equal(viaTensor.GetWeights()[w], again.GetWeights()[w]);
        }
    }

    [Fact]
    public void TheArrayIsReadAsItIsNowAndBadValuesAreNamed()
    {
        float[,] x = Synthetic.LowRank(10, 64, 3, seed: 4);
        var model = Build();
        var first = model.Predict(x).Span.ToArray();
        x[0, 0] += 1;                                                            // read in place: the next call sees it
        Assert.NotEqual(first[..64], model.Predict(x).Span.ToArray()[..64]);
        x[3, 5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => model.Fit(x, x, verbose: 0));
        Assert.Contains("sample 3, element 5", e.Message);
    }
}
