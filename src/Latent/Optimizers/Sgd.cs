using System.Numerics;
using System.Runtime.InteropServices;

namespace Latent.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional momentum (Keras 2 defaults: η = 0.01, μ = 0).
/// Without momentum <c>θ ← θ − η·g</c>; with it <c>v ← μ·v − η·g</c>, then <c>θ ← θ + v</c>, or with
/// Nesterov <c>θ ← θ + μ·v − η·g</c> (Sutskever et al., "On the importance of initialization and momentum in
/// deep learning", 2013).
/// </summary>
public sealed class Sgd(double learningRate = 0.01, double momentum = 0, bool nesterov = false) : Optimizer(learningRate)
{
    /// <summary>μ.</summary>
    public double Momentum { get; } = InRange(momentum, 0, 1, nameof(momentum));

    /// <summary>Whether the Nesterov form is used.</summary>
    public bool Nesterov { get; } = nesterov;

    /// <inheritdoc />
    public override string Name => "sgd";

    /// <inheritdoc />
    protected override int StateSlots => Momentum > 0 ? 1 : 0;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected override void UpdateStep(Span<float> param, ReadOnlySpan<float> grad, int offset, float learningRate)
    {
        if (Momentum == 0)
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(grad, -learningRate, param, param);
            return;
        }
        var v = State(0, offset, param.Length);
        float mu = (float)Momentum;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(param);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(grad);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            for (int k = 0; k < p.Length; k++)
            {
                // The new velocity stays in a register: read back from the span, it waited on its own store. Same bits.
                var vel = Kernels.Simd.FlushSubnormal(mu * vv[k] - learningRate * gv[k]);
                vv[k] = vel;
                p[k] += Nesterov ? mu * vel - learningRate * gv[k] : vel;
            }
            i = p.Length * Vector<float>.Count;
        }
        for (; i < param.Length; i++)
        {
            v[i] = Kernels.Simd.FlushSubnormal(mu * v[i] - learningRate * grad[i]);
            param[i] += Nesterov ? mu * v[i] - learningRate * grad[i] : v[i];
        }
    }
}
