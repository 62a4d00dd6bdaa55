using System.Numerics;
using System.Runtime.InteropServices;

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
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(param);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(grad);
            var av = MemoryMarshal.Cast<float, Vector<float>>(a);
            var lr = new Vector<float>(learningRate);
            var e = new Vector<float>(eps);
            for (int k = 0; k < p.Length; k++)
            {
                // The new sum stays in a register: read back from the span, it waited on its own store. Same bits.
                var g = gv[k];
                if (skip && g.As<float, int>() == Vector<int>.Zero) continue;   // the division and the root skipped
                var acc = av[k] + g * g;
                av[k] = acc;
                p[k] -= lr * g / (Vector.SquareRoot(acc) + e);
            }
            i = p.Length * Vector<float>.Count;
        }
        for (; i < param.Length; i++)
        {
            float g = grad[i];
            a[i] += g * g;
            param[i] -= learningRate * g / (MathF.Sqrt(a[i]) + eps);
        }
    }
}
