using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Activations;

/// <summary>Leaky ReLU: <c>y = z</c> for z &gt; 0, else <c>α·z</c> (α = 0.2, Keras 3's default); <c>dz = dy</c> or <c>α·dy</c>.</summary>
public sealed class LeakyRelu(float negativeSlope = 0.2f) : ActivationFunction
{
    /// <summary>α, the slope for negative inputs.</summary>
    public float NegativeSlope { get; } = negativeSlope > 0 ? negativeSlope
        : throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "The slope must be positive so the sign of y tells the branch.");

    /// <inheritdoc />
    public override string Name => "leaky_relu";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features) => Simd.Map(new Op(NegativeSlope), z, y);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features) =>
        Simd.Map(new Bwd(NegativeSlope), y, dy, dz);

    private readonly struct Op(float a) : IUnaryOp
    {
        public float Invoke(float x) => x > 0 ? x : a * x;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * a);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * a);
    }

    private readonly struct Bwd(float a) : IBinaryOp
    {
        public float Invoke(float y, float dy) => y > 0 ? dy : a * dy;
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, dy * a);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), dy, dy * a);
    }
}
