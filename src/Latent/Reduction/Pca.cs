using Latent.Kernels;
using Latent.Statistics;

namespace Latent.Reduction;

/// <summary>
/// Principal component analysis by randomized SVD (Halko, Martinsson &amp; Tropp 2011, as scikit-learn's
/// <c>svd_solver="randomized"</c>): for centred X (N×D) and l = components + oversamples, Q = orth(X·Ω) with Ω a
/// seeded D×l Gaussian, refined by power iterations Q ← orth(X·(Xᵀ·Q)); then the SVD of the small B = Qᵀ·X gives
/// the top right singular vectors. Each component's sign makes its largest loading positive.
/// </summary>
public sealed class Pca
{
    /// <summary>A PCA of <paramref name="components"/> components.</summary>
    /// <param name="components">k, the number of components kept.</param>
    /// <param name="seed">Seeds Ω.</param>
    /// <param name="oversamples">Extra random directions (scikit-learn's 10).</param>
    /// <param name="powerIterations">Power iterations; −1 for scikit-learn's "auto" (7 when k &lt; 0.1·min(N, D), else 4).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count that is not positive (or negative for the last two).</exception>
    public Pca(int components, int seed = 0, int oversamples = 10, int powerIterations = -1)
    {
        if (components <= 0) throw new ArgumentOutOfRangeException(nameof(components), components, $"Expected a positive number of components. Received: components={components}.");
        if (oversamples < 0) throw new ArgumentOutOfRangeException(nameof(oversamples), oversamples, $"oversamples cannot be negative. Received: oversamples={oversamples}.");
        if (powerIterations < -1) throw new ArgumentOutOfRangeException(nameof(powerIterations), powerIterations, $"powerIterations must be −1 (auto) or ≥ 0. Received: powerIterations={powerIterations}.");
        Components = components;
        Seed = seed;
        Oversamples = oversamples;
        PowerIterations = powerIterations;
    }

    /// <summary>k.</summary>
    public int Components { get; }

    /// <summary>The seed of Ω.</summary>
    public int Seed { get; }

    /// <summary>Extra random directions.</summary>
    public int Oversamples { get; }

    /// <summary>Power iterations (−1: auto).</summary>
    public int PowerIterations { get; }

    /// <summary>The fitted axes, (k, D), orthonormal rows; null before <see cref="Fit"/>.</summary>
    public Tensor? Axes { get; private set; }

    /// <summary>The training mean, (D).</summary>
    public float[]? Mean { get; private set; }

    /// <summary>The variance along each axis (s²/(N − 1)), descending.</summary>
    public double[]? ExplainedVariance { get; private set; }

    /// <summary>Each axis's share of the total variance.</summary>
    public double[]? ExplainedVarianceRatio { get; private set; }

