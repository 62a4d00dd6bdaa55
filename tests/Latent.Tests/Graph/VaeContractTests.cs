using Latent.Losses;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

namespace Latent.Tests.Graph;

/// <summary>The variational autoencoder issue's code, compiled and run as written on a slice of MNIST, and its figures.</summary>
public class VaeContractTests
{
    [Fact]
    public void VariationalAutoencoderCodeRunsAsWritten()
    {
        var (trainAll, yTrainAll, testAll, yTestAll) = Mnist.Load();
        Tensor xTrain = trainAll.SliceRows(0, 2000), xTest = testAll.SliceRows(0, 500);
        Tensor grid = Figures.LatentGrid(15);

        var inputs  = Input.Create(784);
        var h       = new Dense(256, activation: "relu").Apply(inputs);
        var zMean   = new Dense(2, name: "z_mean").Apply(h);
        var zLogVar = new Dense(2, name: "z_log_var").Apply(h);
        var z       = new Sampling(klWeight: 1.0).Apply(zMean, zLogVar);
        var decoderHidden = new Dense(256, activation: "relu");
        var decoderOut    = new Dense(784, activation: "sigmoid");
        var vae = new Model(inputs, decoderOut.Apply(decoderHidden.Apply(z)));
        vae.Compile(optimizer: "rmsprop", loss: new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
        History history = vae.Fit(xTrain, xTrain, epochs: 3, batchSize: 100, shuffle: true,
                                  validationData: (xTest, xTest), verbose: 0);

        var encoder = new Model([inputs], [zMean, zLogVar, z]);
        IReadOnlyList<Tensor> encoded = encoder.PredictAll(xTest);        // encoded[0]: z_mean, (500, 2)
        var latentInput = Input.Create(2);
        var generator = new Model(latentInput, decoderOut.Apply(decoderHidden.Apply(latentInput)));
        Tensor digits = generator.Predict(grid);                          // grid (225, 2) → (225, 784)

        Assert.Equal([500, 2], encoded[0].Shape);
        Assert.Equal([500, 2], encoded[2].Shape);
        Assert.Equal([225, 784], digits.Shape);
        // Summed BCE starts near 784·ln 2 ≈ 543 and must fall well below it; the KL is a positive part of the total.
        Assert.True(history.Loss[^1] < 250, $"loss {string.Join(", ", history.Loss)}");
        Assert.All(history.AddedLoss, kl => Assert.True(kl > 0 && kl < history.Loss[0]));
        Assert.True(history.ValLoss[^1] < history.ValLoss[0]);
        // The generator shares the trained decoder: decoding z_mean equals the VAE's output with ε = 0.
        var fromMean = generator.Predict(encoded[0]);
        var sub = vae.SubModel(z);
        Assert.Equal(fromMean.Span.ToArray(), sub.Predict(encoded[0]).Span.ToArray());
        // The code separates digits: class means of z_mean differ by more than the noise of a mean.
        var labels = yTestAll.Take(500).ToArray();
        var zeros = Enumerable.Range(0, 500).Where(i => labels[i] == 0).Select(i => encoded[0].Row(i).ToArray()).ToArray();
        var ones = Enumerable.Range(0, 500).Where(i => labels[i] == 1).Select(i => encoded[0].Row(i).ToArray()).ToArray();
        double gap = Math.Sqrt(Math.Pow(zeros.Average(r => r[0]) - ones.Average(r => r[0]), 2) + Math.Pow(zeros.Average(r => r[1]) - ones.Average(r => r[1]), 2));
        Assert.True(gap > 0.5, $"class-mean gap {gap}");

        string dir = Path.Combine(Path.GetTempPath(), $"latent-vae-figs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            Figures.LatentScatter(Path.Combine(dir, "latent.png"), encoded[0], labels, "z_mean of 500 test digits");
            Figures.Manifold(Path.Combine(dir, "manifold.png"), generator);
            Figures.ImageGrid(Path.Combine(dir, "samples.png"), generator.Predict(grid.SliceRows(0, 16)), 28, 28, columns: 8);
            foreach (var f in new[] { "latent.png", "manifold.png", "samples.png" })
                Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 1000, f);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.Equal(60000, yTrainAll.Length);
    }

    [Fact]
    public void TheLatentGridWalksTheGaussianQuantiles()
    {
        var g = Figures.LatentGrid(15).Span.ToArray();
        Assert.Equal(450, g.Length);
        Assert.Equal(-1.6448536, g[0], 5);           // Φ⁻¹(0.05): scipy's norm.ppf(0.05)
        Assert.Equal(1.6448536, g[2 * 14], 5);       // right end of the top row
        Assert.Equal(1.6448536, g[1], 5);            // the top row is the highest z₂
        Assert.Equal(0, g[2 * 7], 6);                // the middle column is z₁ = 0
        Assert.Equal(-1.6448536, g[2 * 224 + 1], 5); // bottom row
        Assert.Equal(-0.4307273, (double)Latent.Statistics.NormalDistribution.Quantile(1 / 3.0), 7);
        Assert.Equal(3.0902323, Latent.Statistics.NormalDistribution.Quantile(0.999), 6);
        var lin = Figures.LatentGrid(3, limit: 2).Span.ToArray();
        Assert.Equal([-2f, 2, 0, 2, 2, 2, -2, 0, 0, 0, 2, 0, -2, -2, 0, -2, 2, -2], lin);
    }

    [Fact]
    public void FiguresRefuseWhatTheyCannotDraw()
    {
        var three = Input.Create(3);
        var gen3 = new Model(three, new Dense(784, "sigmoid").Apply(three));
        var e = Assert.Throws<ArgumentException>(() => Figures.Manifold("never.png", gen3));
        Assert.Contains("(3)", e.Message);
        Assert.Contains("2-D", e.Message);
        var two = Input.Create(2);
        var gen2 = new Model(two, new Dense(100, "sigmoid").Apply(two));
        Assert.Contains("100 values", Assert.Throws<ArgumentException>(() => Figures.Manifold("never.png", gen2)).Message);
        Assert.Contains("3 labels", Assert.Throws<ArgumentException>(() => Figures.LatentScatter("never.png", new Tensor([4, 2]), [0, 1, 2])).Message);
        Assert.Contains("received 1", Assert.Throws<ArgumentException>(() => Figures.LatentScatter("never.png", new Tensor([3, 1]), [0, 1, 2])).Message);
        Assert.Contains("n=1", Assert.Throws<ArgumentOutOfRangeException>(() => Figures.LatentGrid(1)).Message);
        Assert.Contains("limit=-1", Assert.Throws<ArgumentOutOfRangeException>(() => Figures.LatentGrid(5, -1)).Message);
        Assert.False(File.Exists("never.png"));
    }

    [Fact]
    public void ScatterOfWideCodesGoesThroughTsneOrPca()
    {
        // Points spread along one direction in 5-D: the first principal coordinate recovers it.
        var x = new Tensor([200, 5]);
        var rng = new Random(3);
        var t = new double[200];
        for (int i = 0; i < 200; i++)
        {
            t[i] = rng.NextDouble() * 10 - 5;
            for (int j = 0; j < 5; j++) x.Span[i * 5 + j] = (float)(t[i] * (j + 1) / 7.4 + 0.01 * rng.NextDouble());
        }
        var p = new Latent.Reduction.Pca(2).FitTransform(x);
        double corr = Correlation(t, Enumerable.Range(0, 200).Select(i => (double)p.Span[2 * i]).ToArray());
        Assert.True(Math.Abs(corr) > 0.999, $"corr {corr}");
        string path = Path.Combine(Path.GetTempPath(), $"latent-scatter-{Guid.NewGuid():N}.png");
        try
        {
            Figures.LatentScatter(path, x, Enumerable.Range(0, 200).Select(i => i % 3).ToArray(), classNames: ["a", "b", "c"], usePca: true);
            Assert.True(File.Exists(path));
            File.Delete(path);
            Figures.LatentScatter(path, x, Enumerable.Range(0, 200).Select(i => i % 3).ToArray());   // t-SNE
            Assert.True(File.Exists(path));
        }
        finally { File.Delete(path); }
    }

    private static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average();
        double sab = a.Zip(b).Sum(p => (p.First - ma) * (p.Second - mb));
        return sab / Math.Sqrt(a.Sum(v => (v - ma) * (v - ma)) * b.Sum(v => (v - mb) * (v - mb)));
    }
}
