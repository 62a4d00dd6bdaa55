using System.Text.Json.Nodes;

namespace Latent.Initializers;

/// <summary>
/// Fills a new weight tensor. Each weight gets its own seeded stream, so a model built after
/// <c>Randomness.SetSeed</c> is reproducible. Names and defaults are Keras's: "glorot_uniform" (the kernel
/// default), "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal",
/// "random_normal", "random_uniform", "zeros", "ones", "constant".
/// </summary>
public abstract class Initializer
{
    /// <summary>The Keras name, e.g. "glorot_uniform".</summary>
    public abstract string Name { get; }

    /// <summary>Fills <paramref name="values"/>, a tensor of <paramref name="shape"/>.</summary>
    internal abstract void Fill(Span<float> values, int[] shape, ref Rng rng);

    /// <summary>The parameters that differ from the Keras defaults of <see cref="Name"/> (empty for most).</summary>
    internal virtual JsonObject? Parameters() => null;

    /// <summary>Keras's fans: a 2-D kernel (in, out) has fan_in = in, fan_out = out; a conv kernel (…, in, out) multiplies both by the receptive field.</summary>
    internal static (double FanIn, double FanOut) Fans(int[] shape)
    {
        if (shape.Length == 0) return (1, 1);
        if (shape.Length == 1) return (shape[0], shape[0]);
        double receptive = 1;
        for (int i = 0; i < shape.Length - 2; i++) receptive *= shape[i];
        return (shape[^2] * receptive, shape[^1] * receptive);
    }

    /// <summary>The names <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
        "orthogonal", "random_normal", "random_uniform", "zeros", "ones", "constant",
    ];

    /// <summary>The initializer called <paramref name="name"/>, with Keras's default parameters ("constant" is 0).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Initializer Get(string name) => (name ?? "").ToLowerInvariant() switch
    {
        "glorot_uniform" => new GlorotUniform(),
        "glorot_normal" => new GlorotNormal(),
        "he_uniform" => new HeUniform(),
        "he_normal" => new HeNormal(),
        "lecun_uniform" => new LecunUniform(),
        "lecun_normal" => new LecunNormal(),
        "orthogonal" => new Orthogonal(),
        "random_normal" => new RandomNormal(),
        "random_uniform" => new RandomUniform(),
        "zeros" => new Constant(0),
        "ones" => new Constant(1),
        "constant" => new Constant(0),
        _ => throw new ArgumentException($"Unknown initializer '{name}'. Expected one of: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>Uses <see cref="Get"/>, so a name can be passed where an initializer is expected.</summary>
    public static implicit operator Initializer(string name) => Get(name);

    /// <summary>The name alone when every parameter is Keras's default, else <c>{"class_name": …, "config": {…}}</c>.</summary>
    internal JsonNode ToConfig() => Parameters() is { } p ? new JsonObject { ["class_name"] = Name, ["config"] = p } : JsonValue.Create(Name);

    /// <summary>Reads what <see cref="ToConfig"/> wrote.</summary>
    /// <exception cref="FormatException">An unknown name or a bad parameter.</exception>
    internal static Initializer FromConfig(JsonNode node, string key)
    {
        try
        {
            if (node is JsonValue v && v.TryGetValue<string>(out var name)) return Get(name);
            if (node is not JsonObject o || o["class_name"] is not JsonValue cv || !cv.TryGetValue<string>(out var cls))
                throw new FormatException("expected a name or {\"class_name\", \"config\"}");
            var c = o["config"] as JsonObject ?? [];
            double Num(string k, double fallback) => c[k] is null ? fallback
                : c[k] is JsonValue nv && nv.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : throw new FormatException($"'{k}' must be a finite number");
            return cls switch
            {
                "constant" or "zeros" or "ones" => new Constant((float)Num("value", cls == "ones" ? 1 : 0)),
                "random_normal" => new RandomNormal(Num("mean", 0), Num("stddev", 0.05)),
                "random_uniform" => new RandomUniform(Num("minval", -0.05), Num("maxval", 0.05)),
                "orthogonal" => new Orthogonal(Num("gain", 1)),
                _ => Get(cls),
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new FormatException($"initializer '{key}': {e.Message}");
        }
    }

    /// <summary>U(−limit, limit), 53-bit draws.</summary>
    internal static void Uniform(Span<float> values, double limit, ref Rng rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * limit);
    }

    /// <summary>N(0, std²) truncated to ±2 std by redrawing, as Keras's truncated_normal.</summary>
    internal static void TruncatedNormal(Span<float> values, double std, ref Rng rng)
    {
        for (int i = 0; i < values.Length; i++)
        {
            double g;
            do g = rng.NextGaussian(); while (Math.Abs(g) > 2);
            values[i] = (float)(g * std);
        }
    }

    /// <inheritdoc />
    public override string ToString() => ToConfig().ToJsonString();
}

/// <summary>
/// Keras's variance scaling family, for a weight of fans (fan_in, fan_out): the variance is
/// <c>scale / n</c> with n = fan_in, or the mean of the fans for the Glorot forms. Uniform forms draw
/// U(−l, l) with <c>l = √(3·scale/n)</c>; normal forms draw a normal truncated at ±2σ with
/// <c>σ = √(scale/n) / 0.8796</c> (the factor restores the variance the truncation removes).
/// </summary>
public abstract class VarianceScaling : Initializer
{
    private const double TruncationStdCorrection = 0.87962566103423978; // std of N(0,1) truncated to [-2, 2]
    private readonly double _scale;
    private readonly bool _fanAvg, _normal;

    private protected VarianceScaling(double scale, bool fanAvg, bool normal) => (_scale, _fanAvg, _normal) = (scale, fanAvg, normal);

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng)
    {
        var (fanIn, fanOut) = Fans(shape);
        double n = _fanAvg ? (fanIn + fanOut) / 2 : fanIn;
        if (_normal) TruncatedNormal(values, Math.Sqrt(_scale / n) / TruncationStdCorrection, ref rng);
        else Uniform(values, Math.Sqrt(3 * _scale / n), ref rng);
    }
}

