using System.Numerics.Tensors;

namespace Latent.Activations;

/// <summary>
/// Softmax over the last axis: <c>y_i = e^{z_i} / Σ_j e^{z_j}</c> per row (max-subtracted for stability);
/// backward <c>dz_i = y_i · (dy_i − Σ_j dy_j y_j)</c>.
/// </summary>
public sealed class Softmax : ActivationFunction
{
    /// <summary>The shared instance.</summary>
    public static readonly Softmax Instance = new();

    /// <inheritdoc />
    public override string Name => "softmax";

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features)
    {
        for (int r = 0; r < z.Length / features; r++)
            TensorPrimitives.SoftMax(z.Slice(r * features, features), y.Slice(r * features, features));
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features)
    {
        for (int r = 0; r < y.Length / features; r++)
        {
            var yr = y.Slice(r * features, features);
            var dyr = dy.Slice(r * features, features);
            var dzr = dz.Slice(r * features, features);
            float dot = TensorPrimitives.Dot(dyr, yr);
            TensorPrimitives.AddMultiply(dyr, -dot, yr, dzr); // (dy - dot) * y
        }
    }
}