    /// <summary>Fits the axes to <paramref name="x"/> (N, D…), N ≥ 2, k ≤ min(N, D).</summary>
    /// <exception cref="ArgumentException">Too few samples or features for k components, or non-finite values.</exception>
    public Pca Fit(SampleSet x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Rows, d = x.RowSize, k = Components;
        if (n < 2) throw new ArgumentException($"PCA needs at least 2 samples, received {n}.", nameof(x));
        if (k > Math.Min(n, d)) throw new ArgumentException($"PCA of {k} components needs at least {k} samples and features; received {n} samples of {d}.", nameof(x));
        var a = new float[(long)n * d];
        x.CopyRows(0, n, a);
        if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum<float>(a)) && a.Any(v => !float.IsFinite(v)))
            throw new ArgumentException("PCA input holds NaN or infinite values.", nameof(x));
        var mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += a[(long)i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        double totalVar = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                float c = a[(long)i * d + j] -= (float)mean[j];
                totalVar += (double)c * c;
            }
        totalVar /= n - 1;

        int l = Math.Min(k + Oversamples, Math.Min(n, d));
        int iters = PowerIterations >= 0 ? PowerIterations : k < 0.1 * Math.Min(n, d) ? 7 : 4;
        var omega = new float[d * l];
        var rng = new Rng((ulong)Seed * 0x9E3779B97F4A7C15UL + 11);
        for (int i = 0; i < omega.Length; i++) omega[i] = (float)rng.NextGaussianPair().A;
        var q = new float[(long)n * l];      // N×l
        var t = new float[d * l];            // D×l
        Gemm.Multiply(false, false, n, l, d, a, d, omega, l, q, l, accumulate: false);
        Orthonormalize(q, n, l);
        for (int it = 0; it < iters; it++)
        {
            Gemm.Multiply(true, false, d, l, n, a, d, q, l, t, l, accumulate: false);   // Xᵀ·Q
            Orthonormalize(t, d, l);
            Gemm.Multiply(false, false, n, l, d, a, d, t, l, q, l, accumulate: false);  // X·(XᵀQ)
            Orthonormalize(q, n, l);
        }
        var b = new float[l * d];                                                         // Qᵀ·X, l×D
        Gemm.Multiply(true, false, l, d, n, q, l, a, d, b, d, accumulate: false);
        var bbt = new double[l, l];
        for (int r = 0; r < l; r++)
            for (int s = r; s < l; s++)
            {
                double dot = 0;
                for (int j = 0; j < d; j++) dot += (double)b[r * d + j] * b[s * d + j];
                bbt[r, s] = bbt[s, r] = dot;
            }
        var (values, vectors) = SymmetricEigen.Decompose(bbt);
        var axes = new Tensor([k, d]);
        var ax = axes.Span;
        var variance = new double[k];
        for (int c = 0; c < k; c++)
        {
            double sigma = Math.Sqrt(Math.Max(values[c], 0));
            variance[c] = values[c] / (n - 1);
            var row = new double[d];
            for (int r = 0; r < l; r++)
            {
                double u = vectors[c, r];
                for (int j = 0; j < d; j++) row[j] += u * b[r * d + j];
            }
            int big = 0;
            for (int j = 1; j < d; j++) if (Math.Abs(row[j]) > Math.Abs(row[big])) big = j;
            double sign = row[big] < 0 ? -1 : 1, scale = sigma > 0 ? sign / sigma : 0;
            for (int j = 0; j < d; j++) ax[c * d + j] = (float)(row[j] * scale);
        }
        Axes = axes;
        Mean = mean.Select(v => (float)v).ToArray();
        ExplainedVariance = variance;
        ExplainedVarianceRatio = variance.Select(v => totalVar > 0 ? v / totalVar : 0).ToArray();
        return this;
    }

    /// <summary>Coordinates of <paramref name="x"/> (N, D…) on the fitted axes: <c>(x − mean)·Axesᵀ</c>, (N, k).</summary>
    /// <exception cref="InvalidOperationException">Not fitted.</exception>
    /// <exception cref="ArgumentException">x has another number of features than the fit.</exception>
    public Tensor Transform(SampleSet x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (Axes is null || Mean is null) throw new InvalidOperationException("Call Fit before Transform.");
        int n = x.Rows, d = x.RowSize, k = Components;
        if (d != Mean.Length) throw new ArgumentException($"This PCA was fitted on {Mean.Length} features; x has {d}.", nameof(x));
        var a = new float[(long)n * d];
        x.CopyRows(0, n, a);
        for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Subtract(a.AsSpan(i * d, d), Mean, a.AsSpan(i * d, d));
        var result = new Tensor([n, k]);
        Gemm.Multiply(false, true, n, k, d, a, d, Axes.Span, d, result.Span, k, accumulate: false);
        return result;
    }

    /// <summary><see cref="Fit"/> then <see cref="Transform"/> of the same samples.</summary>
    public Tensor FitTransform(SampleSet x) => Fit(x).Transform(x);

    /// <summary>Modified Gram–Schmidt on the <paramref name="cols"/> columns of a rows×cols row-major matrix (in double).</summary>
    private static void Orthonormalize(float[] m, int rows, int cols)
    {
        var col = new double[rows];
        var basis = new double[cols][];
        for (int c = 0; c < cols; c++)
        {
            for (int r = 0; r < rows; r++) col[r] = m[(long)r * cols + c];
            for (int p = 0; p < c; p++)
            {
                double dot = 0;
                var bp = basis[p];
                for (int r = 0; r < rows; r++) dot += col[r] * bp[r];
                for (int r = 0; r < rows; r++) col[r] -= dot * bp[r];
            }
            double norm = 0;
            for (int r = 0; r < rows; r++) norm += col[r] * col[r];
            norm = Math.Sqrt(norm);
            basis[c] = new double[rows];
            if (norm > 1e-30) for (int r = 0; r < rows; r++) basis[c][r] = col[r] / norm;
            for (int r = 0; r < rows; r++) m[(long)r * cols + c] = (float)basis[c][r];
        }
    }
}
