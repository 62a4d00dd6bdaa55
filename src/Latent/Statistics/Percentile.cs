namespace Latent.Statistics;

/// <summary>Order statistics.</summary>
public static class Percentiles
{
    /// <summary>The <paramref name="q"/>-th percentile (0–100) of <paramref name="values"/> with linear interpolation between the closest ranks (numpy's default).</summary>
    /// <exception cref="ArgumentException">No values, or q outside [0, 100].</exception>
    public static double Linear(IReadOnlyList<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("A percentile of no values.", nameof(values));
        if (!(q >= 0 && q <= 100)) throw new ArgumentOutOfRangeException(nameof(q), q, $"Expected 0 ≤ q ≤ 100. Received: q={q}.");
        var sorted = values.Order().ToArray();
        double pos = q / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
