using System.Numerics;
using System.Runtime.InteropServices;
using Latent.Kernels;

namespace Latent.Optimizers;

/// <summary>
/// Adam (Kingma &amp; Ba, "Adam: A Method for Stochastic Optimization", 2014), Keras 2 form with η = 0.001,
/// β₁ = 0.9, β₂ = 0.999, ε = 1e-7. At step t (from 1): <c>m ← β₁m + (1 − β₁)g</c>, <c>v ← β₂v + (1 − β₂)g²</c>,
/// <c>η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)</c>, <c>θ ← θ − η_t·m / (√v + ε)</c>.
/// </summary>
public sealed class Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) : Optimizer(learningRate)
{
    /// <summary>β₁.</summary>
    public double Beta1 { get; } = InRange(beta1, 0, 1, nameof(beta1), hiOpen: true);

    /// <summary>β₂.</summary>
    public double Beta2 { get; } = InRange(beta2, 0, 1, nameof(beta2), hiOpen: true);

    /// <summary>ε.</summary>
    public double Epsilon { get; } = InRange(epsilon, 0, 1, nameof(epsilon));

    /// <inheritdoc />
    public override string Name => "adam";

    /// <inheritdoc />
    protected override int StateSlots => 2;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected override void UpdateStep(Span<float> param, ReadOnlySpan<float> grad, int offset, float learningRate)
    {
        var m = State(0, offset, param.Length);
        var v = State(1, offset, param.Length);
        long t = Iterations + 1;
        float lrT = (float)(learningRate * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t)));
        float b1 = (float)Beta1, b2 = (float)Beta2, eps = (float)Epsilon;
        int i = Wide ? Update<Floats512>(param, grad, m, v, lrT, b1, b2, eps)
              : Vector.IsHardwareAccelerated ? Update<FloatsN>(param, grad, m, v, lrT, b1, b2, eps) : 0;
        for (; i < param.Length; i++)
        {
            float g = grad[i];
            m[i] = Kernels.Simd.FlushSubnormal(b1 * m[i] + (1 - b1) * g);
            v[i] = Kernels.Simd.FlushSubnormal(b2 * v[i] + (1 - b2) * g * g);
            param[i] -= lrT * m[i] / (MathF.Sqrt(v[i]) + eps);
        }
    }

    /// <summary>The update a vector at a time, for as many whole vectors as fit; returns where the scalar tail starts.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static int Update<TV>(Span<float> param, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float lrT, float b1, float b2, float eps)
        where TV : struct, IFloatVector<TV>
    {
        int n = param.Length, i = 0;
        if (grad.Length < n || m.Length < n || v.Length < n)
            throw new ArgumentException($"Expected {n} gradients and moments; received {grad.Length}, {m.Length} and {v.Length}.");
        ref float p = ref MemoryMarshal.GetReference(param);
        ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        var e = TV.Splat(eps);
        for (; i <= n - TV.Count; i += TV.Count)
        {
            // The new moments stay in registers: read back from memory, they waited on their own stores. Same bits.
            var g = TV.Load(ref gr, (nuint)i);
            var m1 = TV.FlushSubnormal(b1 * TV.Load(ref mr, (nuint)i) + (1 - b1) * g);
            var m2 = TV.FlushSubnormal(b2 * TV.Load(ref vr, (nuint)i) + (1 - b2) * g * g);
            TV.Store(m1, ref mr, (nuint)i);
            TV.Store(m2, ref vr, (nuint)i);
            TV.Store(TV.Load(ref p, (nuint)i) - lrT * m1 / (TV.Sqrt(m2) + e), ref p, (nuint)i);
        }
        return i;
    }
}
