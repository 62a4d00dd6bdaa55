namespace Latent;

/// <summary>
/// Stops training when a monitored value stops improving, like Keras's <c>EarlyStopping</c>: an epoch improves
/// when the value drops below the best by more than <see cref="MinDelta"/>; after <see cref="Patience"/>
/// epochs without improvement training stops, and with <see cref="RestoreBestWeights"/> the weights of the
/// best epoch are put back.
/// </summary>
public sealed class EarlyStopping : Callback
{
    private double _best;
    private int _wait;
    private float[]? _bestWeights;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">"val_loss" (default) or "loss".</param>
    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, bool restoreBestWeights = false)
    {
        if (monitor is not ("val_loss" or "loss" or "penalty" or "val_penalty"))
            throw new ArgumentException($"EarlyStopping monitors loss, val_loss, penalty or val_penalty. Received: monitor={monitor}.", nameof(monitor));
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "Patience cannot be negative.");
        Monitor = monitor;
        MinDelta = Math.Abs(minDelta);
        Patience = patience;
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>The value watched.</summary>
    public string Monitor { get; }

    /// <summary>The least decrease that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }

    /// <summary>Whether the best epoch's weights are restored when training stops.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>The epoch training stopped after, or -1.</summary>
    public int StoppedEpoch { get; private set; } = -1;

    /// <summary>The epoch with the best monitored value.</summary>
    public int BestEpoch { get; private set; } = -1;

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        _best = double.PositiveInfinity;
        _wait = 0;
        _bestWeights = null;
        StoppedEpoch = BestEpoch = -1;
    }

    /// <inheritdoc />
    public override void OnEpochEnd(EpochLogs logs)
    {
        double value = logs.Get(Monitor)
            ?? throw new InvalidOperationException($"EarlyStopping monitors '{Monitor}', which Fit only computes with validationData.");
        if (value < _best - MinDelta)
        {
            _best = value;
            _wait = 0;
            BestEpoch = logs.Epoch;
            if (RestoreBestWeights) _bestWeights = Model.SnapshotWeights(_bestWeights);
            return;
        }
        if (++_wait > Patience)
        {
            StoppedEpoch = logs.Epoch;
            Model.RequestStop($"early stopping: {Monitor} did not improve for {_wait} epoch(s) after epoch {BestEpoch + 1}");
            if (RestoreBestWeights && _bestWeights is not null) Model.RestoreWeights(_bestWeights);
        }
    }
}
