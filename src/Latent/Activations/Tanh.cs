using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Activations;

/// <summary>Hyperbolic tangent: <c>y = tanh(z)</c>, <c>dz = dy · (1 − y²)</c>.</summary>
public sealed class Tanh : ActivationFunction
{
    /// <summary>The shared instance.</summary>
    public static readonly Tanh Instance = new();

    /// <inheritdoc />
    public override string Name => "tanh";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features)
    {
        if (!z.IsEmpty) TensorPrimitives.Tanh(z, y); // TensorPrimitives rejects empty spans
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features) =>
        Simd.Map(new Bwd(), y, dy, dz);

    private readonly struct Bwd : IBinaryOp
    {
        public float Invoke(float y, float dy) => dy * (1f - y * y);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - y * y);
    }
}
