namespace Latent.Initializers;

/// <summary>Fills a new weight tensor. Each weight gets its own seeded stream, so a model built after <c>Randomness.SetSeed</c> is reproducible.</summary>
public abstract class Initializer
{
    /// <summary>The Keras name, e.g. "glorot_uniform".</summary>
    public abstract string Name { get; }

    /// <summary>Fills <paramref name="values"/>, a tensor of <paramref name="shape"/>.</summary>
    internal abstract void Fill(Span<float> values, int[] shape, ref Rng rng);

    /// <summary>Keras's fans: a 2-D kernel (in, out) has fan_in = in, fan_out = out; a conv kernel (…, in, out) multiplies both by the receptive field.</summary>
    internal static (double FanIn, double FanOut) Fans(int[] shape)
    {
        if (shape.Length == 0) return (1, 1);
        if (shape.Length == 1) return (shape[0], shape[0]);
        double receptive = 1;
        for (int i = 0; i < shape.Length - 2; i++) receptive *= shape[i];
        return (shape[^2] * receptive, shape[^1] * receptive);
    }

    /// <summary>The initializer called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Initializer Get(string name) => name.ToLowerInvariant() switch
    {
        "glorot_uniform" => new GlorotUniform(),
        "he_uniform" => new HeUniform(),
        "zeros" => new Constant(0),
        "ones" => new Constant(1),
        _ => throw new ArgumentException(
            $"Unknown initializer '{name}'. Expected one of: glorot_uniform, he_uniform, zeros, ones.", nameof(name)),
    };

    /// <summary>Uses <see cref="Get"/>, so a name can be passed where an initializer is expected.</summary>
    public static implicit operator Initializer(string name) => Get(name);
}

/// <summary>Glorot/Xavier uniform (Glorot &amp; Bengio, 2010): U(−l, l) with <c>l = √(6 / (fan_in + fan_out))</c>. Keras's default for kernels.</summary>
public sealed class GlorotUniform : Initializer
{
    /// <inheritdoc />
    public override string Name => "glorot_uniform";

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng)
    {
        var (fanIn, fanOut) = Fans(shape);
        Uniform(values, Math.Sqrt(6.0 / (fanIn + fanOut)), ref rng);
    }

    internal static void Uniform(Span<float> values, double limit, ref Rng rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * limit);
    }
}

/// <summary>He uniform (He et al., 2015): U(−l, l) with <c>l = √(6 / fan_in)</c>, suited to ReLU layers.</summary>
public sealed class HeUniform : Initializer
{
    /// <inheritdoc />
    public override string Name => "he_uniform";

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng) =>
        GlorotUniform.Uniform(values, Math.Sqrt(6.0 / Fans(shape).FanIn), ref rng);
}

/// <summary>Every element set to one value ("zeros", "ones"). Keras's default for biases is zeros.</summary>
public sealed class Constant(float value) : Initializer
{
    /// <summary>The value written.</summary>
    public float Value { get; } = value;

    /// <inheritdoc />
    public override string Name => Value == 0 ? "zeros" : Value == 1 ? "ones" : "constant";

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng) => values.Fill(Value);
}
