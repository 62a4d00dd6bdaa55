namespace Latent.Losses;

/// <summary><c>ℓ(p, t) = (p − t)²</c>, <c>∂ℓ/∂p = 2(p − t)</c>; by default the mean over all elements (Keras's "mse").</summary>
public sealed class MeanSquaredError(LossReduction reduction = LossReduction.Mean) : Loss(reduction)
{
    /// <inheritdoc />
    public override string Name => "mean_squared_error";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override double Sum(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad, float gradScale)
    {
        CheckLengths(yPred.Length, yTrue.Length, grad.Length);
        float scale = 2f * gradScale;
        double sum = 0;
        for (int i = 0; i < yPred.Length; i++)
        {
            float d = yPred[i] - yTrue[i];
            sum += (double)d * d;
            if (!grad.IsEmpty) grad[i] = scale * d;
        }
        return sum;
    }
}
