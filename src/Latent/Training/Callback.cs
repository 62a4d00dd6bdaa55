namespace Latent;

/// <summary>
/// Hooks into <c>Model.Fit</c>, Keras style. Batch hooks run on every step, so they must not allocate if the
/// zero-allocation guarantee of a training step is to hold.
/// </summary>
public abstract class Callback
{
    /// <summary>The model being trained (set before <see cref="OnTrainBegin"/>).</summary>
    public Model Model { get; internal set; } = null!;

    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainBegin() { }

    /// <summary>After the last epoch (or an early stop).</summary>
    public virtual void OnTrainEnd() { }

    /// <summary>Before an epoch (0-based).</summary>
    public virtual void OnEpochBegin(int epoch) { }

    /// <summary>After an epoch and its validation.</summary>
    public virtual void OnEpochEnd(EpochLogs logs) { }

    /// <summary>Before a batch.</summary>
    public virtual void OnBatchBegin(int batch) { }

    /// <summary>After a batch, with its loss (penalties included).</summary>
    public virtual void OnBatchEnd(int batch, double loss) { }

    /// <summary>Whether Fit must keep a copy of the weights from before each step (for <see cref="TerminateOnNaN"/>).</summary>
    internal virtual bool NeedsLastGoodWeights => false;
}
