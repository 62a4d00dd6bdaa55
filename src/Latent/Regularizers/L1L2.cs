namespace Latent;

/// <summary>
/// <c>R(x) = l1 · Σ|x| + l2 · Σx²</c>; <c>∂R/∂x = l1 · sign(x) + 2 · l2 · x</c> (sign(0) = 0, as TensorFlow's subgradient).
/// </summary>
public sealed class L1L2 : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor is negative or not finite.</exception>
    public L1L2(double l1 = 0, double l2 = 0)
    {
        if (!(l1 >= 0) || double.IsInfinity(l1)) throw new ArgumentOutOfRangeException(nameof(l1), l1, "Expected a non-negative finite factor.");
        if (!(l2 >= 0) || double.IsInfinity(l2)) throw new ArgumentOutOfRangeException(nameof(l2), l2, "Expected a non-negative finite factor.");
        L1 = l1;
        L2 = l2;
    }

    /// <summary>The L1 factor.</summary>
    public double L1 { get; }

    /// <summary>The L2 factor.</summary>
    public double L2 { get; }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override double Penalty(ReadOnlySpan<float> x)
    {
        double s1 = 0, s2 = 0;
        foreach (float v in x) { s1 += Math.Abs(v); s2 += (double)v * v; }
        return L1 * s1 + L2 * s2;
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void AddGradient(ReadOnlySpan<float> x, Span<float> grad, float scale = 1f)
    {
        float a = (float)(L1 * scale), b = (float)(2 * L2 * scale);
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            grad[i] += a * (v > 0 ? 1f : v < 0 ? -1f : 0f) + b * v;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"L1L2(l1={L1}, l2={L2}, reduction={Reduction})";
}
