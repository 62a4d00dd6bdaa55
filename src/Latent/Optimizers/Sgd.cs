using System.Numerics;
using System.Runtime.InteropServices;
using Latent.Kernels;

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
        int i = Wide ? Update<Floats512>(param, grad, v, learningRate, mu, Nesterov)
              : Vector.IsHardwareAccelerated ? Update<FloatsN>(param, grad, v, learningRate, mu, Nesterov) : 0;
        for (; i < param.Length; i++)
        {
            v[i] = Kernels.Simd.FlushSubnormal(mu * v[i] - learningRate * grad[i]);
            param[i] += Nesterov ? mu * v[i] - learningRate * grad[i] : v[i];
        }
    }

    /// <summary>The update a vector at a time, for as many whole vectors as fit; returns where the scalar tail starts.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static int Update<TV>(Span<float> param, ReadOnlySpan<float> grad, Span<float> v, float learningRate, float mu, bool nesterov)
        where TV : struct, IFloatVector<TV>
    {
        int n = param.Length, i = 0;
        if (grad.Length < n || v.Length < n) throw new ArgumentException($"Expected {n} gradients and velocities; received {grad.Length} and {v.Length}.");
        ref float p = ref MemoryMarshal.GetReference(param);
        ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float vr = ref MemoryMarshal.GetReference(v);
        for (; i <= n - TV.Count; i += TV.Count)
        {
            // The new velocity stays in a register: read back from memory, it waited on its own store. Same bits.
            var g = TV.Load(ref gr, (nuint)i);
            var vel = TV.FlushSubnormal(mu * TV.Load(ref vr, (nuint)i) - learningRate * g);
            TV.Store(vel, ref vr, (nuint)i);
            TV.Store(TV.Load(ref p, (nuint)i) + (nesterov ? mu * vel - learningRate * g : vel), ref p, (nuint)i);
        }
        return i;
    }
}
