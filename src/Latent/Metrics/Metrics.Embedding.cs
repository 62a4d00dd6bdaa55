using Latent.Reduction;

namespace Latent;

public static partial class Metrics
{
    /// <summary>
    /// Trustworthiness (Venna &amp; Kaski 2001, scikit-learn's <c>trustworthiness</c>): how far the k nearest neighbours in
    /// the embedding are from being neighbours in the original space,
    /// <c>T(k) = 1 − 2/(N·k·(2N − 3k − 1)) · Σᵢ Σ_{j ∈ Uᵢ} (r(i, j) − k)</c>, where Uᵢ are i's k embedded neighbours that
    /// are not among its k original ones and r(i, j) is j's rank among i's original neighbours (1 = nearest; ties by
    /// index). 1 is perfect.
    /// </summary>
    /// <param name="original">(N, D) points.</param>
    /// <param name="embedded">(N, d) their embedding.</param>
    /// <param name="neighbors">k, below N/2.</param>
    /// <exception cref="ArgumentException">Counts that differ, or k out of range.</exception>
    public static double Trustworthiness(SampleSet original, SampleSet embedded, int neighbors = 5)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(embedded);
        int n = original.Rows;
        if (embedded.Rows != n) throw new ArgumentException($"Trustworthiness needs one embedded point per original: {n} original, {embedded.Rows} embedded.", nameof(embedded));
        if (neighbors < 1 || neighbors >= n / 2.0)
            throw new ArgumentOutOfRangeException(nameof(neighbors), neighbors, $"neighbors must be at least 1 and below N/2 = {n / 2.0}. Received: neighbors={neighbors}.");
        int k = neighbors, d = original.RowSize, e = embedded.RowSize;
        var x = new float[(long)n * d];
        original.CopyRows(0, n, x);
        var y = new float[(long)n * e];
        embedded.CopyRows(0, n, y);
        // An embedded neighbour among the k original ones has rank ≤ k and adds nothing: only the others (few, in a
        // good embedding) need their rank, counted over their row's distances.
        var (embIndex, _) = Neighbors.Exact(y, n, e, k);
        var points = Neighbors.Pack(x, n, d);   // packed once for the search and the ranks
        var (origIndex, _) = Neighbors.Exact(points, k);
        var rows = new List<int>();
        var missing = new List<int>();   // per row in rows: its embedded neighbours that are not original ones
        var starts = new List<int> { 0 };
        for (int i = 0; i < n; i++)
        {
            var kept = origIndex.AsSpan(i * k, k);
            int before = missing.Count;
            foreach (int j in embIndex.AsSpan(i * k, k))
                if (!kept.Contains(j)) missing.Add(j);
            if (missing.Count > before) { rows.Add(i); starts.Add(missing.Count); }
        }
        var ranks = Neighbors.Ranks(points, [.. rows], [.. starts], [.. missing]);
        double total = 0;
        foreach (int rank in ranks) total += Math.Max(rank - k, 0);
        return 1 - total * 2.0 / (n * (double)k * (2.0 * n - 3.0 * k - 1.0));
    }

    /// <summary>
    /// How well an embedding keeps classes apart: the accuracy of a k-nearest-neighbour classifier (majority vote,
    /// ties to the nearer class) under <paramref name="folds"/>-fold cross-validation over a seeded shuffle, as the
    /// mean over folds.
    /// </summary>
    /// <exception cref="ArgumentException">Labels not one per point, or counts out of range.</exception>
    public static double KnnAccuracy(SampleSet embedding, IReadOnlyList<int> labels, int neighbors = 10, int folds = 5, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(labels);
        int n = embedding.Rows, d = embedding.RowSize;
        if (labels.Count != n) throw new ArgumentException($"KnnAccuracy needs one label per point: {n} points, {labels.Count} labels.", nameof(labels));
        if (folds < 2 || folds > n) throw new ArgumentOutOfRangeException(nameof(folds), folds, $"folds must be between 2 and N = {n}. Received: folds={folds}.");
        if (neighbors < 1 || neighbors >= n - n / folds)
            throw new ArgumentOutOfRangeException(nameof(neighbors), neighbors, $"neighbors must be at least 1 and below the training fold's size. Received: neighbors={neighbors}.");
        var x = new float[(long)n * d];
        embedding.CopyRows(0, n, x);
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new Rng((ulong)seed * 0x9E3779B97F4A7C15UL + 23);
        rng.Shuffle(order);
        var fold = new int[n];
        for (int t = 0; t < n; t++) fold[order[t]] = (int)((long)t * folds / n);
        var correctPerFold = new int[folds];
        var sizePerFold = new int[folds];
        for (int i = 0; i < n; i++) sizePerFold[fold[i]]++;
        if (labels.Min() < 0) throw new ArgumentException($"Labels must be class indices ≥ 0; received {labels.Min()}.", nameof(labels));
        int classes = labels.Max() + 1;
        var hits = new int[n];
        Parallel.For(0, n, i =>
        {
            var bestD = new float[neighbors];
            var bestJ = new int[neighbors];
            int size = 0;
            var xi = x.AsSpan(i * d, d);
            for (int j = 0; j < n; j++)
            {
                if (fold[j] == fold[i]) continue;
                float dist = 0;
                for (int c = 0; c < d; c++) { float t = xi[c] - x[(long)j * d + c]; dist += t * t; }
                if (size < neighbors) { bestD[size] = dist; bestJ[size++] = j; }
                else
                {
                    int worst = 0;
                    for (int a = 1; a < neighbors; a++) if (bestD[a] > bestD[worst]) worst = a;
                    if (dist < bestD[worst]) { bestD[worst] = dist; bestJ[worst] = j; }
                }
            }
            var votes = new int[classes];
            var nearest = new float[classes];
            Array.Fill(nearest, float.MaxValue);
            for (int a = 0; a < size; a++)
            {
                int c = labels[bestJ[a]];
                votes[c]++;
                nearest[c] = Math.Min(nearest[c], bestD[a]);
            }
            int pick = 0;
            for (int c = 1; c < classes; c++)
                if (votes[c] > votes[pick] || (votes[c] == votes[pick] && nearest[c] < nearest[pick])) pick = c;
            hits[i] = pick == labels[i] ? 1 : 0;
        });
        for (int i = 0; i < n; i++) correctPerFold[fold[i]] += hits[i];
        return Enumerable.Range(0, folds).Average(f => (double)correctPerFold[f] / sizePerFold[f]);
    }
}
