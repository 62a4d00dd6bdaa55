namespace Latent;

/// <summary>
/// A layer call's random numbers (dropout masks, noise, a VAE's ε). Each <c>Fill</c> call treats its span as
/// <see cref="NodeContext.Batch"/> equal rows, one per sample, and draws row i from a stream fixed by
/// (the executor's seed, which <c>Fit</c> derives from its <c>seed</c> and the epoch; the step; this call's
/// position among the Fill calls of the layer's Forward; the sample's position in the whole batch). So a run
/// is reproducible from its seed, every batch and sample get fresh numbers, and a sample gets the same numbers
/// whether one core or several run the batch.
/// </summary>
public sealed class LayerRandom
{
    private ulong _seed, _step;
    private int _fill, _offset, _rows;

    internal LayerRandom(ulong seed) => Reset(seed);

    /// <summary>Restarts from <paramref name="seed"/> at step 0.</summary>
    internal void Reset(ulong seed)
    {
        _seed = seed;
        _step = 0;
    }

    /// <summary>Positions the stream for the next batch: <paramref name="rows"/> samples starting at <paramref name="offset"/> in the whole batch.</summary>
    internal void BeginStep(int offset, int rows)
    {
        _step++;
        _fill = 0;
        _offset = offset;
        _rows = rows;
    }

    /// <summary>
    /// Positions an inner layer's stream (a wrapper's) for the step <paramref name="parent"/> has begun: the same seed
    /// and step mixed with <paramref name="salt"/>, for <paramref name="rows"/> rows from <paramref name="offset"/>.
    /// </summary>
    internal void Follow(LayerRandom parent, int salt, int offset, int rows)
    {
        _seed = Mix(parent._seed, 0x1000UL + (ulong)salt);
        _step = parent._step;
        _fill = 0;
        _offset = offset;
        _rows = rows;
    }

    /// <summary>Skips a step (a data-parallel share with no samples), so every replica stays at the same step.</summary>
    internal void SkipStep() => _step++;

    /// <summary>Fills <paramref name="values"/> with draws from N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
    /// <exception cref="ArgumentException">The span is not a whole number of rows per sample.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void FillNormal(Span<float> values, double mean = 0, double std = 1)
    {
        int per = RowLength(values);
        for (int r = 0; r < _rows; r++)
        {
            var rng = RowStream(r);
            var row = values.Slice(r * per, per);
            int i = 0;
            for (; i + 1 < per; i += 2)
            {
                var (a, b) = rng.NextGaussianPair();
                row[i] = (float)(mean + std * a);
                row[i + 1] = (float)(mean + std * b);
            }
            if (i < per) row[i] = (float)(mean + std * rng.NextGaussianPair().A);
        }
        _fill++;
    }

    /// <summary>Fills <paramref name="values"/> with draws from U[<paramref name="low"/>, <paramref name="high"/>) (24 random bits each).</summary>
    /// <exception cref="ArgumentException">The span is not a whole number of rows per sample.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void FillUniform(Span<float> values, float low = 0, float high = 1)
    {
        int per = RowLength(values);
        float width = high - low;
        for (int r = 0; r < _rows; r++)
        {
            var rng = RowStream(r);
            var row = values.Slice(r * per, per);
            for (int i = 0; i < row.Length; i++) row[i] = low + width * rng.NextFloat();
        }
        _fill++;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private int RowLength(Span<float> values)
    {
        if (_rows <= 0) throw new InvalidOperationException("LayerRandom is for a layer's Forward, while a batch runs.");
        if (values.Length % _rows != 0)
            throw new ArgumentException($"A random fill takes one equal row per sample: {values.Length} values do not split into {_rows} rows.", nameof(values));
        return values.Length / _rows;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private Rng RowStream(int row) =>
        new(Mix(Mix(Mix(_seed ^ 0x6A09E667F3BCC909UL, _step), (ulong)_fill), (ulong)(_offset + row)));

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static ulong Mix(ulong h, ulong v)
    {
        ulong z = h + v * 0x9E3779B97F4A7C15UL + 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
