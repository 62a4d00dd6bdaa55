namespace Latent.Losses;

/// <summary><c>loss = mean((p − t)²)</c>, <c>∂loss/∂p = 2(p − t)/n</c>.</summary>
public sealed class MeanSquaredError : Loss
{
    /// <inheritdoc />
    public override string Name => "mean_squared_error";

    /// <inheritdoc />
    public override double Compute(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad)
    {
        CheckLengths(yPred.Length, yTrue.Length, grad.Length);
        int n = yPred.Length;
        float scale = 2f / n;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float d = yPred[i] - yTrue[i];
            sum += (double)d * d;
            if (!grad.IsEmpty) grad[i] = scale * d;
        }
        return sum / n;
    }
}
