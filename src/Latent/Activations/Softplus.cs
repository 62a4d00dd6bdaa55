using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Activations;

/// <summary>
/// Softplus: <c>y = ln(1 + e^z)</c>, computed as <c>max(z, 0) + ln(1 + e^{−|z|})</c> so it never overflows;
/// <c>dz = dy · σ(z) = dy · (1 − e^{−y})</c>.
/// </summary>
public sealed class Softplus : ActivationFunction
{
    /// <summary>The shared instance.</summary>
    public static readonly Softplus Instance = new();

    /// <inheritdoc />
    public override string Name => "softplus";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features) => Simd.Map(new Fwd(), z, y);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features) =>
        Simd.Map(new Bwd(), y, dy, dz);

    private readonly struct Fwd : IUnaryOp
    {
        public float Invoke(float x) => MathF.Max(x, 0) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
        public Vector256<float> Invoke(Vector256<float> x) =>
            Vector256.Max(x, Vector256<float>.Zero) + Vector256.Log(Vector256<float>.One + Vector256.Exp(-Vector256.Abs(x)));
        public Vector512<float> Invoke(Vector512<float> x) =>
            Vector512.Max(x, Vector512<float>.Zero) + Vector512.Log(Vector512<float>.One + Vector512.Exp(-Vector512.Abs(x)));
    }

    private readonly struct Bwd : IBinaryOp
    {
        public float Invoke(float y, float dy) => dy * (1f - MathF.Exp(-y));
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - Vector256.Exp(-y));
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - Vector512.Exp(-y));
    }
}
