namespace Latent;

/// <summary>Corrupted copies of data for denoising autoencoders.</summary>
public static class Noise
{
    /// <summary>
    /// The blog post's corruption: <c>clip(x + noiseFactor·ε, 0, 1)</c> with ε ~ N(0, 1), a new tensor of the shape of
    /// <paramref name="samples"/> (any sample set: a <see cref="ByteTensor"/> is read as floats first). The same
    /// <paramref name="seed"/> gives the same noise (element i uses stream (seed, i / 4096)), on any machine.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="noiseFactor"/> is negative or not finite.</exception>
    public static Tensor AddGaussian(SampleSet samples, double noiseFactor, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var x = samples as Tensor;
        if (x is null)
        {
            x = new Tensor([.. samples.Shape]);
            samples.CopyRows(0, samples.Rows, x.Span);
        }
        if (!(noiseFactor >= 0 && double.IsFinite(noiseFactor)))
            throw new ArgumentOutOfRangeException(nameof(noiseFactor), noiseFactor, $"Expected a finite noise factor ≥ 0. Received: noiseFactor={noiseFactor}.");
        var result = new Tensor([.. x.Shape]);
        const int Block = 4096;
        var dst = result.Data;
        var data = x.Data;
        int blocks = (data.Length + Block - 1) / Block;
        Parallel.For(0, blocks, blk =>
        {
            var rng = new Rng(((ulong)(uint)seed << 32) ^ (ulong)blk * 0x9E3779B97F4A7C15UL);
            int start = blk * Block, end = Math.Min(data.Length, start + Block);
            for (int i = start; i < end; i += 2)
            {
                var (a, b) = rng.NextGaussianPair();
                dst[i] = Math.Clamp((float)(data[i] + noiseFactor * a), 0f, 1f);
                if (i + 1 < end) dst[i + 1] = Math.Clamp((float)(data[i + 1] + noiseFactor * b), 0f, 1f);
            }
        });
        return result;
    }
}
