using Latent.Activations;

namespace Latent.Losses;

/// <summary>How a loss's per-element values are reduced to one number for a batch.</summary>
public enum LossReduction
{
    /// <summary>The mean over every element of every sample: Keras's default (mean over the last axis, then over the batch).</summary>
    Mean,
    /// <summary>
    /// The sum over each sample's elements, then the mean over the batch: <c>(1/B)·Σ_b Σ_j ℓ(p_bj, t_bj)</c>, the
    /// reconstruction term of a VAE's evidence lower bound (a log-likelihood summed over pixels).
    /// </summary>
    SumOverFeatures,
}

/// <summary>
/// A loss between predictions and targets: a per-element function ℓ(p, t) reduced by <see cref="Reduction"/>.
/// Subclasses give <see cref="Sum"/> (Σ ℓ and its scaled gradient); the reduction and the split of a batch over
/// the cores are the caller's. A loss that has a fused form for an output activation (binary cross-entropy from a
/// sigmoid's logits) says so in <see cref="FusesWith"/>; the executor then hands it the pre-activation.
/// </summary>
public abstract class Loss
{
    /// <summary>Sets the reduction.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a <see cref="LossReduction"/> value.</exception>
    protected Loss(LossReduction reduction)
    {
        if (!Enum.IsDefined(reduction))
            throw new ArgumentOutOfRangeException(nameof(reduction), reduction, $"Unknown loss reduction. Received: reduction={(int)reduction}.");
        Reduction = reduction;
    }

    /// <summary>The Keras name.</summary>
    public abstract string Name { get; }

    /// <summary>How a batch's element losses become one number.</summary>
    public LossReduction Reduction { get; }

    /// <summary>
    /// Σᵢ ℓ(yPredᵢ, yTrueᵢ), accumulated in double; writes <c>gradScale · ∂ℓ/∂yPredᵢ</c> into <paramref name="grad"/>
    /// unless it is empty. Element-wise, so a caller may cut a batch into parts and add the sums.
    /// </summary>
    protected internal abstract double Sum(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad, float gradScale);

    /// <summary>
    /// The loss of <paramref name="samples"/> samples laid end to end in the spans, reduced by <see cref="Reduction"/>,
    /// with its gradient with respect to <paramref name="yPred"/> in <paramref name="grad"/> unless it is empty.
    /// </summary>
    /// <exception cref="ArgumentException">Spans of different lengths, or a length that is not a multiple of <paramref name="samples"/>.</exception>
    public double Compute(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad, int samples = 1)
    {
        CheckLengths(yPred.Length, yTrue.Length, grad.Length);
        if (yPred.Length == 0) return 0;
        double denominator = Denominator(samples, yPred.Length / Math.Max(1, samples), yPred.Length);
        return Sum(yPred, yTrue, grad, (float)(1 / denominator)) / denominator;
    }

    /// <summary>Whether this loss can be computed from the pre-activation of an output with <paramref name="activation"/> (<see cref="SumFromLogits"/>).</summary>
    public virtual bool FusesWith(ActivationFunction activation) => false;

