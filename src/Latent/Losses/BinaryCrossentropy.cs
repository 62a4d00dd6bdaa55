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
    /// <remarks>
    /// The vector loops sum ln(1 + e) of a block of elements as the logarithm of their product: each lane multiplies
    /// its factors 1 + e (each in (1, 2], so 64 of them stay below 2⁶⁴) and takes one logarithm per block, split as
    /// exponent·ln 2 + ln(mantissa). Per element that leaves the exponential, a multiply and the gradient's division;
    /// a logarithm after every exponential made each element's chain of dependent operations too long for the
    /// core to overlap enough elements (docs/PERFORMANCE.md, "The loss: one logarithm per block"). The product's
    /// roundings (one per factor, at most 2⁻²⁴ relative each) put a lane's block of 64 logarithms within 64·2⁻²⁴ ≈ 4·10⁻⁶
    /// of exact at worst (~2·10⁻⁷ typically, the roundings being of either sign); each element's
    /// max(z', 0) − z'·t is summed in double as before, so a finite difference in one logit still moves the total by
    /// what it should.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override double SumFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, float gradScale)
    {
        int n = logits.Length, i = 0;
        float limit = (float)LogitLimit, invN = gradScale;
        bool g = !gradLogits.IsEmpty;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            i = n & ~15;
            sum = SumFromLogits512(logits[..i], yTrue[..i], g ? gradLogits[..i] : default, limit, invN);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            i = n & ~7;
            sum = SumFromLogits256(logits[..i], yTrue[..i], g ? gradLogits[..i] : default, limit, invN);
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

    /// <summary>Vectors of 1 + e multiplied into a lane's product before its logarithm is taken (≤ 2⁶⁴).</summary>
    private const int ProductBlock = 64;

    /// <summary>The loss and gradient from logits, sixteen lanes at a time; the length is a multiple of 16.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization | System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static double SumFromLogits512(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, float limit, float invN)
    {
        int n = logits.Length;
        bool g = !gradLogits.IsEmpty;
        ref float zRef = ref MemoryMarshal.GetReference(logits);
        ref float tRef = ref MemoryMarshal.GetReference(yTrue);
        ref float gRef = ref MemoryMarshal.GetReference(gradLogits);
        // Constants out of the loop: the JIT rebuilt −limit and the masks for −|z| and |z| on every vector.
        var lim = Vector512.Create(limit);
        var negLim = -lim;
        var signBit = Vector512.Create(-0f);
        var inv = Vector512.Create(invN);
        var acc = Vector512<double>.Zero;
        var nan = Vector512<float>.Zero;
        for (int i = 0; i < n;)
        {
            int end = Math.Min(n, i + 16 * ProductBlock);
            var product = Vector512<float>.One;
            for (; i < end; i += 16)
            {
                var z = Vector512.LoadUnsafe(ref zRef, (nuint)i);
                var t = Vector512.LoadUnsafe(ref tRef, (nuint)i);
                // The native min/max are single instructions (the IEEE forms cost four more each) but drop a NaN,
                // so NaNs are collected apart and turn the sum into NaN after the loop.
                nan |= ~Vector512.Equals(z, z);
                var zc = Vector512.MinNative(Vector512.MaxNative(z, negLim), lim);
                var e = FastMath.ExpNonPositive(zc | signBit);                   // e^{-|z'|} in (0, 1]: −|z'| is z' with its sign bit set
                var onePlusE = Vector512<float>.One + e;
                product *= onePlusE;
                var (lo, hi) = Vector512.Widen(Vector512.MaxNative(zc, Vector512<float>.Zero) - zc * t);
                acc += lo + hi;
                if (g)
                {
                    // σ(z) = 1/(1 + e) for z ≥ 0, e/(1 + e) for z < 0: no overflow either way.
                    var sig = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(z, Vector512<float>.Zero), Vector512<float>.One, e)
                              / onePlusE;
                    var inside = Vector512.LessThan(Vector512.AndNot(z, signBit), lim);
                    (((sig - t) * inv) & inside).StoreUnsafe(ref gRef, (nuint)i);
                }
            }
            // ln(product) = k·ln 2 + ln(1 + f) for product = (1 + f)·2^k, f in [0, 1): exact k, f, and ln(1 + f) to ~1 ulp.
            var bits = product.AsInt32();
            var k = Vector512.ConvertToSingle((bits >>> 23) - Vector512.Create(127));
            var f = ((bits & Vector512.Create(0x007FFFFF)) | Vector512.Create(0x3F800000)).AsSingle() - Vector512<float>.One;
            var (l0, l1) = Vector512.Widen(FastMath.Log1pUnit(f));
            var (k0, k1) = Vector512.Widen(k);
            acc += l0 + l1 + (k0 + k1) * Vector512.Create(0.693147180559945309417);
        }
        double sum = Vector512.Sum(acc);
        return nan != Vector512<float>.Zero ? double.NaN : sum;
    }

    /// <summary>The loss and gradient from logits, eight lanes at a time (AVX2); the length is a multiple of 8.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization | System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static double SumFromLogits256(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, float limit, float invN)
    {
        int n = logits.Length;
        bool g = !gradLogits.IsEmpty;
        ref float zRef = ref MemoryMarshal.GetReference(logits);
        ref float tRef = ref MemoryMarshal.GetReference(yTrue);
        ref float gRef = ref MemoryMarshal.GetReference(gradLogits);
        // Constants out of the loop: the JIT rebuilt −limit and the masks for −|z| and |z| on every vector.
        var lim = Vector256.Create(limit);
        var negLim = -lim;
        var signBit = Vector256.Create(-0f);
        var inv = Vector256.Create(invN);
        var acc = Vector256<double>.Zero;
        var nan = Vector256<float>.Zero;
        for (int i = 0; i < n;)
        {
            int end = Math.Min(n, i + 8 * ProductBlock);
            var product = Vector256<float>.One;
            for (; i < end; i += 8)
            {
                var z = Vector256.LoadUnsafe(ref zRef, (nuint)i);
                var t = Vector256.LoadUnsafe(ref tRef, (nuint)i);
                nan |= ~Vector256.Equals(z, z);
                var zc = Vector256.MinNative(Vector256.MaxNative(z, negLim), lim);
                var e = FastMath.ExpNonPositive(zc | signBit);
                var onePlusE = Vector256<float>.One + e;
                product *= onePlusE;
                var (lo, hi) = Vector256.Widen(Vector256.MaxNative(zc, Vector256<float>.Zero) - zc * t);
                acc += lo + hi;
                if (g)
                {
                    var sig = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256<float>.One, e)
                              / onePlusE;
                    var inside = Vector256.LessThan(Vector256.AndNot(z, signBit), lim);
                    (((sig - t) * inv) & inside).StoreUnsafe(ref gRef, (nuint)i);
                }
            }
            var bits = product.AsInt32();
            var k = Vector256.ConvertToSingle((bits >>> 23) - Vector256.Create(127));
            var f = ((bits & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle() - Vector256<float>.One;
            var (l0, l1) = Vector256.Widen(FastMath.Log1pUnit(f));
            var (k0, k1) = Vector256.Widen(k);
            acc += l0 + l1 + (k0 + k1) * Vector256.Create(0.693147180559945309417);
        }
        double sum = Vector256.Sum(acc);
        return nan != Vector256<float>.Zero ? double.NaN : sum;
    }
}
