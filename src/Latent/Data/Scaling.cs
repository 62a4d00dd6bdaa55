namespace Latent.Data;

/// <summary>Bringing user data into [0, 1], where binary cross-entropy and a sigmoid output expect it.</summary>
public static class Scaling
{
    /// <summary>How <see cref="ToUnitRange"/> scaled the data.</summary>
    public enum Method
    {
        /// <summary>Already in [0, 1]: unchanged.</summary>
        None,
        /// <summary>Integers in 0–255 (image bytes): divided by 255.</summary>
        Bytes,
        /// <summary>Anything else: (x − min) / (max − min) over the whole tensor.</summary>
        MinMax,
    }

    /// <summary>Scales <paramref name="data"/> in place into [0, 1] and says how.</summary>
    /// <exception cref="ArgumentException">The data holds NaN or an infinity (named with its position).</exception>
    public static Method ToUnitRange(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var span = data.Span;
        float min = float.MaxValue, max = float.MinValue;
        bool bytes = true;
        for (int i = 0; i < span.Length; i++)
        {
            float v = span[i];
            if (!float.IsFinite(v)) throw new ArgumentException($"The data holds {v} at sample {i / Math.Max(1, data.RowSize)}, element {i % Math.Max(1, data.RowSize)}; values must be finite.");
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            bytes &= v == MathF.Floor(v) && v >= 0 && v <= 255;
        }
        if (span.Length == 0 || (min >= 0 && max <= 1)) return Method.None;
        float lo = bytes ? 0 : min, range = bytes ? 255 : max - min;
        if (range == 0) range = 1;
        for (int i = 0; i < span.Length; i++) span[i] = (span[i] - lo) / range;
        return bytes ? Method.Bytes : Method.MinMax;
    }
}
