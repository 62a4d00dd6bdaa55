namespace Latent;

/// <summary>How an activity regularizer's penalty is reduced over the samples of a batch.</summary>
public enum ActivityReduction
{
    /// <summary>Summed over the batch, as Keras ≥ 1.0.7 and Keras 2 (the notebook's version) do. The default.</summary>
    Sum,
    /// <summary>Averaged over the batch, as tf.keras and Keras 1.0.x do.</summary>
    Mean,
}

/// <summary>A penalty on a tensor, added to the training loss: on weights (kernel/bias regularizer) or on a layer's output (activity regularizer).</summary>
public abstract class Regularizer
{
    /// <summary>For an activity regularizer: whether the penalty is summed or averaged over the batch.</summary>
    public ActivityReduction Reduction { get; init; } = ActivityReduction.Sum;

    /// <summary>The penalty <c>R(x)</c>, accumulated in double.</summary>
    public abstract double Penalty(ReadOnlySpan<float> x);

    /// <summary><c>grad += scale · ∂R/∂x</c>.</summary>
    public abstract void AddGradient(ReadOnlySpan<float> x, Span<float> grad, float scale = 1f);
}
