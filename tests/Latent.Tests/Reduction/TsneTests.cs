using Latent.Reduction;

namespace Latent.Tests.Reduction;

/// <summary>t-SNE's parts against naive versions: neighbours, perplexity calibration, the exact gradient, Barnes-Hut; and the whole on clusters.</summary>
public class TsneTests
{
    private static float[] Points(int n, int d, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void NeighborsMatchABruteForceSort()
    {
        int n = 150, d = 7, k = 9;
        var x = Points(n, d, 1);
        x.AsSpan(0, d).CopyTo(x.AsSpan(5 * d, d));      // a duplicate: at distance 0
        var (index, dist) = Neighbors.Exact(x, n, d, k);
        for (int i = 0; i < n; i++)
        {
            var expected = Enumerable.Range(0, n).Where(j => j != i)
                .Select(j => (D: Enumerable.Range(0, d).Sum(c => Math.Pow(x[i * d + c] - x[j * d + c], 2)), J: j))
                .OrderBy(p => p.D).ThenBy(p => p.J).Take(k).ToArray();
            for (int a = 0; a < k; a++)
            {
                Assert.True(Math.Abs(expected[a].D - dist[i * k + a]) < 1e-5, $"row {i}, neighbour {a}: {dist[i * k + a]} vs {expected[a].D}");
                if (a + 1 < k && Math.Abs(expected[a].D - expected[a + 1].D) > 1e-4) Assert.Equal(expected[a].J, index[i * k + a]);
            }
        }
        Assert.Equal(5, index[0]);
        Assert.Equal(0, dist[0]);
    }

    /// <summary>Several row and column blocks of the cache-blocked search, and more dimensions than one GEMM slab.</summary>
    [Fact]
    public void NeighborsAcrossBlocksMatchABruteForceSort()
    {
        int n = 1100, d = 300, k = 12;
        var x = Points(n, d, 9);
        x.AsSpan(3 * d, d).CopyTo(x.AsSpan(1000 * d, d));      // a duplicate in another column block
        var (index, dist) = Neighbors.Exact(x, n, d, k);
        for (int i = 0; i < n; i += 37)
        {
            var expected = Enumerable.Range(0, n).Where(j => j != i)
                .Select(j => (D: Enumerable.Range(0, d).Sum(c => (double)(x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c])), J: j))
                .OrderBy(p => p.D).ThenBy(p => p.J).Take(k).ToArray();
            for (int a = 0; a < k; a++)
            {
                Assert.True(Math.Abs(expected[a].D - dist[i * k + a]) < 1e-3, $"row {i}, neighbour {a}: {dist[i * k + a]} vs {expected[a].D}");
                if (a + 1 < k && Math.Abs(expected[a].D - expected[a + 1].D) > 1e-2) Assert.Equal(expected[a].J, index[i * k + a]);
            }
        }
        Assert.Equal(1000, index[3 * k]);
        Assert.Equal(3, index[1000 * k]);
        Assert.True(dist[1000 * k] < 1e-3, $"{dist[1000 * k]}");   // ‖a‖² + ‖b‖² − 2a·b in single precision: ~1e-4 from 0 at ‖a‖² ≈ 100
    }

    [Fact]
    public void PerplexityCalibrationMatchesABruteForceBisection()
    {
        int n = 40, k = 25;
        var (_, dist) = Neighbors.Exact(Points(n, 5, 2), n, 5, k);
        foreach (double perplexity in new[] { 3.0, 8.0, 20.0 })
        {
            var p = Affinities.Conditional(dist, n, k, perplexity);
            for (int i = 0; i < n; i++)
            {
                // bisection on log β over a wide range, in double, to 1e-12
                double lo = -30, hi = 30;
                double Entropy(double beta)
                {
                    double sum = 0, w = 0;
                    for (int j = 0; j < k; j++) { double e = Math.Exp(-dist[i * k + j] * beta); sum += e; w += dist[i * k + j] * e; }
                    return Math.Log(sum) + beta * w / sum;
                }
                for (int t = 0; t < 200; t++)
                {
                    double mid = (lo + hi) / 2;
                    if (Entropy(Math.Exp(mid)) > Math.Log(perplexity)) lo = mid; else hi = mid;
                }
                double b = Math.Exp((lo + hi) / 2), z = Enumerable.Range(0, k).Sum(j => Math.Exp(-dist[i * k + j] * b));
                for (int j = 0; j < k; j++)
                    Assert.True(Math.Abs(Math.Exp(-dist[i * k + j] * b) / z - p[i * k + j]) < 1e-4, $"perplexity {perplexity}, row {i}, entry {j}");
                Assert.Equal(1.0, Enumerable.Range(0, k).Sum(j => (double)p[i * k + j]), 5);
            }
        }
    }

