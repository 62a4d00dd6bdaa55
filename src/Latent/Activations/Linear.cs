namespace Latent.Activations;

/// <summary>Identity: <c>y = z</c>, <c>dz = dy</c>.</summary>
public sealed class Linear : ActivationFunction
{
    /// <summary>The shared instance.</summary>
    public static readonly Linear Instance = new();

    /// <inheritdoc />
    public override string Name => "linear";
    /// <inheritdoc />
    public override bool IsLinear => true;

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Forward(ReadOnlySpan<float> z, Span<float> y, int features) => z.CopyTo(y);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public override void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features) => dy.CopyTo(dz);
}
