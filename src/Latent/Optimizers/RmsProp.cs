using System.Numerics;
using System.Runtime.InteropServices;

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
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(param);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(grad);
            var av = MemoryMarshal.Cast<float, Vector<float>>(a);
            for (int k = 0; k < p.Length; k++)
            {
                // The new average stays in a register: read back from the span, it waited on its own store. Same bits.
                var g = gv[k];
                var acc = Kernels.Simd.FlushSubnormal(rho * av[k] + one * g * g);
                av[k] = acc;
                p[k] -= learningRate * g / (Vector.SquareRoot(acc) + new Vector<float>(eps));
            }
            i = p.Length * Vector<float>.Count;
        }
        for (; i < param.Length; i++)
        {
            float g = grad[i];
            a[i] = Kernels.Simd.FlushSubnormal(rho * a[i] + one * g * g);
            param[i] -= learningRate * g / (MathF.Sqrt(a[i]) + eps);
        }
    }
}
