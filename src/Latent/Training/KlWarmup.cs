using Latent.Layers;

namespace Latent;

/// <summary>
/// KL annealing (Bowman et al. 2016, "warm-up" in Sønderby et al. 2016): the KL weight of every
/// <see cref="Sampling"/> layer of the model rises linearly from 0 to β over the first <see cref="Epochs"/>
/// epochs, <c>w(e) = β · min(1, e / N)</c> for 0-based epoch e, so epoch 0 trains the reconstruction alone and
/// epoch N and later the full objective. A common cure for posterior collapse with strong decoders.
/// </summary>
/// <remarks>
/// β is the constructor's klWeight when given, else each layer's own <see cref="Sampling.KlWeight"/> when
/// training begins. Training that ends mid-way leaves the layers at their last weight; a resumed <c>Fit</c>
/// (<c>initialEpoch</c>) continues the ramp where it was, given the same β.
/// </remarks>
public sealed class KlWarmup : Callback
{
    private Sampling[] _layers = [];
    private double[] _targets = [];

    /// <summary>Warm up over <paramref name="epochs"/> epochs towards <paramref name="klWeight"/> (default: each layer's own weight).</summary>
    /// <exception cref="ArgumentOutOfRangeException">epochs is not positive, or klWeight is negative or not finite.</exception>
    public KlWarmup(int epochs, double? klWeight = null)
    {
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"KlWarmup needs a positive number of epochs. Received: epochs={epochs}.");
        if (klWeight is double w && !(w >= 0 && double.IsFinite(w)))
            throw new ArgumentOutOfRangeException(nameof(klWeight), w, $"Expected a finite KL weight ≥ 0. Received: klWeight={w}.");
        Epochs = epochs;
        KlWeight = klWeight;
    }

    /// <summary>N, the epochs over which the weight rises.</summary>
    public int Epochs { get; }

    /// <summary>β, or null for each layer's own weight at the start of training.</summary>
    public double? KlWeight { get; }

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        _layers = Model.Layers.OfType<Sampling>().ToArray();
        if (_layers.Length == 0)
            throw new InvalidOperationException($"KlWarmup: model '{Model.Name}' has no Sampling layer whose KL weight to warm up.");
        _targets = _layers.Select(l => KlWeight ?? l.KlWeight).ToArray();
    }

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch)
    {
        double ramp = Math.Min(1.0, (double)epoch / Epochs);
        for (int i = 0; i < _layers.Length; i++) _layers[i].KlWeight = _targets[i] * ramp;
    }
}
