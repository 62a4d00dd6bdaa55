using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Activations;

/// <summary>Rectified linear unit: <c>y = max(z, 0)</c>, <c>dz = dy · [y &gt; 0]</c> (the subgradient at 0 is 0, as in Keras).</summary>
public sealed class Relu : ActivationFunction
{
    /// <summary>The shared instance.</summary>
    public static readonly Relu Instance = new();

    /// <inheritdoc />
    public override string Name => "relu";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features) => Simd.Map(new Fwd(), z, y);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features) =>
        Simd.Map(new Bwd(), y, dy, dz);

    private readonly struct Fwd : IUnaryOp
    {
        public float Invoke(float x) => x > 0 ? x : 0f;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
    }

    private readonly struct Bwd : IBinaryOp
    {
        public float Invoke(float y, float dy) => y > 0 ? dy : 0f;
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, Vector256<float>.Zero);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), dy, Vector512<float>.Zero);
    }
}
