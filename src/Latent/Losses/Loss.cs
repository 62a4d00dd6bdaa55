namespace Latent.Losses;

/// <summary>
/// A loss between predictions and targets, reduced Keras's way: mean over the last axis, then mean over the
/// batch (for equal-sized samples, the mean over every element). <see cref="Compute"/> also writes
/// ∂loss/∂prediction, already divided by the element count.
/// </summary>
public abstract class Loss
{
    /// <summary>The Keras name.</summary>
    public abstract string Name { get; }

    /// <summary>Mean loss over all elements; writes ∂loss/∂yPred into <paramref name="grad"/> unless it is empty.</summary>
    public abstract double Compute(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad);

    /// <summary>Whether <see cref="ComputeFromLogits"/> is available for a sigmoid output.</summary>
    public virtual bool AcceptsSigmoidLogits => false;

    /// <summary>The same loss for <c>yPred = σ(z)</c>, from z, with ∂loss/∂z in <paramref name="gradLogits"/>.</summary>
    public double ComputeFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits)
    {
        CheckLengths(logits.Length, yTrue.Length, gradLogits.Length);
        return logits.Length == 0 ? 0 : SumFromLogits(logits, yTrue, gradLogits, 1f / logits.Length) / logits.Length;
    }

    /// <summary>
    /// The <b>sum</b> of the per-element losses for <c>yPred = σ(z)</c>, with <c>gradScale · ∂(sum)/∂z</c> in
    /// <paramref name="gradLogits"/> (unless empty). Element-wise, so a caller may split a batch into parts
    /// (on several cores) and add the sums; <see cref="ComputeFromLogits"/> is the mean over one part.
    /// </summary>
    protected internal virtual double SumFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, float gradScale) =>
        throw new NotSupportedException($"{Name} does not take logits.");

    /// <summary>The loss called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Loss Get(string name) => name.ToLowerInvariant() switch
    {
        "binary_crossentropy" or "bce" => new BinaryCrossentropy(),
        "mean_squared_error" or "mse" => new MeanSquaredError(),
        "mean_absolute_error" or "mae" => new MeanAbsoluteError(),
        _ => throw new ArgumentException(
            $"Unknown loss '{name}'. Expected one of: binary_crossentropy, mean_squared_error, mean_absolute_error.", nameof(name)),
    };

    /// <summary>Uses <see cref="Get"/>, so a name can be passed where a loss is expected.</summary>
    public static implicit operator Loss(string name) => Get(name);

    /// <summary>Throws unless the two spans have the same length.</summary>
    protected static void CheckLengths(int pred, int target, int grad)
    {
        if (pred != target)
            throw new ArgumentException($"Predictions have {pred} elements but targets have {target}.");
        if (grad != 0 && grad != pred)
            throw new ArgumentException($"The gradient buffer has {grad} elements, predictions {pred}.");
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
