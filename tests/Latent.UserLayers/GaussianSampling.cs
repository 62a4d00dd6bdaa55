using Latent;
using Latent.Layers;
using Latent.Serialization;

namespace Latent.UserLayers;

// --8<-- [start:gaussian-sampling]
/// <summary>
/// A variational autoencoder's reparameterisation, written as a user layer: from a mean μ and a log-variance
/// v it draws <c>z = μ + e^{v/2} ⊙ ε</c>, ε ~ N(0, I), and adds the KL divergence from N(0, I),
/// <c>k = −½ Σ_j (1 + v_j − μ_j² − e^{v_j})</c> per sample, as a mean over the batch times <c>klWeight</c>.
/// Shapes: μ, v (B, d) → z (B, d); the workspace keeps ε (B, d) for Backward.
/// Backward: <c>dμ += dz + w·(1/B)·μ</c>, <c>dv += dz ⊙ ε ⊙ ½e^{v/2} + w·(1/B)·½(e^{v} − 1)</c>.
/// </summary>
public sealed class GaussianSampling : Layer, IConfigurableLayer<GaussianSampling>
{
    public GaussianSampling(double klWeight = 1, string? name = null) : base(name)
    {
        if (!(klWeight >= 0 && double.IsFinite(klWeight)))
            throw new ArgumentOutOfRangeException(nameof(klWeight), klWeight, $"Expected a finite klWeight ≥ 0. Received: klWeight={klWeight}.");
        KlWeight = klWeight;
    }

    public double KlWeight { get; }

    protected override int InputArity => 2;     // Apply(mean, logVar)

    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        if (!inputShapes[0].SequenceEqual(inputShapes[1]))
            throw new ArgumentException($"GaussianSampling '{Name}' needs a mean and a log-variance of one shape, " +
                                        $"received ({string.Join(", ", inputShapes[0])}) and ({string.Join(", ", inputShapes[1])}).");
    }

    protected override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    protected override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) => outputShape.Aggregate(1, (a, b) => a * b);

    protected override void Forward(NodeContext ctx)
    {
        var mean = ctx.Input(0);
        var logVar = ctx.Input(1);
        var z = ctx.OutputValues;
        var eps = ctx.Workspace;
        ctx.Random.FillNormal(eps);                 // seeded by Fit, fresh per batch, the same on any core
        double kl = 0;
        for (int i = 0; i < z.Length; i++)
        {
            double v = logVar[i], m = mean[i];
            z[i] = (float)(m + Math.Exp(v / 2) * eps[i]);
            kl += -0.5 * (1 + v - m * m - Math.Exp(v));
        }
        ctx.AddLoss(KlWeight * kl / ctx.Batch);     // the mean over this call's samples
    }

    protected override void Backward(NodeContext ctx)
    {
        var mean = ctx.Input(0);
        var logVar = ctx.Input(1);
        var dz = ctx.OutputGrad;
        var eps = ctx.Workspace;
        float klScale = (float)KlWeight * ctx.MeanScale;   // 1/B of the whole batch, on every core
        if (ctx.NeedsInputGrad(0))
        {
            var dMean = ctx.InputGrad(0);
            for (int i = 0; i < dz.Length; i++) dMean[i] += dz[i] + klScale * mean[i];
        }
        if (ctx.NeedsInputGrad(1))
        {
            var dLogVar = ctx.InputGrad(1);
            for (int i = 0; i < dz.Length; i++)
            {
                float s = MathF.Exp(logVar[i] / 2);
                dLogVar[i] += dz[i] * eps[i] * 0.5f * s + klScale * 0.5f * (s * s - 1);
            }
        }
    }

    protected override void GetConfig(LayerConfig config) => config.Set("kl_weight", KlWeight);

    public static GaussianSampling FromConfig(LayerConfig config) => new(config.GetDouble("kl_weight"), config.Name);
}
// --8<-- [end:gaussian-sampling]
