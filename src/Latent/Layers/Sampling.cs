using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// A variational autoencoder's reparameterisation (Kingma &amp; Welling 2014): from the encoder's mean μ and
/// log-variance v it draws <c>z = μ + e^{v/2} ⊙ ε</c>, ε ~ N(0, I), and adds the KL divergence of
/// N(μ, e^{v}) from N(0, I) to the loss, <b>summed</b> over the latent dimensions and <b>averaged</b> over the
/// batch, times <see cref="KlWeight"/> (β of a β-VAE):
/// <c>β · (1/B) Σᵢ −½ Σⱼ (1 + vᵢⱼ − μᵢⱼ² − e^{vᵢⱼ})</c>.
/// </summary>
/// <remarks>
/// <para>Use it with a reconstruction loss summed over the features
/// (<c>new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures)</c>): both terms are then per-sample
/// negative ELBO parts on the same scale, as in Kingma &amp; Welling and keras.io's <c>vae.py</c>. A mean over
/// 784 pixels against a KL summed over the latent weighs the KL 784 times too much and collapses the posterior.</para>
/// <para>ε is drawn from the call's <see cref="LayerRandom"/>: fresh every batch, reproducible from
/// <c>Fit</c>'s seed, the same for a sample on one core or several. The layer samples in inference too (as
/// Keras's example does); use the encoder's μ output for a deterministic code.</para>
/// <para>Shapes: μ, v (B, d…) → z (B, d…). Backward: <c>∂μ += ∂z + β/B·μ</c>,
/// <c>∂v += ∂z ⊙ ε ⊙ ½e^{v/2} + β/B·½(e^{v} − 1)</c>.</para>
/// </remarks>
public sealed class Sampling : Layer, IConfigurableLayer<Sampling>
{
    private double _klWeight;

    /// <summary>A sampling layer adding the KL term with weight <paramref name="klWeight"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">klWeight is negative, NaN or infinite.</exception>
    public Sampling(double klWeight = 1, string? name = null) : base(name) => KlWeight = klWeight;

    /// <summary>
    /// β, the KL term's weight (1 for the ELBO). Settable between steps, e.g. by <see cref="KlWarmup"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite.</exception>
    public double KlWeight
    {
        get => _klWeight;
        set
        {
            if (!(value >= 0 && double.IsFinite(value)))
                throw new ArgumentOutOfRangeException(nameof(KlWeight), value, $"Expected a finite KL weight ≥ 0. Received: klWeight={value}.");
            _klWeight = value;
        }
    }

    /// <summary>Test hook: fills ε (Batch × d, with the call's offset in the whole batch) instead of the seeded stream.</summary>
    internal Action<int, Span<float>>? EpsilonSource { get; set; }

    /// <inheritdoc />
    protected override int InputArity => 2;

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        if (!inputShapes[0].SequenceEqual(inputShapes[1]))
            throw new ArgumentException($"Sampling '{Name}' needs a mean and a log-variance of one shape, " +
                                        $"received ({string.Join(", ", inputShapes[0])}) and ({string.Join(", ", inputShapes[1])}).");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    /// <summary>ε, kept for Backward.</summary>
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) => ShapeUtil.Product(outputShape);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var mean = ctx.Input(0);
        var logVar = ctx.Input(1);
        var z = ctx.OutputValues;
        var eps = ctx.Workspace;
        if (EpsilonSource is { } source) source(ctx.BatchOffset, eps);
        else ctx.Random.FillNormal(eps);
        double kl = 0;
        for (int i = 0; i < z.Length; i++)
        {
            float v = logVar[i], m = mean[i], e = MathF.Exp(v);
            z[i] = m + MathF.Sqrt(e) * eps[i];
            kl += 1 + v - m * m - e;
        }
        if (_klWeight != 0) ctx.AddLoss(-0.5 * _klWeight * kl / ctx.Batch);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        var mean = ctx.Input(0);
        var logVar = ctx.Input(1);
        var dz = ctx.OutputGrad;
        var eps = ctx.Workspace;
        float klScale = (float)_klWeight * ctx.MeanScale;
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
                float e = MathF.Exp(logVar[i]);
                dLogVar[i] += 0.5f * (dz[i] * eps[i] * MathF.Sqrt(e) + klScale * (e - 1));
            }
        }
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("kl_weight", KlWeight);

    /// <inheritdoc />
    public static Sampling FromConfig(LayerConfig config) => new(config.GetDouble("kl_weight"), config.Name);
}
