namespace Latent.Statistics;

/// <summary>Exact PCA of a small number of components by subspace iteration on the covariance (d ≤ a few thousand).</summary>
internal static class PrincipalAxes
{
    /// <summary>(N, d) rows → (N, k) coordinates on the top k principal axes (each axis's sign fixed so its largest loading is positive).</summary>
    public static Tensor Project(Tensor x, int k)
    {
        int n = x.Rows, d = x.RowSize;
        if (k > d) throw new ArgumentException($"Cannot project {d}-dimensional rows on {k} axes.");
        var mean = new double[d];
        for (int i = 0; i < n; i++) { var r = x.Row(i); for (int j = 0; j < d; j++) mean[j] += r[j]; }
        for (int j = 0; j < d; j++) mean[j] /= n;
        var cov = new double[d, d];
        var c = new double[d];
        for (int i = 0; i < n; i++)
        {
            var r = x.Row(i);
            for (int j = 0; j < d; j++) c[j] = r[j] - mean[j];
            for (int a = 0; a < d; a++) for (int b = a; b < d; b++) cov[a, b] += c[a] * c[b];
        }
        for (int a = 0; a < d; a++) for (int b = 0; b < a; b++) cov[a, b] = cov[b, a];
        // Subspace iteration: V ← orth(C V); converges to the top-k eigenvectors at the rate λ_{k+1}/λ_k.
        var v = new double[k, d];
        var rng = new Rng(12345);
        for (int a = 0; a < k; a++) for (int j = 0; j < d; j++) v[a, j] = rng.NextGaussianPair().A;
        var w = new double[k, d];
        for (int iter = 0; iter < 500; iter++)
        {
            for (int a = 0; a < k; a++)
                for (int j = 0; j < d; j++)
                {
                    double s = 0;
                    for (int b = 0; b < d; b++) s += cov[j, b] * v[a, b];
                    w[a, j] = s;
                }
            for (int a = 0; a < k; a++)   // Gram–Schmidt
            {
                for (int b = 0; b < a; b++)
                {
                    double dot = 0;
                    for (int j = 0; j < d; j++) dot += w[a, j] * w[b, j];
                    for (int j = 0; j < d; j++) w[a, j] -= dot * w[b, j];
                }
                double norm = 0;
                for (int j = 0; j < d; j++) norm += w[a, j] * w[a, j];
                norm = Math.Sqrt(norm);
                if (norm == 0) norm = 1;
                for (int j = 0; j < d; j++) w[a, j] /= norm;
            }
            (v, w) = (w, v);
        }
        for (int a = 0; a < k; a++)
        {
            int big = 0;
            for (int j = 1; j < d; j++) if (Math.Abs(v[a, j]) > Math.Abs(v[a, big])) big = j;
            if (v[a, big] < 0) for (int j = 0; j < d; j++) v[a, j] = -v[a, j];
        }
        var result = new Tensor([n, k]);
        var o = result.Span;
        for (int i = 0; i < n; i++)
        {
            var r = x.Row(i);
            for (int a = 0; a < k; a++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) s += (r[j] - mean[j]) * v[a, j];
                o[i * k + a] = (float)s;
            }
        }
        return result;
    }
}
