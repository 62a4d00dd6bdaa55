using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Activations;

/// <summary>Logistic sigmoid: <c>y = 1 / (1 + e^-z)</c>, <c>dz = dy · y · (1 − y)</c>.</summary>
public sealed class Sigmoid : ActivationFunction
{
    /// <summary>The shared instance.</summary>
    public static readonly Sigmoid Instance = new();

    /// <inheritdoc />
    public override string Name => "sigmoid";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features)
    {
        if (!z.IsEmpty) TensorPrimitives.Sigmoid(z, y); // TensorPrimitives rejects empty spans
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features) =>
        Simd.Map(new Bwd(), y, dy, dz);

    private readonly struct Bwd : IBinaryOp
    {
        public float Invoke(float y, float dy) => dy * y * (1f - y);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * y * (Vector512<float>.One - y);
    }
}
