namespace Latent;

/// <summary>
/// Stops training at the first batch whose loss is NaN or infinite, and puts back the weights from before
/// the step that produced them, so the model is left with the last weights that gave a finite loss.
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    internal override bool NeedsLastGoodWeights => true;
}
