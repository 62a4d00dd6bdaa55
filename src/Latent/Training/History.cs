namespace Latent;

/// <summary>
/// What <c>Fit</c> recorded per epoch, Keras's <c>History</c>. <see cref="Loss"/> is the batch-size-weighted
/// mean of the epoch's training losses including penalties and added losses (what the optimizer minimised);
/// <see cref="Penalty"/> is the regularization part of it and <see cref="AddedLoss"/> the part that layers added
/// (a VAE's KL term), so <c>Loss − Penalty − AddedLoss</c> is the data loss. <see cref="OutputLosses"/> has each
/// output's loss by Keras's key ("layer_loss"). The <c>Val</c> lists are the same on the validation set.
/// </summary>
public sealed class History
{
    /// <summary>Epoch numbers (0-based).</summary>
    public List<int> Epochs { get; } = [];

    /// <summary>Training loss per epoch, penalties and added losses included.</summary>
    public List<double> Loss { get; } = [];

    /// <summary>The regularization penalty within <see cref="Loss"/>.</summary>
    public List<double> Penalty { get; } = [];

    /// <summary>The losses layers added (<see cref="NodeContext.AddLoss"/>) within <see cref="Loss"/>.</summary>
    public List<double> AddedLoss { get; } = [];

    /// <summary>Each output's (unweighted) loss per epoch, by "outputlayer_loss".</summary>
    public Dictionary<string, List<double>> OutputLosses { get; } = [];

    /// <summary>Validation loss per epoch (penalties included, as Keras); empty without validation data.</summary>
    public List<double> ValLoss { get; } = [];

    /// <summary>The regularization penalty within <see cref="ValLoss"/>.</summary>
    public List<double> ValPenalty { get; } = [];

    /// <summary>The added losses within <see cref="ValLoss"/>.</summary>
    public List<double> ValAddedLoss { get; } = [];

    /// <summary>Each output's validation loss per epoch.</summary>
    public Dictionary<string, List<double>> ValOutputLosses { get; } = [];

    /// <summary>Wall-clock seconds per epoch, validation included.</summary>
    public List<double> Seconds { get; } = [];

    /// <summary>Why training stopped early, if it did (early stopping, a NaN loss).</summary>
    public string? StopReason { get; internal set; }
}

/// <summary>The numbers of one finished epoch, passed to callbacks.</summary>
public sealed record EpochLogs(int Epoch, double Loss, double Penalty, double? ValLoss, double? ValPenalty, double Seconds)
{
    /// <summary>The losses layers added, within <see cref="Loss"/>.</summary>
    public double AddedLoss { get; init; }

    /// <summary>The added losses within <see cref="ValLoss"/>.</summary>
    public double? ValAddedLoss { get; init; }

    /// <summary>For a model with several outputs, each output's loss by Keras's key ("out_loss", "val_out_loss").</summary>
    public IReadOnlyDictionary<string, double> OutputLosses { get; init; } = new Dictionary<string, double>();

    /// <summary>A value by Keras's name: "loss", "val_loss", "penalty", "val_penalty", "added_loss", "val_added_loss", or an output's "…_loss".</summary>
    public double? Get(string name) => name switch
    {
        "loss" => Loss,
        "val_loss" => ValLoss,
        "penalty" => Penalty,
        "val_penalty" => ValPenalty,
        "added_loss" => AddedLoss,
        "val_added_loss" => ValAddedLoss,
        _ when OutputLosses.TryGetValue(name, out var v) => v,
        _ => throw new ArgumentException(
            $"Unknown metric '{name}'. Expected loss, val_loss, penalty, val_penalty, added_loss, val_added_loss{string.Concat(OutputLosses.Keys.Select(k => ", " + k))}.", nameof(name)),
    };
}
