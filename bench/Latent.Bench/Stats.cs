namespace Latent.Bench;

/// <summary>The benchmarks' summary of repeated timings.</summary>
internal static class Stats
{
    /// <summary>The middle value of <paramref name="values"/> (the upper one of the two middle values for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("A median needs at least one value.", nameof(values));
        return sorted[sorted.Length / 2];
    }
}
