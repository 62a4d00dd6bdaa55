using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Activations;

/// <summary>
/// Exponential linear unit (Clevert et al., 2015): <c>y = z</c> for z &gt; 0, else <c>α(e^z − 1)</c>;
/// <c>dz = dy</c> for y &gt; 0, else <c>dy · (y + α)</c>. Also the base of <see cref="Selu"/> (with a scale).
/// </summary>
public class Elu(float alpha = 1f, float scale = 1f) : ActivationFunction
{
    /// <summary>α, the negative saturation value.</summary>
    public float Alpha { get; } = alpha > 0 ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be positive.");

    /// <summary>λ, a factor on both branches (1 for ELU).</summary>
    public float Scale { get; } = scale > 0 ? scale : throw new ArgumentOutOfRangeException(nameof(scale), scale, "Scale must be positive.");

    /// <inheritdoc />
    public override string Name => "elu";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features) => Simd.Map(new Fwd(Alpha, Scale), z, y);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features) =>
        Simd.Map(new Bwd(Alpha * Scale, Scale), y, dy, dz);

    private readonly struct Fwd(float a, float s) : IUnaryOp
    {
        public float Invoke(float x) => x > 0 ? s * x : s * a * (MathF.Exp(x) - 1f);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero),
            x * s, (Vector256.Exp(Vector256.Min(x, Vector256<float>.Zero)) - Vector256<float>.One) * (s * a));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero),
            x * s, (Vector512.Exp(Vector512.Min(x, Vector512<float>.Zero)) - Vector512<float>.One) * (s * a));
    }

    // For z ≤ 0, y = λα(e^z − 1), so f'(z) = λα e^z = y + λα.
    private readonly struct Bwd(float sa, float s) : IBinaryOp
    {
        public float Invoke(float y, float dy) => y > 0 ? dy * s : dy * (y + sa);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy * s, dy * (y + Vector256.Create(sa)));
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), dy * s, dy * (y + Vector512.Create(sa)));
    }
}
