using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Latent.Activations;
using Latent.Kernels;

namespace Latent.Losses;

/// <summary>
/// Binary cross-entropy with Keras semantics: <c>p' = clip(p, ε, 1 − ε)</c>,
/// <c>ℓ(p, t) = −(t·ln p' + (1 − t)·ln(1 − p'))</c>, ε = 1e-7, reduced by the mean over all elements (or
/// <see cref="LossReduction.SumOverFeatures"/>); the gradient is zero where p is clipped (as
/// through Keras's clip). Targets may be any value in [0, 1] (pixel intensities).
/// </summary>
/// <remarks>
/// When the model's output is a sigmoid, the loss is computed from the logits z instead:
/// with <c>z' = clip(z, −L, L)</c>, <c>L = ln((1 − ε)/ε)</c> (the same clip, moved through σ),
/// <c>ℓ = max(z', 0) − z'·t + ln(1 + e^{−|z'|})</c> and <c>∂ℓ/∂z = σ(z) − t</c> inside the clip. The executor
/// chooses this form by itself for a sigmoid output that nothing else reads (<see cref="FusesWith"/>). This is
/// exactly the clipped loss above, without the rounding of σ near 0 and 1 that makes <c>(p − t)/(p(1 − p))</c>
/// unstable.
/// </remarks>
public sealed class BinaryCrossentropy : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="epsilon">Clip ε (Keras's <c>backend.epsilon()</c> = 1e-7).</param>
    /// <param name="reduction">The mean over all elements (Keras's default), or the sum over each sample's elements averaged over the batch.</param>
    public BinaryCrossentropy(double epsilon = 1e-7, LossReduction reduction = LossReduction.Mean) : base(reduction)
    {
        if (!(epsilon > 0 && epsilon < 0.5))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Expected 0 < epsilon < 0.5.");
        Epsilon = epsilon;
        LogitLimit = Math.Log((1 - epsilon) / epsilon);
    }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>L = ln((1 − ε)/ε), the logit clip (≈ 16.118 for ε = 1e-7).</summary>
    public double LogitLimit { get; }

    /// <inheritdoc />
    public override string Name => "binary_crossentropy";

    /// <inheritdoc />
    public override bool FusesWith(ActivationFunction activation) => activation is Sigmoid;

    /// <inheritdoc />
    protected internal override double Sum(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad, float gradScale)
    {
        CheckLengths(yPred.Length, yTrue.Length, grad.Length);
        int n = yPred.Length;
        double lo = Epsilon, hi = 1 - Epsilon, sum = 0, invN = gradScale;
        bool g = !grad.IsEmpty;
        for (int i = 0; i < n; i++)
        {
            double p = yPred[i], t = yTrue[i];
            double pc = Math.Clamp(p, lo, hi);
            sum -= t * Math.Log(pc) + (1 - t) * Math.Log(1 - pc);
            if (g) grad[i] = p > lo && p < hi ? (float)((pc - t) / (pc * (1 - pc)) * invN) : 0f;
        }
        return sum;
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override double SumFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, float gradScale)
    {
        int n = logits.Length, i = 0;
        float limit = (float)LogitLimit, invN = gradScale;
        bool g = !gradLogits.IsEmpty;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // Sixteen lanes at a time; each vector of losses is widened and summed in double, so the total is as
            // precise as the scalar loop's (finite-difference checks rely on that).
            var lim = Vector512.Create(limit);
            var inv = Vector512.Create(invN);
            var acc = Vector512<double>.Zero;
            var nan = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var z = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(logits), (nuint)i);
                var t = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(yTrue), (nuint)i);
                // The native min/max are single instructions (the IEEE forms cost four more each) but drop a NaN,
                // so NaNs are collected apart and turn the sum into NaN after the loop.
                nan |= ~Vector512.Equals(z, z);
                var zc = Vector512.MinNative(Vector512.MaxNative(z, -lim), lim);
                var e = FastMath.ExpNonPositive(-Vector512.Abs(zc));             // e^{-|z'|} in (0, 1]
                var onePlusE = Vector512<float>.One + e;
                var loss = Vector512.MaxNative(zc, Vector512<float>.Zero) - zc * t + FastMath.Log1pUnit(e);
                var (lo, hi) = Vector512.Widen(loss);
                acc += lo + hi;
                if (g)
                {
                    // σ(z) = 1/(1 + e) for z ≥ 0, e/(1 + e) for z < 0: no overflow either way.
                    var sig = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(z, Vector512<float>.Zero), Vector512<float>.One, e)
                              / onePlusE;
                    var inside = Vector512.LessThan(Vector512.Abs(z), lim);
                    Vector512.ConditionalSelect(inside, (sig - t) * inv, Vector512<float>.Zero)
                             .StoreUnsafe(ref MemoryMarshal.GetReference(gradLogits), (nuint)i);
                }
            }
            sum = Vector512.Sum(acc);
            if (nan != Vector512<float>.Zero) sum = double.NaN;
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            // Eight lanes (AVX2), as above; each vector of losses is widened and summed in double, so the total is as
            // precise as the scalar loop's (finite-difference checks rely on that).
            var lim = Vector256.Create(limit);
            var inv = Vector256.Create(invN);
            var acc = Vector256<double>.Zero;
            var nan = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var z = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(logits), (nuint)i);
                var t = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(yTrue), (nuint)i);
                // The native min/max are single instructions (the IEEE forms cost four more each) but drop a NaN,
                // so NaNs are collected apart and turn the sum into NaN after the loop.
                nan |= ~Vector256.Equals(z, z);
                var zc = Vector256.MinNative(Vector256.MaxNative(z, -lim), lim);
                var e = FastMath.ExpNonPositive(-Vector256.Abs(zc));             // e^{-|z'|} in (0, 1]
                var onePlusE = Vector256<float>.One + e;
                var loss = Vector256.MaxNative(zc, Vector256<float>.Zero) - zc * t + FastMath.Log1pUnit(e);
                var (lo, hi) = Vector256.Widen(loss);
                acc += lo + hi;
                if (g)
                {
                    // σ(z) = 1/(1 + e) for z ≥ 0, e/(1 + e) for z < 0: no overflow either way.
                    var sig = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256<float>.One, e)
                              / onePlusE;
                    var inside = Vector256.LessThan(Vector256.Abs(z), lim);
                    Vector256.ConditionalSelect(inside, (sig - t) * inv, Vector256<float>.Zero)
                             .StoreUnsafe(ref MemoryMarshal.GetReference(gradLogits), (nuint)i);
                }
            }
            sum = Vector256.Sum(acc);
            if (nan != Vector256<float>.Zero) sum = double.NaN;
        }
        for (; i < n; i++)
        {
            float z = logits[i], t = yTrue[i];
            float zc = Math.Clamp(z, -limit, limit);
            float e = MathF.Exp(-MathF.Abs(zc));
            sum += MathF.Max(zc, 0) - zc * t + MathF.Log(1f + e);
            if (g) gradLogits[i] = z > -limit && z < limit ? ((z >= 0 ? 1f : e) / (1f + e) - t) * invN : 0f;
        }
        return sum;
    }
}
