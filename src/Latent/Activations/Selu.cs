namespace Latent.Activations;

/// <summary>
/// Scaled ELU (Klambauer et al., "Self-Normalizing Neural Networks", 2017):
/// <c>y = λz</c> for z &gt; 0, else <c>λα(e^z − 1)</c>, with λ = 1.0507009873554805, α = 1.6732632423543772.
/// </summary>
public sealed class Selu : Elu
{
    /// <summary>The shared instance.</summary>
    public static readonly Selu Instance = new();

    private Selu() : base(1.6732632423543772f, 1.0507009873554805f) { }

    /// <inheritdoc />
    public override string Name => "selu";
}
