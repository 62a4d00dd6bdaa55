using System.Numerics;
using System.Runtime.InteropServices;

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
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(param);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(grad);
            var av = MemoryMarshal.Cast<float, Vector<float>>(a);
            var dv = MemoryMarshal.Cast<float, Vector<float>>(d);
            var e = new Vector<float>(eps);
            for (int k = 0; k < p.Length; k++)
            {
                // The new accumulator stays in a register: read back from the span, it waited on its own store. Same bits.
                var g = gv[k];
                var acc = Kernels.Simd.FlushSubnormal(rho * av[k] + one * g * g);
                av[k] = acc;
                var delta = g * Vector.SquareRoot(dv[k] + e) / Vector.SquareRoot(acc + e);
                p[k] -= learningRate * delta;
                dv[k] = Kernels.Simd.FlushSubnormal(rho * dv[k] + one * delta * delta);
            }
            i = p.Length * Vector<float>.Count;
        }
        for (; i < param.Length; i++)
        {
            float g = grad[i];
            a[i] = Kernels.Simd.FlushSubnormal(rho * a[i] + one * g * g);
            float delta = g * MathF.Sqrt(d[i] + eps) / MathF.Sqrt(a[i] + eps);
            param[i] -= learningRate * delta;
            d[i] = Kernels.Simd.FlushSubnormal(rho * d[i] + one * delta * delta);
        }
    }
}