    private static ((int[], int[], float[]) P, double[] Y, int N) Problem(int n, int seed)
    {
        int d = 4;
        var x = Points(n, d, seed);
        int k = n - 1;
        var (index, dist) = Neighbors.Exact(x, n, d, k);
        var p = Affinities.Symmetrize(index, Affinities.Conditional(dist, n, k, n / 4.0), n, k);
        var rng = new Random(seed + 1);
        var y = Enumerable.Range(0, 2 * n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        return (p, y, n);
    }

    [Fact]
    public void TheExactGradientMatchesFiniteDifferencesOfTheCost()
    {
        var (p, y, n) = Problem(12, 3);
        var grad = new double[2 * n];
        Tsne.ExactGradient(p, y, n, 1, grad);
        double h = 1e-5;
        for (int i = 0; i < 2 * n; i++)
        {
            double keep = y[i];
            y[i] = keep + h; double plus = Tsne.ExactCost(p, y, n);
            y[i] = keep - h; double minus = Tsne.ExactCost(p, y, n);
            y[i] = keep;
            Assert.Equal((plus - minus) / (2 * h), grad[i], 6);
        }
        Assert.Equal(1.0, p.Item3.Sum(v => (double)v), 5);   // P sums to 1
    }

    [Fact]
    public void BarnesHutMatchesTheExactGradient()
    {
        var (p, y, n) = Problem(300, 4);
        var exact = new double[2 * n];
        double exactCost = Tsne.ExactGradient(p, y, n, 1, exact);
        var bh0 = new double[2 * n];
        double cost0 = Tsne.BarnesHutGradient(p, y, n, 1, 0.0, bh0, withCost: true, new QuadTree());   // θ = 0: every point on its own
        for (int i = 0; i < 2 * n; i++) Assert.Equal(exact[i], bh0[i], 9);
        Assert.Equal(exactCost, cost0, 9);
        var bh = new double[2 * n];
        Tsne.BarnesHutGradient(p, y, n, 1, 0.5, bh, withCost: true, new QuadTree());
        double err = Math.Sqrt(bh.Zip(exact).Sum(t => (t.First - t.Second) * (t.First - t.Second)));
        double norm = Math.Sqrt(exact.Sum(v => v * v));
        Assert.True(err < 0.05 * norm, $"θ = 0.5: relative error {err / norm}");
    }

    /// <summary>The steps without the cost take the vectorised single-precision attraction; it matches the double one.</summary>
    [Theory]
    [InlineData(301)]
    [InlineData(64)]
    public void TheFastAttractionMatchesTheDoubleOne(int n)
    {
        var (p, y, _) = Problem(n, 7);
        for (int i = 0; i < 2 * n; i++) y[i] = y[i] * 10 + 1000;   // wide, and far from the origin
        var withCost = new double[2 * n];
        var fast = new double[2 * n];
        Tsne.FftGradient(p, y, n, 12, withCost, withCost: true, new FftRepulsion());
        Tsne.FftGradient(p, y, n, 12, fast, withCost: false, new FftRepulsion());
        double norm = Math.Sqrt(withCost.Sum(v => v * v)) / Math.Sqrt(n);
        for (int i = 0; i < 2 * n; i++) Assert.True(Math.Abs(withCost[i] - fast[i]) < 1e-5 * norm, $"{i}: {fast[i]} vs {withCost[i]}");
    }

    [Fact]
    public void FftInterpolationMatchesTheExactGradientAndConvergesAsTheBoxesShrink()
    {
        // A small embedding: 54 boxes of 0.07, on which K is nearly quadratic.
        var (p, y, n) = Problem(400, 5);
        var exact = new double[2 * n];
        double exactCost = Tsne.ExactGradient(p, y, n, 1, exact);
        var (err, cost) = FftError(p, y, n, exact, new FftRepulsion());
        Assert.True(err < 1e-4, $"relative error {err}");
        Assert.Equal(exactCost, cost, 5);

        // A wide one (40 units): FIt-SNE's working point is boxes of about 1, where quadratic interpolation is good
        // to about a percent; halving the boxes must cut the error about 8 times (third order), else the grid
        // convolution, not the interpolation, is wrong.
        for (int i = 0; i < 2 * n; i++) y[i] *= 10;
        Tsne.ExactGradient(p, y, n, 1, exact);
        var errors = new[] { 54, 108, 216 }.Select(b => FftError(p, y, n, exact, new FftRepulsion { MinBoxes = b }).Error).ToArray();
        Assert.True(errors[0] < 0.05, $"54 boxes: relative error {errors[0]}");
        Assert.True(errors[1] < errors[0] / 5 && errors[2] < errors[1] / 5, $"relative errors {string.Join(", ", errors)} for 54, 108, 216 boxes");
    }

    /// <summary>The tiling is a layout only; K's spectra are kept across calls and give what fresh ones give.</summary>
    [Fact]
    public void FftTilesAndKeptSpectraDoNotChangeTheRepulsion()
    {
        var (_, y, n) = Problem(300, 8);
        for (int i = 0; i < 2 * n; i++) y[i] *= 30;   // ~120 units: a grid of 128 boxes, L = 768
        double[] Repulse(FftRepulsion r, double[] at)
        {
            var rep = new double[2 * n];
            double z = r.Compute(at, n, rep);
            return [.. rep, z];
        }
        static void Close(double[] expected, double[] actual, double tolerance)
        {
            double scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{i}: {actual[i]} vs {expected[i]}");
        }
        var reference = Repulse(new FftRepulsion { Tile = 16 }, y);
        foreach (int tile in new[] { 8, 32 }) Close(reference, Repulse(new FftRepulsion { Tile = tile }, y), 1e-5);

        var kept = new FftRepulsion();
        Repulse(kept, y);
        Assert.Equal(3, kept.SpectraComputed);            // the rungs below, at and above the box side
        Close(reference, Repulse(kept, y), 0);
        Assert.Equal(3, kept.SpectraComputed);            // the same grid: nothing computed
        var wider = y.Select(v => v * 1.0005).ToArray();  // a box side 0.05% longer, between the same rungs or the next
        var fromKept = Repulse(kept, wider);
        Assert.InRange(kept.SpectraComputed, 3, 4);
        Close(Repulse(new FftRepulsion(), wider), fromKept, 0);
        Assert.Throws<InvalidOperationException>(() => Repulse(new FftRepulsion { Tile = 24 }, y));
    }

    private static (double Error, double Cost) FftError((int[], int[], float[]) p, double[] y, int n, double[] exact, FftRepulsion repulsion)
    {
        var fft = new double[2 * n];
        double cost = Tsne.FftGradient(p, y, n, 1, fft, withCost: true, repulsion);
        double err = Math.Sqrt(fft.Zip(exact).Sum(t => (t.First - t.Second) * (t.First - t.Second)));
        return (err / Math.Sqrt(exact.Sum(v => v * v)), cost);
    }

    [Fact]
    public void RelabellingKeepsEveryAffinityAndVisitsNeighboursTogether()
    {
        var (p, _, n) = Problem(60, 6);
        var (q, order) = Tsne.Relabel(p, n);
        Assert.Equal(Enumerable.Range(0, n), order.Order());                // a permutation
        var position = new int[n];
        for (int i = 0; i < n; i++) position[order[i]] = i;
        for (int i = 0; i < n; i++)
        {
            int old = order[i];
            Assert.Equal(p.Item1[old + 1] - p.Item1[old], q.RowStart[i + 1] - q.RowStart[i]);
            for (int t = 0; t < q.RowStart[i + 1] - q.RowStart[i]; t++)
            {
                Assert.Equal(position[p.Item2[p.Item1[old] + t]], q.Col[q.RowStart[i] + t]);
                Assert.Equal(p.Item3[p.Item1[old] + t], q.Val[q.RowStart[i] + t]);
            }
        }
        // Two chains 0-2-4-… and 1-3-5-…, interleaved: breadth-first order puts each chain's points together.
        int m = 10;
        var rows = Enumerable.Range(0, m).Select(i => new[] { i - 2, i + 2 }.Where(j => j >= 0 && j < m).ToArray()).ToArray();
        var chain = (RowStart: rows.Select(r => r.Length).Prepend(0).ToArray(), Col: rows.SelectMany(r => r).ToArray(), Val: rows.SelectMany(r => r.Select(_ => 1f)).ToArray());
        for (int i = 0; i < m; i++) chain.RowStart[i + 1] += chain.RowStart[i];
        Assert.Equal([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], Tsne.Relabel(chain, m).Order);
    }

    /// <summary>The four-at-a-time traversal sums the same cells as the one-at-a-time one, duplicates included.</summary>
    [Fact]
    public void GroupedTraversalMatchesTheOneCellTraversal()
    {
        var rng = new Random(5);
        int n = 500;
        var y = new double[2 * n];
        for (int i = 0; i < 2 * n; i++) y[i] = rng.NextDouble() * 40 - 20;
        for (int i = 0; i < 20; i++) { y[2 * (n - 1 - i)] = y[2 * i]; y[2 * (n - 1 - i) + 1] = y[2 * i + 1]; }   // duplicates
        var tree = new QuadTree();
        tree.Build(y, n);
        Span<int> stack = stackalloc int[QuadTree.StackSize];
        foreach (double theta in new[] { 0.0, 0.5, 1.0 })
            for (int i = 0; i < n; i++)
            {
                var a = tree.Repulsion(y[2 * i], y[2 * i + 1], theta, stack);
                var b = tree.RepulsionGrouped(y[2 * i], y[2 * i + 1], theta, stack);
                Assert.Equal(a.SumQ, b.SumQ, 1e-9 * Math.Max(1, Math.Abs(a.SumQ)));
                Assert.Equal(a.Fx, b.Fx, 1e-9 * Math.Max(1, Math.Abs(a.Fx)));
                Assert.Equal(a.Fy, b.Fy, 1e-9 * Math.Max(1, Math.Abs(a.Fy)));
            }
        var same = new double[2 * 50];                  // a tree that is one leaf
        tree.Build(same, 50);
        Assert.Equal((0.0, 0.0, 49.0), tree.RepulsionGrouped(0, 0, 0.5, stack));
    }

    [Fact]
    public void DuplicatesAndATreeOfIdenticalPointsWork()
    {
        var y = new double[2 * 50];                 // all at the origin
        var tree = new QuadTree();
        tree.Build(y, 50);
        var (fx, fy, sumQ) = tree.Repulsion(0, 0, 0.5, stackalloc int[QuadTree.StackSize]);
        Assert.Equal((0.0, 0.0, 49.0), (fx, fy, sumQ));
        var x = new Tensor([40, 3]);                 // 4 clusters of 10 identical points
        for (int i = 0; i < 40; i++) x.Span[i * 3 + i / 10 % 3] = i / 10 + 1;
        var e = new Tsne(perplexity: 5, seed: 1, iterations: 300).FitTransform(x);
        Assert.All(e.Span.ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1.0, Metrics.KnnAccuracy(e, Enumerable.Range(0, 40).Select(i => i / 10).ToArray(), neighbors: 3));
    }

    [Fact]
    public void SeparatesClustersReproduciblyAndExactAgreesWithBarnesHutAndFft()
    {
        // 5 Gaussian clusters in 10-D.
        var rng = new Random(7);
        int n = 150, d = 10;
        var x = new Tensor([n, d]);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 5;
            for (int c = 0; c < d; c++) x.Span[i * d + c] = (float)((c == labels[i] ? 8 : 0) + rng.NextDouble());
        }
        var tsne = new Tsne(perplexity: 10, seed: 1);
        var steps = new List<int>();
        tsne.Progress = (it, _) => steps.Add(it);
        var a = tsne.FitTransform(x);
        var b = new Tsne(perplexity: 10, seed: 1).FitTransform(x);
        Assert.Equal(a.Span.ToArray(), b.Span.ToArray());
        Assert.Equal(1.0, Metrics.KnnAccuracy(a, labels, neighbors: 5));
        Assert.True(Metrics.Trustworthiness(x, a, 5) > 0.9);
        Assert.InRange(tsne.KlDivergence, 0.01, 2);
        Assert.Equal(50, steps[0]);
        var exact = new Tsne(perplexity: 10, seed: 1, method: "exact");
        exact.FitTransform(x);
        Assert.Equal(tsne.KlDivergence, exact.KlDivergence, 1);
        var fft = new Tsne(perplexity: 10, seed: 1, method: "fft");
        var e = fft.FitTransform(x);
        Assert.Equal(1.0, Metrics.KnnAccuracy(e, labels, neighbors: 5));
        Assert.Equal(exact.KlDivergence, fft.KlDivergence, 1);
        Assert.Equal(e.Span.ToArray(), new Tsne(perplexity: 10, seed: 1, method: "fft").FitTransform(x).Span.ToArray());
    }

