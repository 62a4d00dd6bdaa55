using Latent;
using Latent.Activations;
using Latent.Initializers;
using Latent.Layers;
using Latent.Serialization;

namespace Latent.UserLayers;

// --8<-- [start:feature-scale]
/// <summary>
/// A learned scale and shift per feature, then an activation: <c>y = f(γ ⊙ x + β)</c>.
/// Shapes: x (B, d), γ (d,), β (d,), y (B, d).
/// Backward, with <c>dz = ∂loss/∂(γ ⊙ x + β)</c> handed over by the executor:
/// <c>dγ += Σ_b dz ⊙ x</c>, <c>dβ += Σ_b dz</c>, <c>dx += dz ⊙ γ</c>.
/// </summary>
public sealed class FeatureScale : Layer, IConfigurableLayer<FeatureScale>
{
    private Weight? _gamma, _beta;   // settings and weights only: nothing of a call is kept in fields

    public FeatureScale(string? activation = null, Regularizer? gammaRegularizer = null, string? name = null) : base(name)
    {
        Activation = ActivationFunction.Get(activation);
        GammaRegularizer = gammaRegularizer;
    }

    public ActivationFunction Activation { get; }
    public Regularizer? GammaRegularizer { get; }

    /// <summary>Declared, not applied here: the executor applies it (and fuses it with a matching loss).</summary>
    public override ActivationFunction? OutputActivation => Activation;

    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        int d = inputShapes[0][^1];
        _gamma = AddWeight("gamma", [d], new Constant(1), GammaRegularizer);
        _beta = AddWeight("beta", [d], new Constant(0));
    }

    protected override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    protected override void Forward(NodeContext ctx)
    {
        var x = ctx.Input(0);                       // (B, d)
        var z = ctx.OutputValues;                   // (B, d): the pre-activation
        var gamma = _gamma!.Values;
        var beta = _beta!.Values;
        int d = gamma.Length;
        for (int i = 0; i < x.Length; i++) z[i] = gamma[i % d] * x[i] + beta[i % d];
    }

    protected override void Backward(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var dz = ctx.OutputGrad;                    // (B, d), already through f'
        var gamma = _gamma!.Values;
        int d = gamma.Length;
        if (Trainable)
        {
            var dGamma = ctx.WeightGrad(_gamma);    // add, never overwrite: a shared layer sums its calls
            var dBeta = ctx.WeightGrad(_beta!);
            for (int i = 0; i < x.Length; i++) { dGamma[i % d] += dz[i] * x[i]; dBeta[i % d] += dz[i]; }
        }
        if (ctx.NeedsInputGrad(0))
        {
            var dx = ctx.InputGrad(0);
            for (int i = 0; i < x.Length; i++) dx[i] += dz[i] * gamma[i % d];
        }
    }

    protected override void GetConfig(LayerConfig config)
    {
        config.Set("activation", Activation);
        config.Set("gamma_regularizer", GammaRegularizer);
    }

    public static FeatureScale FromConfig(LayerConfig config) =>
        new(config.GetActivation("activation").Name, config.GetRegularizer("gamma_regularizer"), config.Name);
}
// --8<-- [end:feature-scale]