    /// <summary>The same loss for <c>yPred = f(z)</c>, from z, with ∂loss/∂z in <paramref name="gradLogits"/>; reduced like <see cref="Compute"/>.</summary>
    public double ComputeFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, int samples = 1)
    {
        CheckLengths(logits.Length, yTrue.Length, gradLogits.Length);
        if (logits.Length == 0) return 0;
        double denominator = Denominator(samples, logits.Length / Math.Max(1, samples), logits.Length);
        return SumFromLogits(logits, yTrue, gradLogits, (float)(1 / denominator)) / denominator;
    }

    /// <summary>
    /// The fused form: Σ of the per-element losses for <c>yPred = f(z)</c> (f the activation <see cref="FusesWith"/>
    /// accepted), with <c>gradScale · ∂ℓ/∂z</c> in <paramref name="gradLogits"/> (unless empty).
    /// </summary>
    protected internal virtual double SumFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> yTrue, Span<float> gradLogits, float gradScale) =>
        throw new NotSupportedException($"{Name} has no fused form.");

    /// <summary>
    /// The loss over the kept steps of sequences (<paramref name="mask"/>: one value per step, 0 to skip it), the mean
    /// over them as Keras 3 takes it: the element sum of the kept steps divided by the kept share of
    /// <paramref name="denominator"/>, which the loss gives for all steps. Writes <c>weight · ∂/∂yPred</c> into
    /// <paramref name="grad"/> unless it is empty (zero at masked steps); no kept step gives 0.
    /// </summary>
    /// <param name="keptTotal">Kept steps of the whole batch, when <paramref name="mask"/> is a share of it (−1: counted here).</param>
    /// <param name="stepsTotal">All steps of the whole batch, with <paramref name="keptTotal"/> (the kept share is <c>keptTotal / stepsTotal</c>).</param>
    internal double MaskedMean(ReadOnlySpan<float> yPred, ReadOnlySpan<float> yTrue, Span<float> grad, ReadOnlySpan<float> mask,
                               double denominator, double weight = 1, bool fromLogits = false, long keptTotal = -1, long stepsTotal = -1)
    {
        int per = yPred.Length / mask.Length;
        if (keptTotal < 0) (keptTotal, stepsTotal) = (CountKept(mask), mask.Length);
        grad.Clear();
        if (keptTotal == 0) return 0;
        double scaled = denominator * keptTotal / stepsTotal, sum = 0;
        float gradScale = (float)(weight / scaled);
        for (int r = 0; r < mask.Length; r++)
        {
            if (mask[r] == 0) continue;
            var p = yPred.Slice(r * per, per);
            var t = yTrue.Slice(r * per, per);
            var g = grad.IsEmpty ? grad : grad.Slice(r * per, per);
            sum += fromLogits ? SumFromLogits(p, t, g, gradScale) : Sum(p, t, g, gradScale);
        }
        return sum / scaled;
    }

    /// <summary>Steps a mask keeps (its nonzero values).</summary>
    internal static long CountKept(ReadOnlySpan<float> mask)
    {
        long kept = 0;
        foreach (float m in mask) if (m != 0) kept++;
        return kept;
    }

    /// <summary>What the element sum is divided by for <paramref name="samples"/> samples of <paramref name="sampleSize"/> elements.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal double Denominator(int samples, int sampleSize, long elements = -1)
    {
        if (samples <= 0) throw new ArgumentOutOfRangeException(nameof(samples), samples, $"Expected a positive sample count. Received: samples={samples}.");
        long total = elements >= 0 ? elements : (long)samples * sampleSize;
        if (Reduction == LossReduction.SumOverFeatures && total % samples != 0)
            throw new ArgumentException($"{total} elements do not split into {samples} samples of equal size.", nameof(samples));
        return Reduction == LossReduction.Mean ? total : samples;
    }

    /// <summary>The loss called <paramref name="name"/> with the mean reduction.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Loss Get(string name) => (name ?? "").ToLowerInvariant() switch
    {
        "binary_crossentropy" or "bce" => new BinaryCrossentropy(),
        "mean_squared_error" or "mse" => new MeanSquaredError(),
        "mean_absolute_error" or "mae" => new MeanAbsoluteError(),
        _ => throw new ArgumentException(
            $"Unknown loss '{name}'. Expected one of: binary_crossentropy, mean_squared_error, mean_absolute_error.", nameof(name)),
    };

    /// <summary>Uses <see cref="Get"/>, so a name can be passed where a loss is expected.</summary>
    public static implicit operator Loss(string name) => Get(name);

    /// <summary>Throws unless the two spans have the same length.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected static void CheckLengths(int pred, int target, int grad)
    {
        if (pred != target)
            throw new ArgumentException($"Predictions have {pred} elements but targets have {target}.");
        if (grad != 0 && grad != pred)
            throw new ArgumentException($"The gradient buffer has {grad} elements, predictions {pred}.");
    }

    /// <inheritdoc />
    public override string ToString() => Reduction == LossReduction.Mean ? Name : $"{Name}(reduction={Reduction})";
}
