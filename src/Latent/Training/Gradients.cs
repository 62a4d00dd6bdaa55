namespace Latent;

/// <summary>
/// One batch's gradients from <see cref="Model.ComputeGradients(IReadOnlyList{SampleSet}, IReadOnlyList{SampleSet})"/>:
/// the loss and its parts, and ∂total/∂w for every weight, live in the model's gradient buffer (changes are what
/// <see cref="Model.ApplyGradients"/> applies). Valid until the model's next training call.
/// </summary>
public sealed class Gradients
{
    private readonly Model _model;
    private readonly ParameterStore _store;

    internal Gradients(Model model, ParameterStore store, double loss, double[] outputLosses, double penalty, double addedLoss)
    {
        (_model, _store, Loss, OutputLosses, Penalty, AddedLoss) = (model, store, loss, outputLosses, penalty, addedLoss);
    }

    /// <summary>The batch's total loss: <c>Σⱼ wⱼ·lossⱼ + Penalty + AddedLoss</c>. When it is not finite no gradient was computed.</summary>
    public double Loss { get; }

    /// <summary>Each output's loss (unweighted), in output order.</summary>
    public IReadOnlyList<double> OutputLosses { get; }

    /// <summary>Regularization penalties (weights and activity).</summary>
    public double Penalty { get; }

    /// <summary>Losses that layers added (<see cref="NodeContext.AddLoss"/>).</summary>
    public double AddedLoss { get; }

    /// <summary>∂total/∂<paramref name="weight"/>, laid out like its values (writable).</summary>
    /// <exception cref="ArgumentException">The weight is not one of the model's, or the model's buffers moved since.</exception>
    public Span<float> Of(Weight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!_model.Weights.Contains(weight))
            throw new ArgumentException($"Weight {weight.Name} is not one of model '{_model.Name}''s.", nameof(weight));
        if (!ReferenceEquals(weight.Store, _store))
            throw new InvalidOperationException("These gradients are stale: the model's buffers changed since ComputeGradients.");
        return weight.Grads;
    }

    /// <summary>The L2 norm of every trainable weight's gradient together.</summary>
    public double GlobalNorm()
    {
        double sq = 0;
        foreach (var w in _model.Weights)
            if (w.Trainable)
                foreach (float g in Of(w)) sq += (double)g * g;
        return Math.Sqrt(sq);
    }
}

/// <summary>What <see cref="Model.EvaluateAll(IReadOnlyList{SampleSet}, IReadOnlyList{SampleSet}, int)"/> measured: the total and its parts, sample-weighted means over the batches.</summary>
/// <param name="Loss">The total: <c>Σⱼ wⱼ·OutputLosses[j] + Penalty + AddedLoss</c>.</param>
/// <param name="OutputLosses">Each output's loss (unweighted), in output order.</param>
/// <param name="Penalty">Regularization penalties.</param>
/// <param name="AddedLoss">Losses that layers added.</param>
public sealed record Evaluation(double Loss, IReadOnlyList<double> OutputLosses, double Penalty, double AddedLoss);
