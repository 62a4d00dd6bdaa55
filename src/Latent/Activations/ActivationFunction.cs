namespace Latent.Activations;

/// <summary>
/// An element-wise (or, for softmax, row-wise) activation <c>y = f(z)</c> with its backward pass. Every
/// derivative here is computed from the output y, not z, so a layer needs to keep only its output.
/// </summary>
public abstract class ActivationFunction
{
    /// <summary>The Keras name: "relu", "sigmoid", ...</summary>
    public abstract string Name { get; }

    /// <summary><c>y = f(z)</c>; <paramref name="z"/> and <paramref name="y"/> may be the same span.</summary>
    /// <param name="features">Size of the last axis (the span holds rows of this many values).</param>
    public abstract void Forward(ReadOnlySpan<float> z, Span<float> y, int features);

    /// <summary><c>dz = dy ⊙ f'(z)</c>, using <c>y = f(z)</c>; <paramref name="dy"/> and <paramref name="dz"/> may be the same span.</summary>
    public abstract void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int features);

    /// <summary>True for the identity, which layers skip.</summary>
    public virtual bool IsLinear => false;

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>The names <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "softplus", "selu"];

    /// <summary>The activation called <paramref name="name"/> (case-insensitive); null or empty means linear.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static ActivationFunction Get(string? name) => (name ?? "linear").ToLowerInvariant() switch
    {
        "" or "linear" or "none" => Linear.Instance,
        "relu" => Relu.Instance,
        "sigmoid" => Sigmoid.Instance,
        "tanh" => Tanh.Instance,
        "softmax" => Softmax.Instance,
        "leaky_relu" => new LeakyRelu(),
        "elu" => new Elu(),
        "softplus" => Softplus.Instance,
        "selu" => Selu.Instance,
        _ => throw new ArgumentException(
            $"Unknown activation '{name}'. Expected one of: {string.Join(", ", Names)}.", nameof(name)),
    };
}
