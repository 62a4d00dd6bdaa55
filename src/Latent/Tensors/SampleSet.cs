namespace Latent;

/// <summary>
/// Samples a model reads in batches: <see cref="Model.Fit"/>, <see cref="Model.Evaluate"/> and
/// <see cref="Model.Predict"/> accept any of them. A <see cref="Tensor"/> holds float32 values; a
/// <see cref="ByteTensor"/> holds 8-bit values and converts each batch as it is read (MNIST as bytes is 47 MB
/// instead of 188 MB). Derive from it to feed data from elsewhere. The first axis is the sample axis.
/// </summary>
public abstract class SampleSet
{
    /// <summary>The dimensions, samples first.</summary>
    public abstract IReadOnlyList<int> Shape { get; }

    /// <summary>Number of samples (size of the first axis).</summary>
    public abstract int Rows { get; }

    /// <summary>Values per sample: the product of every dimension but the first.</summary>
    public abstract int RowSize { get; }

    /// <summary>Writes samples <c>rows[0], rows[1], …</c> as float32, one after another, into <paramref name="destination"/> (at least <c>rows.Length × RowSize</c> long).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A row index outside <c>[0, Rows)</c>.</exception>
    public abstract void CopyRows(ReadOnlySpan<int> rows, Span<float> destination);

    /// <summary>Writes samples <c>[start, start + count)</c> as float32 into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside <c>[0, Rows)</c>.</exception>
    public abstract void CopyRows(int start, int count, Span<float> destination);

    /// <summary>Copies a 2-D array into a new <see cref="Tensor"/>, so a <c>float[,]</c> can be passed where samples are expected.</summary>
    public static implicit operator SampleSet(float[,] values) => Tensor.FromArray(values);
}
