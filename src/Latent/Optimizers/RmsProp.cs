using System.Numerics;
using System.Runtime.InteropServices;
using Latent.Kernels;

namespace Latent.Optimizers;

/// <summary>
/// RMSprop (Tieleman &amp; Hinton, Coursera lecture 6.5, 2012), Keras 2 form with η = 0.001, ρ = 0.9,
/// ε = 1e-7: <c>a ← ρa + (1 − ρ)g²</c>, <c>θ ← θ − η·g / (√a + ε)</c>.
/// </summary>
public sealed class RmsProp(double learningRate = 0.001, double rho = 0.9, double epsilon = 1e-7) : Optimizer(learningRate)
{
    /// <summary>ρ.</summary>
    public double Rho { get; } = InRange(rho, 0, 1, nameof(rho), hiOpen: true);

    /// <summary>ε.</summary>
    public double Epsilon { get; } = InRange(epsilon, 0, 1, nameof(epsilon));

    /// <inheritdoc />
    public override string Name => "rmsprop";

    /// <inheritdoc />
    protected override int StateSlots => 1;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected override void UpdateStep(Span<float> param, ReadOnlySpan<float> grad, int offset, float learningRate)
    {
        var a = State(0, offset, param.Length);
        float rho = (float)Rho, eps = (float)Epsilon, one = 1f - rho;
        int i = Wide ? Update<Floats512>(param, grad, a, learningRate, rho, eps)
              : Vector.IsHardwareAccelerated ? Update<FloatsN>(param, grad, a, learningRate, rho, eps) : 0;
        for (; i < param.Length; i++)
        {
            float g = grad[i];
            a[i] = Kernels.Simd.FlushSubnormal(rho * a[i] + one * g * g);
            param[i] -= learningRate * g / (MathF.Sqrt(a[i]) + eps);
        }
    }

    /// <summary>The update a vector at a time, for as many whole vectors as fit; returns where the scalar tail starts.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static int Update<TV>(Span<float> param, ReadOnlySpan<float> grad, Span<float> a, float learningRate, float rho, float eps)
        where TV : struct, IFloatVector<TV>
    {
        int n = param.Length, i = 0;
        if (grad.Length < n || a.Length < n) throw new ArgumentException($"Expected {n} gradients and averages; received {grad.Length} and {a.Length}.");
        ref float p = ref MemoryMarshal.GetReference(param);
        ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float ar = ref MemoryMarshal.GetReference(a);
        var e = TV.Splat(eps);
        float one = 1f - rho;
        for (; i <= n - TV.Count; i += TV.Count)
        {
            // The new average stays in a register: read back from memory, it waited on its own store. Same bits.
            var g = TV.Load(ref gr, (nuint)i);
            var acc = TV.FlushSubnormal(rho * TV.Load(ref ar, (nuint)i) + one * g * g);
            TV.Store(acc, ref ar, (nuint)i);
            TV.Store(TV.Load(ref p, (nuint)i) - learningRate * g / (TV.Sqrt(acc) + e), ref p, (nuint)i);
        }
        return i;
    }
}
