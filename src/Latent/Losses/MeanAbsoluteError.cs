namespace Latent.Losses;

/// <summary><c>ℓ(p, t) = |p − t|</c>, <c>∂ℓ/∂p = sign(p − t)</c> (0 where p = t); by default the mean over all elements (Keras's "mae").</summary>
public sealed class MeanAbsoluteError(LossReduction reduction = LossReduction.Mean) : Loss(reduction)
{
    /// <inheritdoc />
    public override string Name => "mean_absolute_error";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override double Sum(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad, float gradScale)
    {
        CheckLengths(yPred.Length, yTrue.Length, grad.Length);
        double sum = 0;
        for (int i = 0; i < yPred.Length; i++)
        {
            float d = yPred[i] - yTrue[i];
            sum += Math.Abs(d);
            if (!grad.IsEmpty) grad[i] = d > 0 ? gradScale : d < 0 ? -gradScale : 0f;
        }
        return sum;
    }
}
