namespace Latent;

/// <summary>
/// Factories in Keras's style: <c>Regularizers.L1(1e-4)</c>.
/// </summary>
/// <remarks>
/// <b>Activity penalties are summed over the batch</b>, as in Keras 2 (the version the "Building Autoencoders
/// in Keras" notebook ran): for a batch of B codes <c>a</c>, an L1 activity regularizer adds
/// <c>λ · Σ_b Σ_j |a_bj|</c> to the batch's mean reconstruction loss, so its weight relative to the loss grows
/// with the batch size. tf.keras (and Keras 1.0.x) instead divide by B; pass
/// <see cref="ActivityReduction.Mean"/> for that. Weight penalties are added once per batch. <c>History</c>
/// records the penalty separately from the reconstruction loss.
/// </remarks>
public static class Regularizers
{
    /// <summary><c>λ · Σ|x|</c>.</summary>
    public static Regularizer L1(double l1 = 0.01, ActivityReduction reduction = ActivityReduction.Sum) =>
        new L1L2(l1, 0) { Reduction = reduction };

    /// <summary><c>λ · Σx²</c>.</summary>
    public static Regularizer L2(double l2 = 0.01, ActivityReduction reduction = ActivityReduction.Sum) =>
        new L1L2(0, l2) { Reduction = reduction };

    /// <summary><c>l1 · Σ|x| + l2 · Σx²</c>.</summary>
    public static Regularizer L1L2(double l1 = 0.01, double l2 = 0.01, ActivityReduction reduction = ActivityReduction.Sum) =>
        new L1L2(l1, l2) { Reduction = reduction };
}
