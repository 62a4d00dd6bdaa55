using System.Numerics;
using System.Runtime.InteropServices;
using Latent.Kernels;

namespace Latent.Optimizers;

/// <summary>
/// Adagrad (Duchi, Hazan &amp; Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
/// Optimization", JMLR 2011), Keras 2 form: <c>a ← a + g²</c>, <c>θ ← θ − η·g / (√a + ε)</c>, with η = 0.01,
/// ε = 1e-7 and accumulators starting at 0 (tf.keras starts them at 0.1).
/// </summary>
public sealed class Adagrad(double learningRate = 0.01, double epsilon = 1e-7, double initialAccumulator = 0) : Optimizer(learningRate)
{
    /// <summary>ε.</summary>
    public double Epsilon { get; } = InRange(epsilon, 0, 1, nameof(epsilon));

    /// <summary>The value every accumulator starts at.</summary>
    public double InitialAccumulator { get; } = InRange(initialAccumulator, 0, double.MaxValue, nameof(initialAccumulator));

    /// <inheritdoc />
    public override string Name => "adagrad";

    /// <summary>Whether vectors of gradients that are all +0 are skipped (a knob; the update leaves them as they are).</summary>
    internal static bool SkipZeroGradients = true;

    /// <inheritdoc />
    protected override int StateSlots => 1;

    /// <inheritdoc />
    protected override float InitialState(int slot) => (float)InitialAccumulator;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected override void UpdateStep(Span<float> param, ReadOnlySpan<float> grad, int offset, float learningRate)
    {
        var a = State(0, offset, param.Length);
        float eps = (float)Epsilon;
        // g = +0 leaves a and θ as they are (θ − η·0/(√a + ε) = θ, also for θ = −0) once ε > 0; with ε = 0 and a still
        // 0 the formula gives 0/0 = NaN, which the skip would miss. −0 is not skipped: θ = −0 minus −0 is +0.
        // At batch 32 about two fifths of MNIST's pixels are unlit in the whole batch: as many of the first kernel's rows have g = +0.
        bool skip = SkipZeroGradients && eps > 0;
        int i = Wide ? Update<Floats512>(param, grad, a, learningRate, eps, skip)
              : Vector.IsHardwareAccelerated ? Update<FloatsN>(param, grad, a, learningRate, eps, skip) : 0;
        for (; i < param.Length; i++)
        {
            float g = grad[i];
            a[i] += g * g;
            param[i] -= learningRate * g / (MathF.Sqrt(a[i]) + eps);
        }
    }

    /// <summary>The update a vector at a time, for as many whole vectors as fit; returns where the scalar tail starts.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static int Update<TV>(Span<float> param, ReadOnlySpan<float> grad, Span<float> a, float learningRate, float eps, bool skip)
        where TV : struct, IFloatVector<TV>
    {
        int n = param.Length, i = 0;
        if (grad.Length < n || a.Length < n) throw new ArgumentException($"Expected {n} gradients and accumulators; received {grad.Length} and {a.Length}.");
        ref float p = ref MemoryMarshal.GetReference(param);
        ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float ar = ref MemoryMarshal.GetReference(a);
        var lr = TV.Splat(learningRate);
        var e = TV.Splat(eps);
        for (; i <= n - TV.Count; i += TV.Count)
        {
            // The new sum stays in a register: read back from memory, it waited on its own store. Same bits.
            var g = TV.Load(ref gr, (nuint)i);
            if (skip && TV.IsPositiveZero(g)) continue;   // the division and the root skipped
            var acc = TV.Load(ref ar, (nuint)i) + g * g;
            TV.Store(acc, ref ar, (nuint)i);
            TV.Store(TV.Load(ref p, (nuint)i) - lr * g / (TV.Sqrt(acc) + e), ref p, (nuint)i);
        }
        return i;
    }
}
