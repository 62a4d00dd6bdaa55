namespace Latent.Statistics;

/// <summary>Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations, in double precision.</summary>
internal static class SymmetricEigen
{
    /// <summary>
    /// Eigenvalues (descending) and eigenvectors (as rows of <c>vectors</c>, same order) of the symmetric n×n
    /// <paramref name="a"/> (row-major; only read). Converges quadratically; sweeps until the off-diagonal
    /// mass is below 1e-14 of the matrix's.
    /// </summary>
    public static (double[] Values, double[,] Vectors) Decompose(double[,] a)
    {
        int n = a.GetLength(0);
        var m = (double[,])a.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        double total = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) total += m[i, j] * m[i, j];
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += m[i, j] * m[i, j];
            if (off <= 1e-28 * total || off == 0) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (m[p, q] == 0) continue;
                    double theta = (m[q, q] - m[p, p]) / (2 * m[p, q]);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double mkp = m[k, p], mkq = m[k, q];
                        m[k, p] = c * mkp - s * mkq;
                        m[k, q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double mpk = m[p, k], mqk = m[q, k];
                        m[p, k] = c * mpk - s * mqk;
                        m[q, k] = s * mpk + c * mqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderByDescending(i => m[i, i]).ToArray();
        var values = order.Select(i => m[i, i]).ToArray();
        var vectors = new double[n, n];
        for (int r = 0; r < n; r++) for (int k = 0; k < n; k++) vectors[r, k] = v[k, order[r]];
        return (values, vectors);
    }
}
