namespace Latent.Tests.TestSupport;

/// <summary>Small data sets with known structure.</summary>
internal static class Synthetic
{
    /// <summary>
    /// x = σ(U·z), U fixed by <paramref name="seed"/> (split one call into train and test so both share U), with z ~ N(0, I_rank), U ~ N(0, 3²): values in (0, 1) on a rank-<paramref name="rank"/>
    /// manifold, which a code of <paramref name="rank"/> or more units can reconstruct well.
    /// </summary>
    public static float[,] LowRank(int samples, int features, int rank, int seed)
    {
        var rng = new Rng((ulong)seed);
        var u = new double[features, rank];
        for (int f = 0; f < features; f++)
        for (int r = 0; r < rank; r++) u[f, r] = 3 * rng.NextGaussian();
        var x = new float[samples, features];
        var z = new double[rank];
        for (int s = 0; s < samples; s++)
        {
            for (int r = 0; r < rank; r++) z[r] = rng.NextGaussian();
            for (int f = 0; f < features; f++)
            {
                double a = 0;
                for (int r = 0; r < rank; r++) a += u[f, r] * z[r];
                x[s, f] = (float)(1 / (1 + Math.Exp(-a)));
            }
        }
        return x;
    }

    /// <summary>Rows [start, start + count) of a 2-D array.</summary>
    public static float[,] Rows(float[,] x, int start, int count)
    {
        int f = x.GetLength(1);
        var r = new float[count, f];
        Buffer.BlockCopy(x, start * f * sizeof(float), r, 0, count * f * sizeof(float));
        return r;
    }

    /// <summary>Uniform values in [lo, hi).</summary>
    public static float[] Uniform(int n, int seed, float lo = -1, float hi = 1)
    {
        var rng = new Rng((ulong)seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng.NextFloat();
        return x;
    }

    /// <summary>Values of <paramref name="x"/> set to zero except a fraction <paramref name="keep"/> of them (a fixed pattern).</summary>
    public static void Sparsify(Span<float> x, double keep, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < x.Length; i++)
            if (rng.NextDouble() >= keep) x[i] = 0;
    }

    /// <summary><see cref="Sparsify(Span{float}, double, int)"/> over a matrix's values.</summary>
    public static void Sparsify(float[,] x, double keep, int seed) =>
        Sparsify(System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref x[0, 0], x.Length), keep, seed);

    /// <summary>Binary cross-entropy of predicting <paramref name="p"/> for targets <paramref name="t"/>, averaged.</summary>
    public static double Bce(float[,] t, Func<int, int, double> p)
    {
        double s = 0;
        int n = t.GetLength(0), f = t.GetLength(1);
        for (int i = 0; i < n; i++)
        for (int j = 0; j < f; j++)
        {
            double q = Math.Clamp(p(i, j), 1e-7, 1 - 1e-7);
            s -= t[i, j] * Math.Log(q) + (1 - t[i, j]) * Math.Log(1 - q);
        }
        return s / (n * f);
    }
}
