using System.Numerics.Tensors;

namespace Latent;

/// <summary>Measures of trained models.</summary>
public static partial class Metrics
{
    /// <summary>
    /// A VAE's test log-likelihood estimated by importance sampling (Burda et al. 2016, the IWAE bound), what VAE
    /// papers report: for each sample x, with K draws z_k ~ q(z|x) = N(μ(x), e^{v(x)}),
    /// <c>log p(x) ≈ log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x)</c>, in nats, averaged over the samples. K = 1 gives
    /// the ELBO's estimate; the bound tightens as K grows. p(x|z) is the decoder's Bernoulli likelihood
    /// <c>Σ_i x_i log p_i + (1 − x_i) log(1 − p_i)</c> with p clipped to [1e-7, 1 − 1e-7] as the loss clips it; for
    /// grey levels rather than binarised pixels this is the negative summed cross-entropy, not a normalised density.
    /// </summary>
    /// <param name="encoder">A model whose first two outputs are μ and log σ² (B, d), e.g. <c>new Model(inputs, [zMean, zLogVar])</c>.</param>
    /// <param name="decoder">A model from (B, d) to sigmoid probabilities of x's shape (the VAE's generator).</param>
    /// <param name="x">Samples (N, features…), values in [0, 1].</param>
    /// <param name="samples">K, draws per sample (1000 is the papers' usual 5000's cheaper cousin).</param>
    /// <param name="seed">Seeds ε.</param>
    /// <returns>The mean estimate over x's samples, and each sample's.</returns>
    /// <exception cref="ArgumentException">The encoder has fewer than two outputs, μ and log σ² differ in size, or the decoder takes another latent size or gives another shape than x.</exception>
    public static (double Mean, double[] PerSample) ImportanceLogLikelihood(Model encoder, Model decoder, SampleSet x, int samples = 1000, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(x);
        if (samples <= 0) throw new ArgumentOutOfRangeException(nameof(samples), samples, $"Expected a positive number of importance samples. Received: samples={samples}.");
        if (encoder.Outputs.Count < 2)
            throw new ArgumentException($"Encoder '{encoder.Name}' must output μ and log σ² (at least 2 outputs); it has {encoder.Outputs.Count}.", nameof(encoder));
        int d = encoder.Outputs[0].Size;
        if (encoder.Outputs[1].Size != d)
            throw new ArgumentException($"Encoder '{encoder.Name}' gives μ of {d} values and log σ² of {encoder.Outputs[1].Size}.", nameof(encoder));
        if (decoder.Inputs.Count != 1 || decoder.Inputs[0].Size != d)
            throw new ArgumentException($"The decoder takes a latent of {decoder.Inputs[0].Size} values; the encoder's is {d}.", nameof(decoder));
        int features = x.RowSize;
        if (decoder.Outputs[0].Size != features)
            throw new ArgumentException($"The decoder gives {decoder.Outputs[0].Size} values per sample; x has {features}.", nameof(decoder));

        int n = x.Rows;
        var result = new double[n];
        var rng = new Rng((ulong)seed * 0x9E3779B97F4A7C15UL + 17);
        const int chunk = 4;                      // samples per decoder call: 4·K rows
        var z = new Tensor([chunk * samples, d]);
        var eps = new double[chunk * samples * d];
        var logW = new double[samples];
        var logQ1 = new float[features];
        var logQ0 = new float[features];
        double halfLog2Pi = 0.5 * Math.Log(2 * Math.PI);
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start);
            var block = new Tensor([count, .. x.Shape.Skip(1)]);
            x.CopyRows(start, count, block.Span);
            var enc = encoder.PredictAll(block, batchSize: count);
            var mu = enc[0].Span;
            var logVar = enc[1].Span;
            var zs = z.Span;
            for (int s = 0; s < count; s++)
                for (int k = 0; k < samples; k++)
                    for (int j = 0; j < d; j++)
                    {
                        int e = (s * samples + k) * d + j;
                        eps[e] = rng.NextGaussianPair().A;
                        zs[e] = (float)(mu[s * d + j] + Math.Exp(0.5 * logVar[s * d + j]) * eps[e]);
                    }
            var p = decoder.Predict(count == chunk ? z : z.SliceRows(0, count * samples), batchSize: 500).Span;
            for (int s = 0; s < count; s++)
            {
                var xi = block.Span.Slice(s * features, features);
                double sumLogVar = 0;
                for (int j = 0; j < d; j++) sumLogVar += logVar[s * d + j];
                for (int k = 0; k < samples; k++)
                {
                    int row = s * samples + k;
                    var pi = p.Slice(row * features, features);
                    // Σ x log q + (1 − x) log(1 − q) = Σ x (log q − log(1 − q)) + Σ log(1 − q), vectorised in float.
                    TensorPrimitives.Clamp(pi, 1e-7f, 1 - 1e-7f, logQ1);
                    TensorPrimitives.Subtract(1f, logQ1, logQ0);
                    TensorPrimitives.Log(logQ1, logQ1);
                    TensorPrimitives.Log(logQ0, logQ0);
                    double ll = TensorPrimitives.Sum<float>(logQ0);
                    TensorPrimitives.Subtract(logQ1, logQ0, logQ1);
                    ll += TensorPrimitives.Dot(xi, logQ1);
                    double logPrior = 0, logQ = 0;
                    for (int j = 0; j < d; j++)
                    {
                        double zz = zs[row * d + j], ee = eps[row * d + j];
                        logPrior -= 0.5 * zz * zz + halfLog2Pi;
                        logQ -= 0.5 * ee * ee + halfLog2Pi;
                    }
                    logW[k] = ll + logPrior - (logQ - 0.5 * sumLogVar);
                }
                double max = logW.Max(), sum = 0;
                foreach (double w in logW) sum += Math.Exp(w - max);
                result[start + s] = max + Math.Log(sum / samples);
            }
        }
        return (result.Average(), result);
    }
}
