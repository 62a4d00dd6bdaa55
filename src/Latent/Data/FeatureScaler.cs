using System.Globalization;

namespace Latent.Data;

/// <summary>How <see cref="FeatureScaler"/> scales each feature.</summary>
public enum FeatureScaling
{
    /// <summary><c>x' = (x − minⱼ) / (maxⱼ − minⱼ)</c>: the training data into [0, 1] (scikit-learn's <c>MinMaxScaler</c>).</summary>
    MinMax,

    /// <summary><c>x' = (x − meanⱼ) / stdⱼ</c> (population std): mean 0 and variance 1 on the training data (<c>StandardScaler</c>).</summary>
    Standard,
}

/// <summary>
/// Per-feature scaling, fitted on training data and kept with the model, so data scored later is scaled the same
/// way: min-max into [0, 1] (scikit-learn's <c>MinMaxScaler</c>, <c>x' = (x − minⱼ) / (maxⱼ − minⱼ)</c>) or standard
/// (<c>StandardScaler</c>, <c>x' = (x − meanⱼ) / stdⱼ</c>) for feature j, the last axis (a sequence's (N, T, F) shares
/// one scale per feature over all steps). A feature that is constant in the training data is only shifted.
/// </summary>
/// <remarks>
/// Keep it with the model: <c>model.Save(path, scaler.ToMetadata())</c>, and
/// <c>FeatureScaler.FromMetadata(metadata)</c> after <c>Model.Load(path, out var metadata)</c>.
/// </remarks>
public sealed class FeatureScaler
{
    private const string MinKey = "feature_min", MaxKey = "feature_max", MeanKey = "feature_mean", StdKey = "feature_std";
    private readonly float[] _offset, _divisor;

    private FeatureScaler(FeatureScaling kind, float[] a, float[] b)
    {
        Kind = kind;
        if (kind == FeatureScaling.MinMax) (Min, Max, Mean, Std) = (a, b, [], []);
        else (Min, Max, Mean, Std) = ([], [], a, b);
        _offset = a;
        _divisor = kind == FeatureScaling.MinMax ? [.. a.Zip(b, (lo, hi) => hi - lo > 0 ? hi - lo : 1)] : [.. b.Select(sd => sd > 0 ? sd : 1)];
    }

    /// <summary>Min-max or standard.</summary>
    public FeatureScaling Kind { get; }

    /// <summary>Each feature's minimum over the training data (min-max scaling; empty for standard).</summary>
    public IReadOnlyList<float> Min { get; }

    /// <summary>Each feature's maximum over the training data (min-max scaling; empty for standard).</summary>
    public IReadOnlyList<float> Max { get; }

    /// <summary>Each feature's mean over the training data (standard scaling; empty for min-max).</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>Each feature's population standard deviation over the training data (standard scaling; empty for min-max).</summary>
    public IReadOnlyList<float> Std { get; }

    /// <summary>Number of features (the last axis).</summary>
    public int Features => _offset.Length;

    /// <summary>
    /// What <see cref="Transform"/> writes into a padded step (all features equal to the mask value): −1, outside the
    /// [0, 1] of scaled training data, so a <c>Masking(FeatureScaler.ScaledPadding)</c> layer finds the padding after
    /// scaling and no real step is taken for it.
    /// </summary>
    public const float ScaledPadding = -1f;

