namespace Latent;

public static partial class Metrics
{
    /// <summary>
    /// Peak signal-to-noise ratio of images against their clean originals, what denoising papers report: for each
    /// sample, <c>PSNR = 10 · log10(peak² / MSE)</c> in decibels, with <c>MSE = (1/n) Σ_i (x_i − y_i)²</c> over its n
    /// values; the mean is over samples (each image weighs the same, as scikit-image's per-image PSNR averaged). An
    /// image equal to its original has MSE 0 and PSNR +∞, and then so has the mean: report the per-sample values then.
    /// </summary>
    /// <param name="images">Restored (or noisy) images (N, features…), e.g. a denoiser's <c>Predict</c> of noisy inputs.</param>
    /// <param name="clean">The originals: as many samples of as many values (flat or not).</param>
    /// <param name="peak">The largest possible value: 1 for pixels in [0, 1], 255 for bytes.</param>
    /// <returns>The mean PSNR over samples, and each sample's.</returns>
    /// <exception cref="ArgumentException">The sample counts or sizes differ, there are no samples, or <paramref name="peak"/> is not a positive finite number.</exception>
    public static (double Mean, double[] PerSample) Psnr(SampleSet images, SampleSet clean, double peak = 1.0)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(clean);
        if (!(peak > 0 && double.IsFinite(peak)))
            throw new ArgumentOutOfRangeException(nameof(peak), peak, $"Expected a positive finite peak value. Received: peak={peak}.");
        // Rows and values per row: a model's (N, 28, 28, 1) output compares with flat (N, 784) originals.
        if (images.Rows != clean.Rows || images.RowSize != clean.RowSize)
            throw new ArgumentException($"Images of shape ({string.Join(", ", images.Shape)}) cannot be compared with originals of shape ({string.Join(", ", clean.Shape)}).", nameof(clean));
        int n = images.Rows, size = images.RowSize;
        if (n == 0 || size == 0)
            throw new ArgumentException($"Expected at least one non-empty image. Received shape ({string.Join(", ", images.Shape)}).", nameof(images));

        const int Chunk = 256;
        int rows = Math.Min(Chunk, n);
        var a = new float[rows * size];
        var b = new float[rows * size];
        var perSample = new double[n];
        double sum = 0;
        for (int start = 0; start < n; start += Chunk)
        {
            int count = Math.Min(Chunk, n - start);
            images.CopyRows(start, count, a);
            clean.CopyRows(start, count, b);
            var mse = perSample.AsSpan(start, count);
            MeanSquaredErrorPerRow(a, b, size, mse);
            for (int r = 0; r < count; r++)
            {
                mse[r] = 10 * Math.Log10(peak * peak / mse[r]);
                sum += mse[r];
            }
        }
        return (sum / n, perSample);
    }

    /// <summary>
    /// Each row's mean squared difference <c>(1/size) Σ_i (a_i − b_i)²</c>, for <paramref name="into"/>.Length rows of
    /// <paramref name="size"/> values; summed in double (a near-perfect image's 784 errors are ~1e-8 each).
    /// </summary>
    internal static void MeanSquaredErrorPerRow(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int size, Span<double> into)
    {
        for (int r = 0; r < into.Length; r++)
        {
            var x = a.Slice(r * size, size);
            var y = b.Slice(r * size, size);
            double sum = 0;
            for (int i = 0; i < size; i++)
            {
                double d = x[i] - y[i];
                sum += d * d;
            }
            into[r] = sum / size;
        }
    }
}
