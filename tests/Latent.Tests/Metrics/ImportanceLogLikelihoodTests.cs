using Latent.Models;

namespace Latent.Tests.MetricChecks;

/// <summary>The importance-sampled log-likelihood against the exact integral, for a VAE with a 1-D latent.</summary>
public class ImportanceLogLikelihoodTests
{
    [Fact]
    public void MatchesTheExactIntegralOverAOneDimensionalLatent()
    {
        Randomness.SetSeed(11);
        var vae = VariationalAutoencoder.Dense(features: 6, hidden: 5, latent: 1);
        var x = Tensor.FromArray(new float[] { 0.9f, 0.1f, 0.5f, 1, 0, 0.3f, 0.2f, 0.8f, 0.6f, 0, 1, 0.7f }, 2, 6);
        var (mean, perSample) = Metrics.ImportanceLogLikelihood(vae.Encoder, vae.Generator, x, samples: 20000, seed: 3);

        // log p(x) = log ∫ p(x|z) N(z; 0, 1) dz by the trapezoid rule on [−10, 10].
        int m = 8001;
        var z = new Tensor([m, 1]);
        for (int i = 0; i < m; i++) z.Span[i] = -10f + 20f * i / (m - 1);
        var p = vae.Generator.Predict(z, batchSize: 1000);
        for (int s = 0; s < 2; s++)
        {
            double integral = 0, dz = 20.0 / (m - 1);
            for (int i = 0; i < m; i++)
            {
                double logLik = 0;
                for (int f = 0; f < 6; f++)
                {
                    double q = Math.Clamp(p.Span[i * 6 + f], 1e-7, 1 - 1e-7), xi = x.Span[s * 6 + f];
                    logLik += xi * Math.Log(q) + (1 - xi) * Math.Log(1 - q);
                }
                double zi = z.Span[i];
                integral += (i == 0 || i == m - 1 ? 0.5 : 1) * Math.Exp(logLik - 0.5 * zi * zi) / Math.Sqrt(2 * Math.PI) * dz;
            }
            Assert.Equal(Math.Log(integral), perSample[s], 2);
        }
        Assert.Equal(perSample.Average(), mean, 12);
    }

    [Fact]
    public void MoreSamplesTightenTheBound()
    {
        Randomness.SetSeed(12);
        var vae = VariationalAutoencoder.Dense(features: 8, hidden: 6, latent: 2);
        var x = Tensor.FromArray(Enumerable.Range(0, 40).Select(i => (i * 37 % 11) / 10f).ToArray(), 5, 8);
        double one = Enumerable.Range(0, 50).Average(seed => Metrics.ImportanceLogLikelihood(vae.Encoder, vae.Generator, x, 1, seed).Mean);
        double many = Metrics.ImportanceLogLikelihood(vae.Encoder, vae.Generator, x, 2000, 1).Mean;
        Assert.True(many > one, $"K=2000 gives {many}, K=1 (the ELBO's estimate) {one}");
    }

    [Fact]
    public void MismatchedModelsGetClearErrors()
    {
        var vae = VariationalAutoencoder.Dense(features: 8, hidden: 6, latent: 2);
        var other = VariationalAutoencoder.Dense(features: 8, hidden: 6, latent: 3);
        var x = new Tensor([2, 8]);
        Assert.Contains("latent of 3 values; the encoder's is 2", Assert.Throws<ArgumentException>(
            () => Metrics.ImportanceLogLikelihood(vae.Encoder, other.Generator, x)).Message);
        var meanOnly = new Model(vae.Model.Inputs[0], vae.Encoder.Outputs[0]);
        Assert.Contains("it has 1", Assert.Throws<ArgumentException>(() => Metrics.ImportanceLogLikelihood(meanOnly, vae.Generator, x)).Message);
        Assert.Contains("samples=0", Assert.Throws<ArgumentOutOfRangeException>(() => Metrics.ImportanceLogLikelihood(vae.Encoder, vae.Generator, x, 0)).Message);
        // A grid of the wrong width for a generator: Predict names both sizes.
        var e = Assert.ThrowsAny<ArgumentException>(() => vae.Generator.Predict(new Tensor([4, 3])));
        Assert.Contains("expects 2 features per sample", e.Message);
        Assert.Contains("received 3", e.Message);
        Assert.Contains("no Sampling layer", Assert.Throws<ArgumentException>(() => VariationalAutoencoder.FromModel(meanOnly)).Message);
    }
}