    [Fact]
    public void BadInputGetsClearErrors()
    {
        var x = new Tensor([30, 3]);
        Assert.Contains("3·perplexity = 30", Assert.Throws<ArgumentException>(() => new Tsne(perplexity: 10).FitTransform(x)).Message);
        Assert.Contains("perplexity=0", Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne(perplexity: 0)).Message);
        Assert.Contains("perplexity=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne(perplexity: -1)).Message);
        Assert.Contains("at least 4 points, received 3", Assert.Throws<ArgumentException>(() => new Tsne(perplexity: 0.5).FitTransform(new Tensor([3, 2]))).Message);
        var bad = new Tensor([20, 2]);
        bad.Span[13] = float.NaN;
        Assert.Contains("sample 6, feature 1", Assert.Throws<ArgumentException>(() => new Tsne(perplexity: 2).FitTransform(bad)).Message);
        Assert.Contains("method=fast", Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne(method: "fast")).Message);
        Assert.Contains("3 labels", Assert.Throws<ArgumentException>(() => Metrics.KnnAccuracy(new Tensor([20, 2]), [0, 1, 2])).Message);
        Assert.Contains("19 embedded", Assert.Throws<ArgumentException>(() => Metrics.Trustworthiness(new Tensor([20, 3]), new Tensor([19, 2]))).Message);
    }
}