    /// <summary>Fits the scaler to <paramref name="data"/>'s last axis.</summary>
    /// <param name="data">(samples, …, features).</param>
    /// <param name="maskValue">Padding: steps whose features all equal it are left out of the statistics.</param>
    /// <param name="kind">Min-max (the default) or standard.</param>
    /// <exception cref="ArgumentException">Empty data, a NaN or infinity (named with its sample, step and feature), or a
    /// mask value that masks every step.</exception>
    public static FeatureScaler Fit(Tensor data, double? maskValue = null, FeatureScaling kind = FeatureScaling.MinMax)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0 || data.Rank < 2) throw new ArgumentException($"Fitting a scaler needs (samples, …, features) data, received shape {ShapeUtil.Format(data.Shape.ToArray())}.");
        int f = data.Shape[^1];
        var min = Enumerable.Repeat(float.MaxValue, f).ToArray();
        var max = Enumerable.Repeat(float.MinValue, f).ToArray();
        var sum = new double[f];
        var sumSq = new double[f];
        long count = 0;
        var span = data.Span;
        bool any = false;
        for (int start = 0; start < span.Length; start += f)
        {
            var step = span.Slice(start, f);
            if (IsPadding(step, maskValue)) continue;
            any = true;
            count++;
            for (int j = 0; j < f; j++)
            {
                float v = step[j];
                if (!float.IsFinite(v)) throw NonFinite(data, start + j, v);
                if (v < min[j]) min[j] = v;
                if (v > max[j]) max[j] = v;
                sum[j] += v;
            }
        }
        if (any && kind == FeatureScaling.Standard)
        {
            var mean = sum.Select(v => v / count).ToArray();
            for (int start = 0; start < span.Length; start += f)
            {
                var step = span.Slice(start, f);
                if (IsPadding(step, maskValue)) continue;
                for (int j = 0; j < f; j++) sumSq[j] += (step[j] - mean[j]) * (step[j] - mean[j]);
            }
            return new FeatureScaler(kind, [.. mean.Select(v => (float)v)], [.. sumSq.Select(v => (float)Math.Sqrt(v / count))]);
        }
        if (!any)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The mask value {maskValue} masks every step of all {data.Shape[0]} sequences it was to be fitted on (the training part): there is nothing to learn from. Check --mask-value (padding) against the data."));
        return new FeatureScaler(FeatureScaling.MinMax, min, max);
    }

    private static bool IsPadding(ReadOnlySpan<float> step, double? maskValue) =>
        maskValue is double m && !step.ContainsAnyExcept((float)m);

    /// <summary>Scales <paramref name="data"/> in place; with <paramref name="maskValue"/>, padded steps (all features equal to it) become <see cref="ScaledPadding"/>.</summary>
    /// <exception cref="ArgumentException">Its last axis is not <see cref="Features"/> long, or it holds a NaN or infinity.</exception>
    public void Transform(Tensor data, double? maskValue = null)
    {
        Check(data);
        var span = data.Span;
        int f = Features;
        for (int start = 0; start < span.Length; start += f)
        {
            var step = span.Slice(start, f);
            if (IsPadding(step, maskValue))
            {
                step.Fill(ScaledPadding);
                continue;
            }
            for (int j = 0; j < f; j++)
            {
                if (!float.IsFinite(step[j])) throw NonFinite(data, start + j, step[j]);
                step[j] = (step[j] - _offset[j]) / _divisor[j];
            }
        }
    }

    /// <summary>Maps scaled values back to the data's units, in place.</summary>
    public void InverseTransform(Tensor data)
    {
        Check(data);
        var span = data.Span;
        int f = Features;
        for (int i = 0; i < span.Length; i++)
        {
            int j = i % f;
            span[i] = span[i] * _divisor[j] + _offset[j];
        }
    }

    /// <summary>Model-file metadata ("feature_min", "feature_max", or "feature_mean", "feature_std": comma-separated, round-trippable).</summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        static string Join(IEnumerable<float> v) => string.Join(",", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        return Kind == FeatureScaling.MinMax
            ? new Dictionary<string, string> { [MinKey] = Join(Min), [MaxKey] = Join(Max) }
            : new Dictionary<string, string> { [MeanKey] = Join(Mean), [StdKey] = Join(Std) };
    }

    /// <summary>The scaler in <paramref name="metadata"/>, or null when it holds none.</summary>
    /// <exception cref="FormatException">The entries are unreadable or of different lengths.</exception>
    public static FeatureScaler? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.TryGetValue(MeanKey, out var mean) && metadata.TryGetValue(StdKey, out var std))
            return FromLists(Parse(mean, MeanKey), Parse(std, StdKey), FeatureScaling.Standard);
        if (!metadata.TryGetValue(MinKey, out var lo) || !metadata.TryGetValue(MaxKey, out var hi)) return null;
        return FromLists(Parse(lo, MinKey), Parse(hi, MaxKey));
    }

    /// <summary>A scaler from saved minima and maxima (min-max), or means and standard deviations (standard).</summary>
    /// <exception cref="FormatException">Lists of different or zero length, non-finite values, a minimum above its
    /// maximum, or a negative standard deviation.</exception>
    public static FeatureScaler FromLists(IReadOnlyList<float> a, IReadOnlyList<float> b, FeatureScaling kind = FeatureScaling.MinMax)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count == 0 || a.Count != b.Count)
            throw new FormatException($"A feature scaling needs two lists of one length (at least one value); received {a.Count} and {b.Count}.");
        for (int j = 0; j < a.Count; j++)
            if (!float.IsFinite(a[j]) || !float.IsFinite(b[j]) || (kind == FeatureScaling.MinMax ? a[j] > b[j] : b[j] < 0))
                throw new FormatException(kind == FeatureScaling.MinMax
                    ? $"Feature {j}'s scaling is unusable: min {a[j]}, max {b[j]}."
                    : $"Feature {j}'s scaling is unusable: mean {a[j]}, std {b[j]}.");
        return new FeatureScaler(kind, [.. a], [.. b]);
    }

    private static float[] Parse(string text, string key)
    {
        if (text.Length > 16 << 20) throw new FormatException($"'{key}' is {text.Length:N0} characters long; a feature scaling is far shorter.");
        try
        {
            return text.Split(',').Select(s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new FormatException($"'{key}' is not a comma-separated list of numbers: '{SafeText.Printable(text.Length > 60 ? text[..60] + "…" : text)}'.");
        }
    }

    private void Check(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rank < 2 || data.Shape[^1] != Features)
            throw new ArgumentException($"This scaler was fitted on {Features} features; the data has shape {ShapeUtil.Format(data.Shape.ToArray())}.");
    }

    private static ArgumentException NonFinite(Tensor data, int i, float v)
    {
        int f = data.Shape[^1], row = data.RowSize;
        string where = data.Rank == 3 ? $"sequence {i / row}, step {i % row / f}, feature {i % f}" : $"sample {i / row}, feature {i % row}";
        return new ArgumentException($"The data holds {v} at {where}; values must be finite.");
    }
}
