namespace Latent;

/// <summary>
/// What <c>Fit</c> recorded per epoch, Keras's <c>History</c>. <see cref="Loss"/> is the batch-size-weighted
/// mean of the epoch's training losses including penalties (what the optimizer minimised);
/// <see cref="Penalty"/> is the regularization part of it, so <c>Loss − Penalty</c> is the reconstruction loss.
/// <see cref="ValLoss"/> is the loss on the whole validation set after the epoch.
/// </summary>
public sealed class History
{
    /// <summary>Epoch numbers (0-based).</summary>
    public List<int> Epochs { get; } = [];

    /// <summary>Training loss per epoch, penalties included.</summary>
    public List<double> Loss { get; } = [];

    /// <summary>The regularization penalty within <see cref="Loss"/>.</summary>
    public List<double> Penalty { get; } = [];

    /// <summary>Validation loss per epoch (penalties included, as Keras); empty without validation data.</summary>
    public List<double> ValLoss { get; } = [];

    /// <summary>The regularization penalty within <see cref="ValLoss"/>.</summary>
    public List<double> ValPenalty { get; } = [];

    /// <summary>Wall-clock seconds per epoch, validation included.</summary>
    public List<double> Seconds { get; } = [];

    /// <summary>Why training stopped early, if it did (early stopping, a NaN loss).</summary>
    public string? StopReason { get; internal set; }
}

/// <summary>The numbers of one finished epoch, passed to callbacks.</summary>
public sealed record EpochLogs(int Epoch, double Loss, double Penalty, double? ValLoss, double? ValPenalty, double Seconds)
{
    /// <summary>A value by Keras's name: "loss", "val_loss", "penalty", "val_penalty".</summary>
    public double? Get(string name) => name switch
    {
        "loss" => Loss,
        "val_loss" => ValLoss,
        "penalty" => Penalty,
        "val_penalty" => ValPenalty,
        _ => throw new ArgumentException($"Unknown metric '{name}'. Expected loss, val_loss, penalty or val_penalty.", nameof(name)),
    };
}
