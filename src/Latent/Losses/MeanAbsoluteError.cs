namespace Latent.Losses;

/// <summary><c>loss = mean(|p − t|)</c>, <c>∂loss/∂p = sign(p − t)/n</c> (0 where p = t).</summary>
public sealed class MeanAbsoluteError : Loss
{
    /// <inheritdoc />
    public override string Name => "mean_absolute_error";

    /// <inheritdoc />
    public override double Compute(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad)
    {
        CheckLengths(yPred.Length, yTrue.Length, grad.Length);
        int n = yPred.Length;
        float inv = 1f / n;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float d = yPred[i] - yTrue[i];
            sum += Math.Abs(d);
            if (!grad.IsEmpty) grad[i] = d > 0 ? inv : d < 0 ? -inv : 0f;
        }
        return sum / n;
    }
}
