using System.Numerics;
using System.Runtime.InteropServices;
using Latent.Kernels;

namespace Latent.Optimizers;

/// <summary>
/// Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012), Keras 2 form with η = 1.0,
/// ρ = 0.95, ε = 1e-7: <c>a ← ρa + (1 − ρ)g²</c>, <c>Δ = g·√(d + ε)/√(a + ε)</c>, <c>θ ← θ − η·Δ</c>,
/// <c>d ← ρd + (1 − ρ)Δ²</c>.
/// </summary>
public sealed class Adadelta(double learningRate = 1.0, double rho = 0.95, double epsilon = 1e-7) : Optimizer(learningRate)
{
    /// <summary>ρ, the decay of both running averages.</summary>
    public double Rho { get; } = InRange(rho, 0, 1, nameof(rho), hiOpen: true);

    /// <summary>ε.</summary>
    public double Epsilon { get; } = InRange(epsilon, 0, 1, nameof(epsilon));

    /// <inheritdoc />
    public override string Name => "adadelta";

    /// <inheritdoc />
    protected override int StateSlots => 2;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected override void UpdateStep(Span<float> param, ReadOnlySpan<float> grad, int offset, float learningRate)
    {
        var a = State(0, offset, param.Length);
        var d = State(1, offset, param.Length);
        float rho = (float)Rho, eps = (float)Epsilon, one = 1f - rho;
        int i = Wide ? Update<Floats512>(param, grad, a, d, learningRate, rho, eps)
              : Vector.IsHardwareAccelerated ? Update<FloatsN>(param, grad, a, d, learningRate, rho, eps) : 0;
        for (; i < param.Length; i++)
        {
            float g = grad[i];
            a[i] = Kernels.Simd.FlushSubnormal(rho * a[i] + one * g * g);
            float delta = g * MathF.Sqrt(d[i] + eps) / MathF.Sqrt(a[i] + eps);
            param[i] -= learningRate * delta;
            d[i] = Kernels.Simd.FlushSubnormal(rho * d[i] + one * delta * delta);
        }
    }

    /// <summary>The update a vector at a time, for as many whole vectors as fit; returns where the scalar tail starts.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static int Update<TV>(Span<float> param, ReadOnlySpan<float> grad, Span<float> a, Span<float> d, float learningRate, float rho, float eps)
        where TV : struct, IFloatVector<TV>
    {
        int n = param.Length, i = 0;
        if (grad.Length < n || a.Length < n || d.Length < n)
            throw new ArgumentException($"Expected {n} gradients and state values; received {grad.Length}, {a.Length} and {d.Length}.");
        ref float p = ref MemoryMarshal.GetReference(param);
        ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float dr = ref MemoryMarshal.GetReference(d);
        var e = TV.Splat(eps);
        float one = 1f - rho;
        for (; i <= n - TV.Count; i += TV.Count)
        {
            // The new accumulator stays in a register: read back from memory, it waited on its own store. Same bits.
            var g = TV.Load(ref gr, (nuint)i);
            var acc = TV.FlushSubnormal(rho * TV.Load(ref ar, (nuint)i) + one * g * g);
            TV.Store(acc, ref ar, (nuint)i);
            var dOld = TV.Load(ref dr, (nuint)i);
            var delta = g * TV.Sqrt(dOld + e) / TV.Sqrt(acc + e);
            TV.Store(TV.Load(ref p, (nuint)i) - learningRate * delta, ref p, (nuint)i);
            TV.Store(TV.FlushSubnormal(rho * dOld + one * delta * delta), ref dr, (nuint)i);
        }
        return i;
    }
}
