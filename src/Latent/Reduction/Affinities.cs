namespace Latent.Reduction;

/// <summary>t-SNE's input affinities: perplexity-calibrated conditional probabilities on k nearest neighbours, symmetrised into a sparse P.</summary>
internal static class Affinities
{
    /// <summary>
    /// For each point, the precision β with <c>p_{j|i} ∝ exp(−β·d²ᵢⱼ)</c> over its k neighbours whose entropy
    /// <c>H = log Σ e^{−βd²} + β·Σ d² p</c> is log(perplexity) (natural log), by bisection as scikit-learn's
    /// <c>_binary_search_perplexity</c> (100 steps, tolerance 1e-5). Returns the conditional P (N×k, rows sum to 1).
    /// </summary>
    public static float[] Conditional(float[] dist2, int n, int k, double perplexity)
    {
        var p = new float[(long)n * k];
        double target = Math.Log(perplexity);
        Parallel.For(0, n, i =>
        {
            var d = dist2.AsSpan(i * k, k);
            var row = p.AsSpan(i * k, k);
            double beta = 1, lo = double.NegativeInfinity, hi = double.PositiveInfinity;
            for (int step = 0; step < 100; step++)
            {
                double sum = 0, weighted = 0;
                for (int j = 0; j < k; j++)
                {
                    double e = Math.Exp(-d[j] * beta);
                    row[j] = (float)e;
                    sum += e;
                    weighted += d[j] * e;
                }
                if (sum == 0) sum = 1e-8;
                double entropy = Math.Log(sum) + beta * weighted / sum;
                for (int j = 0; j < k; j++) row[j] = (float)(row[j] / sum);
                double diff = entropy - target;
                if (Math.Abs(diff) <= 1e-5) break;
                if (diff > 0)
                {
                    lo = beta;
                    beta = double.IsPositiveInfinity(hi) ? beta * 2 : (beta + hi) / 2;
                }
                else
                {
                    hi = beta;
                    beta = double.IsNegativeInfinity(lo) ? beta / 2 : (beta + lo) / 2;
                }
            }
        });
        return p;
    }

    /// <summary>
    /// <c>P = (P_cond + P_condᵀ) / Σ</c> as compressed sparse rows over the neighbour graph (scikit-learn's
    /// symmetrisation); each row's entries sorted by column.
    /// </summary>
    public static (int[] RowStart, int[] Col, float[] Val) Symmetrize(int[] index, float[] conditional, int n, int k)
    {
        long m = 2L * n * k;
        var keys = new long[m];
        var vals = new float[m];
        long t = 0;
        for (int i = 0; i < n; i++)
            for (int a = 0; a < k; a++)
            {
                int j = index[(long)i * k + a];
                float v = conditional[(long)i * k + a];
                keys[t] = (long)i * n + j; vals[t++] = v;
                keys[t] = (long)j * n + i; vals[t++] = v;
            }
        Array.Sort(keys, vals);
        var rowStart = new int[n + 1];
        var cols = new List<int>((int)Math.Min(m, int.MaxValue));
        var values = new List<float>((int)Math.Min(m, int.MaxValue));
        double total = 0;
        for (long s = 0; s < m;)
        {
            long key = keys[s];
            double v = 0;
            while (s < m && keys[s] == key) v += vals[s++];
            int row = (int)(key / n), col = (int)(key % n);
            rowStart[row + 1]++;
            cols.Add(col);
            values.Add((float)v);
            total += v;
        }
        for (int i = 0; i < n; i++) rowStart[i + 1] += rowStart[i];
        var val = values.ToArray();
        float scale = (float)(1 / Math.Max(total, double.Epsilon));
        for (int s = 0; s < val.Length; s++) val[s] *= scale;
        return (rowStart, cols.ToArray(), val);
    }
}
