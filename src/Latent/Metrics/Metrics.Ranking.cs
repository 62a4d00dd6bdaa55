namespace Latent;

public static partial class Metrics
{
    /// <summary>
    /// The area under the ROC curve of <paramref name="scores"/> for the positives in <paramref name="truth"/>: the
    /// probability that a random positive scores above a random negative, ties counting one half (the Mann-Whitney
    /// statistic, scikit-learn's <c>roc_auc_score</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Counts differ, a score is NaN, or one class is absent.</exception>
    public static double RocAuc(IReadOnlyList<bool> truth, IReadOnlyList<double> scores)
    {
        var (pos, neg) = CheckRanking(truth, scores);
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        for (int a = 0; a < order.Length;)
        {
            int b = a;
            while (b + 1 < order.Length && scores[order[b + 1]] == scores[order[a]]) b++;
            double rank = (a + b) / 2.0 + 1;         // average rank of a tie group
            for (int t = a; t <= b; t++) if (truth[order[t]]) rankSum += rank;
            a = b + 1;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>
    /// Average precision, scikit-learn's <c>average_precision_score</c>: <c>Σₙ (Rₙ − Rₙ₋₁) Pₙ</c> over the distinct
    /// score thresholds from the highest down, Pₙ and Rₙ the precision and recall of flagging every score ≥ the n-th.
    /// </summary>
    /// <exception cref="ArgumentException">Counts differ, a score is NaN, or one class is absent.</exception>
    public static double AveragePrecision(IReadOnlyList<bool> truth, IReadOnlyList<double> scores)
    {
        var (pos, _) = CheckRanking(truth, scores);
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double ap = 0, lastRecall = 0;
        int tp = 0, flagged = 0;
        for (int a = 0; a < order.Length;)
        {
            int b = a;
            while (b + 1 < order.Length && scores[order[b + 1]] == scores[order[a]]) b++;
            for (int t = a; t <= b; t++) { flagged++; if (truth[order[t]]) tp++; }
            double recall = (double)tp / pos, precision = (double)tp / flagged;
            ap += (recall - lastRecall) * precision;
            lastRecall = recall;
            a = b + 1;
        }
        return ap;
    }

    private static (int Pos, int Neg) CheckRanking(IReadOnlyList<bool> truth, IReadOnlyList<double> scores)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(scores);
        if (truth.Count != scores.Count) throw new ArgumentException($"One score per sample: {truth.Count} labels, {scores.Count} scores.", nameof(scores));
        for (int i = 0; i < scores.Count; i++)
            if (double.IsNaN(scores[i])) throw new ArgumentException($"Score {i} is NaN.", nameof(scores));
        int pos = truth.Count(t => t), neg = truth.Count - pos;
        if (pos == 0 || neg == 0) throw new ArgumentException($"Ranking needs both classes: {pos} positives, {neg} negatives.", nameof(truth));
        return (pos, neg);
    }
}