/// <summary>Glorot/Xavier uniform (Glorot &amp; Bengio, 2010): U(−l, l) with <c>l = √(6 / (fan_in + fan_out))</c>. Keras's default for kernels.</summary>
public sealed class GlorotUniform() : VarianceScaling(1, fanAvg: true, normal: false)
{
    /// <inheritdoc />
    public override string Name => "glorot_uniform";
}

/// <summary>Glorot/Xavier normal: truncated normal with <c>σ = √(2 / (fan_in + fan_out))</c> (before the truncation correction).</summary>
public sealed class GlorotNormal() : VarianceScaling(1, fanAvg: true, normal: true)
{
    /// <inheritdoc />
    public override string Name => "glorot_normal";
}

/// <summary>He uniform (He et al., 2015): U(−l, l) with <c>l = √(6 / fan_in)</c>, suited to ReLU layers.</summary>
public sealed class HeUniform() : VarianceScaling(2, fanAvg: false, normal: false)
{
    /// <inheritdoc />
    public override string Name => "he_uniform";
}

/// <summary>He normal (He et al., 2015): truncated normal with <c>σ = √(2 / fan_in)</c>.</summary>
public sealed class HeNormal() : VarianceScaling(2, fanAvg: false, normal: true)
{
    /// <inheritdoc />
    public override string Name => "he_normal";
}

/// <summary>LeCun uniform (LeCun et al., 1998): U(−l, l) with <c>l = √(3 / fan_in)</c>.</summary>
public sealed class LecunUniform() : VarianceScaling(1, fanAvg: false, normal: false)
{
    /// <inheritdoc />
    public override string Name => "lecun_uniform";
}

/// <summary>LeCun normal: truncated normal with <c>σ = √(1 / fan_in)</c>; the initializer SELU networks expect.</summary>
public sealed class LecunNormal() : VarianceScaling(1, fanAvg: false, normal: true)
{
    /// <inheritdoc />
    public override string Name => "lecun_normal";
}

/// <summary>Every element set to one value ("zeros", "ones", "constant"). Keras's default for biases is zeros.</summary>
public sealed class Constant(float value) : Initializer
{
    /// <summary>The value written.</summary>
    public float Value { get; } = float.IsFinite(value) ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"Expected a finite value. Received: value={value}.");

    /// <inheritdoc />
    public override string Name => Value == 0 ? "zeros" : Value == 1 ? "ones" : "constant";

    internal override JsonObject? Parameters() => Name == "constant" ? new JsonObject { ["value"] = Value } : null;

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng) => values.Fill(Value);
}

/// <summary>N(mean, stddev²), Keras's RandomNormal (defaults 0 and 0.05).</summary>
public sealed class RandomNormal : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-finite mean, or a standard deviation that is not finite and ≥ 0.</exception>
    public RandomNormal(double mean = 0, double stddev = 0.05)
    {
        if (!double.IsFinite(mean)) throw new ArgumentOutOfRangeException(nameof(mean), mean, $"Expected a finite mean. Received: mean={mean}.");
        if (!(stddev >= 0 && double.IsFinite(stddev))) throw new ArgumentOutOfRangeException(nameof(stddev), stddev, $"Expected stddev ≥ 0. Received: stddev={stddev}.");
        (Mean, StdDev) = (mean, stddev);
    }

    /// <summary>The mean.</summary>
    public double Mean { get; }

    /// <summary>The standard deviation.</summary>
    public double StdDev { get; }

    /// <inheritdoc />
    public override string Name => "random_normal";

    internal override JsonObject? Parameters() => Mean == 0 && StdDev == 0.05 ? null : new JsonObject { ["mean"] = Mean, ["stddev"] = StdDev };

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(Mean + StdDev * rng.NextGaussian());
    }
}

/// <summary>U(minval, maxval), Keras's RandomUniform (defaults −0.05 and 0.05).</summary>
public sealed class RandomUniform : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Bounds that are not finite with <c>minval ≤ maxval</c>.</exception>
    public RandomUniform(double minval = -0.05, double maxval = 0.05)
    {
        if (!(double.IsFinite(minval) && double.IsFinite(maxval) && minval <= maxval))
            throw new ArgumentOutOfRangeException(nameof(maxval), maxval, $"Expected finite minval ≤ maxval. Received: minval={minval}, maxval={maxval}.");
        (MinVal, MaxVal) = (minval, maxval);
    }

    /// <summary>The lower bound.</summary>
    public double MinVal { get; }

    /// <summary>The upper bound.</summary>
    public double MaxVal { get; }

    /// <inheritdoc />
    public override string Name => "random_uniform";

    internal override JsonObject? Parameters() => MinVal == -0.05 && MaxVal == 0.05 ? null : new JsonObject { ["minval"] = MinVal, ["maxval"] = MaxVal };

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(MinVal + (MaxVal - MinVal) * rng.NextDouble());
    }
}
