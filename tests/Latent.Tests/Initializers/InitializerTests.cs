using Latent.Initializers;
using Latent.Layers;

namespace Latent.Tests.Initializers;

/// <summary>Keras's initializers: the distributions they promise, and their parameters through save and load.</summary>
public class InitializerTests
{
    private static float[] Fill(Initializer init, int[] shape, ulong seed = 1)
    {
        var values = new float[shape.Aggregate(1, (a, b) => a * b)];
        var rng = new Rng(seed);
        init.Fill(values, shape, ref rng);
        return values;
    }

    private static (double Mean, double Std, double MaxAbs) Stats(float[] v)
    {
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
        return (mean, std, v.Max(x => Math.Abs((double)x)));
    }

    // Shape (200, 300): fan_in 200, fan_out 300, fan_avg 250. Expected std and the bound on |x|.
    [Theory]
    [InlineData("glorot_uniform", 0.0632456, 0.1095445)]   // l = √(6/500), std l/√3
    [InlineData("glorot_normal", 0.0632456, 0.1438)]       // σ = √(1/250), truncated at 2σ/0.8796
    [InlineData("he_uniform", 0.1, 0.1732051)]             // l = √(6/200)
    [InlineData("he_normal", 0.1, 0.2274)]                 // σ = √(2/200)
    [InlineData("lecun_uniform", 0.0707107, 0.1224745)]    // l = √(3/200)
    [InlineData("lecun_normal", 0.0707107, 0.1608)]        // σ = √(1/200)
    [InlineData("random_normal", 0.05, double.PositiveInfinity)]
    [InlineData("random_uniform", 0.0288675, 0.05)]
    public void DrawsHaveTheKerasSpread(string name, double std, double bound)
    {
        var s = Stats(Fill(Initializer.Get(name), [200, 300]));
        Assert.InRange(s.Mean, -0.01 * std - 1e-3, 0.01 * std + 1e-3);
        Assert.InRange(s.Std, std * 0.98, std * 1.02);
        Assert.True(s.MaxAbs <= bound * 1.0001, $"{name}: max |x| {s.MaxAbs} above {bound}");
    }

    [Theory]
    [InlineData(50, 20)]
    [InlineData(20, 50)]
    [InlineData(16, 16)]
    public void OrthogonalHasOrthonormalColumnsOrRows(int rows, int cols)
    {
        var q = Fill(new Orthogonal(gain: 2), [rows, cols], seed: 7);
        bool tall = rows >= cols;
        int n = tall ? cols : rows, m = tall ? rows : cols;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
            {
                double dot = 0;
                for (int k = 0; k < m; k++) dot += tall ? (double)q[k * cols + a] * q[k * cols + b] : (double)q[a * cols + k] * q[b * cols + k];
                Assert.Equal(a == b ? 4.0 : 0.0, dot, 4); // gain² on the diagonal
            }
    }

    [Fact]
    public void ConstantAndParameterisedInitializersSaveAndLoad()
    {
        Randomness.SetSeed(3);
        var input = Input.Create(5);
        var h = new Dense(4, biasInitializer: new Constant(0.5f), kernelInitializer: new RandomNormal(0.1, 0.2)).Apply(input);
        var model = new Model(input, new Dense(5, kernelInitializer: new Orthogonal(1.5), biasInitializer: new RandomUniform(-1, 2)).Apply(h));
        Assert.All(model.Weights[1].Values.ToArray(), v => Assert.Equal(0.5f, v));
        string path = Path.Combine(Path.GetTempPath(), $"init-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Model.Load(path);
            var d0 = (Dense)loaded.Layers[1];
            var d1 = (Dense)loaded.Layers[2];
            Assert.Equal(0.5f, Assert.IsType<Constant>(d0.BiasInitializer).Value);
            var rn = Assert.IsType<RandomNormal>(d0.KernelInitializer);
            Assert.Equal((0.1, 0.2), (rn.Mean, rn.StdDev));
            Assert.Equal(1.5, Assert.IsType<Orthogonal>(d1.KernelInitializer).Gain);
            var ru = Assert.IsType<RandomUniform>(d1.BiasInitializer);
            Assert.Equal((-1.0, 2.0), (ru.MinVal, ru.MaxVal));
            for (int w = 0; w < model.Weights.Count; w++) Assert.Equal(model.GetWeights()[w], loaded.GetWeights()[w]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EveryNameResolvesAndUnknownNamesListTheKnownOnes()
    {
        foreach (var name in Initializer.Names) Assert.NotNull(Initializer.Get(name));
        Assert.Equal("constant", new Constant(0.25f).Name);
        var e = Assert.Throws<ArgumentException>(() => Initializer.Get("xavier"));
        Assert.Contains("'xavier'", e.Message);
        Assert.Contains("lecun_normal", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Constant(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomNormal(stddev: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomUniform(1, 0));
    }

    [Fact]
    public void DrawsAreReproducibleFromTheSeed()
    {
        Assert.Equal(Fill(new HeNormal(), [30, 20], 5), Fill(new HeNormal(), [30, 20], 5));
        Assert.NotEqual(Fill(new HeNormal(), [30, 20], 5), Fill(new HeNormal(), [30, 20], 6));
    }
}
