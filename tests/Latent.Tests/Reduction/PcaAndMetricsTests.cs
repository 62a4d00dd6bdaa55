using Latent.Reduction;
using Latent.Statistics;

namespace Latent.Tests.Reduction;

/// <summary>PCA against a dense eigendecomposition; trustworthiness and kNN accuracy against naive versions.</summary>
public class PcaAndMetricsTests
{
    [Fact]
    public void PcaMatchesTheCovariancesEigenvectors()
    {
        var rng = new Random(5);
        int n = 400, d = 12;
        var x = new Tensor([n, d]);
        var scales = new[] { 5.0, 3.0, 2.0, 1.0 };
        var dirs = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, d).Select(_ => rng.NextDouble() - 0.5).ToArray()).ToArray();
        for (int i = 0; i < n; i++)
        {
            for (int a = 0; a < 4; a++)
            {
                double t = (rng.NextDouble() * 2 - 1) * scales[a];
                for (int c = 0; c < d; c++) x.Span[i * d + c] += (float)(t * dirs[a][c]);
            }
            for (int c = 0; c < d; c++) x.Span[i * d + c] += (float)(0.01 * rng.NextDouble() + 3);
        }
        var mean = Enumerable.Range(0, d).Select(c => Enumerable.Range(0, n).Average(i => (double)x.Span[i * d + c])).ToArray();
        var cov = new double[d, d];
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                cov[a, b] = Enumerable.Range(0, n).Sum(i => (x.Span[i * d + a] - mean[a]) * (x.Span[i * d + b] - mean[b])) / (n - 1);
        var (values, vectors) = SymmetricEigen.Decompose(cov);
        var pca = new Pca(3, seed: 1).Fit(x);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(values[c], pca.ExplainedVariance![c], 3);
            double dot = Enumerable.Range(0, d).Sum(j => vectors[c, j] * pca.Axes!.Span[c * d + j]);
            Assert.Equal(1.0, Math.Abs(dot), 4);
        }
        double total = Enumerable.Range(0, d).Sum(j => cov[j, j]);
        Assert.Equal(values[0] / total, pca.ExplainedVarianceRatio![0], 4);
        var coords = pca.Transform(x);
        Assert.Equal([n, 3], coords.Shape);
        Assert.Equal(0, Enumerable.Range(0, n).Average(i => (double)coords.Span[i * 3]), 3);   // centred
        Assert.Contains("components=0", Assert.Throws<ArgumentOutOfRangeException>(() => new Pca(0)).Message);
        Assert.Contains("13 components", Assert.Throws<ArgumentException>(() => new Pca(13).Fit(x)).Message);
    }

    [Fact]
    public void SymmetricEigenReconstructsItsMatrix()
    {
        var rng = new Random(9);
        int n = 6;
        var a = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = i; j < n; j++) a[i, j] = a[j, i] = rng.NextDouble() - 0.5;
        var (values, vectors) = SymmetricEigen.Decompose(a);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(a[i, j], Enumerable.Range(0, n).Sum(r => values[r] * vectors[r, i] * vectors[r, j]), 10);
    }

    /// <summary>scikit-learn's definition, written out with full sorts.</summary>
    private static double NaiveTrustworthiness(float[] x, int d, float[] y, int e, int n, int k)
    {
        double Dist(float[] v, int w, int i, int j) => Enumerable.Range(0, w).Sum(c => Math.Pow(v[i * w + c] - v[j * w + c], 2));
        double t = 0;
        for (int i = 0; i < n; i++)
        {
            var orig = Enumerable.Range(0, n).Where(j => j != i).OrderBy(j => Dist(x, d, i, j)).ThenBy(j => j).ToList();
            var emb = Enumerable.Range(0, n).Where(j => j != i).OrderBy(j => Dist(y, e, i, j)).ThenBy(j => j).Take(k);
            foreach (int j in emb) t += Math.Max(0, orig.IndexOf(j) + 1 - k);
        }
        return 1 - t * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0));
    }

    [Fact]
    public void TrustworthinessMatchesTheNaiveDefinition()
    {
        var rng = new Random(3);
        int n = 60, d = 5;
        var x = Enumerable.Range(0, n * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = Enumerable.Range(0, n * 2).Select(i => x[i / 2 * d + i % 2] + (float)(0.3 * rng.NextDouble())).ToArray();
        foreach (int k in new[] { 1, 5, 12 })
            Assert.Equal(NaiveTrustworthiness(x, d, y, 2, n, k), Metrics.Trustworthiness(Tensor.FromArray(x, n, d), Tensor.FromArray(y, n, 2), k), 10);
        Assert.Equal(1.0, Metrics.Trustworthiness(Tensor.FromArray(x, n, d), Tensor.FromArray(x, n, d), 5), 12);
    }

    /// <summary>Enough points for several row and column blocks of the cache-blocked ranks.</summary>
    [Fact]
    public void TrustworthinessAcrossBlocksMatchesTheNaiveDefinition()
    {
        var rng = new Random(8);
        int n = 700, d = 5, k = 7;
        var x = Enumerable.Range(0, n * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = Enumerable.Range(0, n * 2).Select(i => x[i / 2 * d + i % 2] + (float)(0.5 * rng.NextDouble())).ToArray();
        double t = Metrics.Trustworthiness(Tensor.FromArray(x, n, d), Tensor.FromArray(y, n, 2), k);
        Assert.Equal(NaiveTrustworthiness(x, d, y, 2, n, k), t, 10);
        Assert.InRange(t, 0.5, 0.99);   // a noisy embedding: many embedded neighbours are ranked
    }

    [Fact]
    public void KnnAccuracySeesSeparatedClassesAndNotNoise()
    {
        var rng = new Random(4);
        int n = 300;
        var pts = new Tensor([n, 2]);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 3;
            pts.Span[2 * i] = (float)(labels[i] * 10 + rng.NextDouble());
            pts.Span[2 * i + 1] = (float)rng.NextDouble();
        }
        Assert.Equal(1.0, Metrics.KnnAccuracy(pts, labels));
        var shuffled = labels.OrderBy(_ => rng.Next()).ToArray();
        Assert.InRange(Metrics.KnnAccuracy(pts, shuffled), 0.15, 0.5);
    }
}
