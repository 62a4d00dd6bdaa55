namespace Latent;

/// <summary>
/// Samples a model reads in batches: <c>Model.Fit</c>, <see cref="Model.Evaluate"/> and
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

    /// <summary>
    /// Whether rows may be read from several threads at once: only the library's sets promise it (a set of the user's
    /// may keep per-read state), so only they are gathered by data-parallel replicas or across the cores.
    /// </summary>
    internal bool ReadableConcurrently => this is Tensor or ByteTensor or ArraySampleSet;

    /// <summary>Writes samples <c>rows[0], rows[1], …</c> as float32, one after another, into <paramref name="destination"/> (at least <c>rows.Length × RowSize</c> long).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A row index outside <c>[0, Rows)</c>.</exception>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather)
    public void CopyRows(ReadOnlySpan<int> rows, Span<float> destination)
    {
        int size = RowSize, n = Rows;
        CheckDestination(destination, rows.Length, size);
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i];
            if ((uint)r >= (uint)n) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row must be in [0, {n}).");
            // Shuffled rows defeat the hardware prefetchers: ask for a row a few reads ahead (ignored if out of range).
            if (i + PrefetchDistance < rows.Length) Prefetch(rows[i + PrefetchDistance]);
            ReadRow(r, destination.Slice(i * size, size));
        }
    }

    /// <summary>Writes samples <c>[start, start + count)</c> as float32 into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside <c>[0, Rows)</c>.</exception>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather): optimised from the first epoch, not after tiering
    public void CopyRows(int start, int count, Span<float> destination)
    {
        if (start < 0 || count < 0 || start > Rows - count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {(long)start + count}) are outside [0, {Rows}).");
        CheckDestination(destination, count, RowSize);
        ReadRange(start, count, destination[..(count * RowSize)]);
    }

    /// <summary>Writes sample <paramref name="row"/> (already checked to be in range) as float32 into <paramref name="destination"/>, exactly <c>RowSize</c> long.</summary>
    protected abstract void ReadRow(int row, Span<float> destination);

    /// <summary>Writes samples <c>[start, start + count)</c> (already checked) into <paramref name="destination"/>, exactly <c>count × RowSize</c> long. One <see cref="ReadRow"/> per sample unless overridden.</summary>
    protected virtual void ReadRange(int start, int count, Span<float> destination)
    {
        int size = RowSize;
        for (int i = 0; i < count; i++) ReadRow(start + i, destination.Slice(i * size, size));
    }

    /// <summary>A hint that sample <paramref name="row"/> will be read soon (any value; out-of-range rows must be ignored). Nothing unless overridden.</summary>
    protected virtual void Prefetch(int row) { }

    /// <summary>How many rows ahead a shuffled gather prefetches: enough to cover a DRAM miss while rows convert (43 → 30 µs for 256 MNIST rows).</summary>
    private const int PrefetchDistance = 4;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void CheckDestination(Span<float> destination, int rows, int size)
    {
        if (destination.Length < (long)rows * size)
            throw new ArgumentException($"Destination holds {destination.Length} values; {rows} rows of {size} need {(long)rows * size}.", nameof(destination));
    }

    /// <summary>Reads a 2-D array in place (<see cref="ArraySampleSet"/>), so a <c>float[,]</c> can be passed where samples are expected at no copy.</summary>
    public static implicit operator SampleSet(float[,] values) => new ArraySampleSet(values);
}
