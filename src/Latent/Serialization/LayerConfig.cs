using System.Text.Json.Nodes;
using Latent.Activations;
using Latent.Initializers;

namespace Latent.Serialization;

/// <summary>
/// A layer's settings as plain values, Keras's <c>get_config()</c> dictionary: what <see cref="Layers.Layer.GetConfig"/>
/// writes and a registered factory (<see cref="LayerRegistry"/>) reads back. Values are numbers, strings, booleans,
/// integer arrays, initializers, regularizers and activations; a model file stores them as JSON.
/// </summary>
public sealed class LayerConfig
{
    private readonly JsonObject _values;

    /// <summary>A configuration for a layer called <paramref name="name"/>.</summary>
    public LayerConfig(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _values = new JsonObject { ["name"] = name };
    }

    internal LayerConfig(JsonObject values)
    {
        _values = values;
        _ = Name; // a configuration without a name is refused at once
    }

    /// <summary>The layer's name.</summary>
    public string Name => GetString("name");

    /// <summary>Whether the layer's weights are trained.</summary>
    public bool Trainable
    {
        get => GetBool("trainable", true);
        set => _values["trainable"] = value;
    }

    /// <summary>Stores a wrapped layer's class name and configuration (a <see cref="Layers.Bidirectional"/>'s LSTM).</summary>
    /// <exception cref="NotSupportedException">The layer's type is not registered.</exception>
    public void Set(string key, Layers.Layer value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _values[Key(key)] = ModelConfig.Layer(value);
    }

    /// <summary>A new, unbuilt layer from the class name and configuration stored under <paramref name="key"/>.</summary>
    /// <exception cref="FormatException">Missing, not an object, or an unknown class name.</exception>
    public Layers.Layer GetLayer(string key) =>
        ModelConfig.CreateLayer(_values[key] as JsonObject ?? throw Missing(key, "a layer (an object with class and config)"));

    /// <summary>Whether <paramref name="key"/> holds a value (not null).</summary>
    public bool Contains(string key) => _values[key] is not null;

    /// <summary>Sets <paramref name="key"/>.</summary>
    public void Set(string key, int value) => _values[Key(key)] = value;
    /// <summary>Sets <paramref name="key"/>.</summary>
    public void Set(string key, double value) => _values[Key(key)] = double.IsFinite(value) ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"A configuration value must be finite ('{key}').");
    /// <summary>Sets <paramref name="key"/>.</summary>
    public void Set(string key, bool value) => _values[Key(key)] = value;
    /// <summary>Sets <paramref name="key"/> (null removes it).</summary>
    public void Set(string key, string? value) => _values[Key(key)] = value;
    /// <summary>Sets <paramref name="key"/> to an integer array (a shape, a kernel size).</summary>
    public void Set(string key, IReadOnlyList<int> value) => _values[Key(key)] = new JsonArray(value.Select(v => (JsonNode)v).ToArray());
    /// <summary>Sets <paramref name="key"/> to an initializer and its parameters.</summary>
    public void Set(string key, Initializer value) => _values[Key(key)] = value.ToConfig();
    /// <summary>Sets <paramref name="key"/> to a regularizer (null for none).</summary>
    public void Set(string key, Regularizer? value) => _values[Key(key)] = value is null ? null : RegularizerConfig.ToJson(value);
    /// <summary>Sets <paramref name="key"/> to an activation's name (null for linear).</summary>
    public void Set(string key, ActivationFunction? value) => _values[Key(key)] = (value ?? Linear.Instance).Name;

    /// <summary>The integer at <paramref name="key"/>.</summary>
    /// <exception cref="FormatException">Missing or not an integer.</exception>
    public int GetInt(string key) =>
        _values[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw Missing(key, "an integer");
    /// <summary>The integer at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public int GetInt(string key, int fallback) => Contains(key) ? GetInt(key) : fallback;

    /// <summary>The number at <paramref name="key"/>.</summary>
    /// <exception cref="FormatException">Missing, not a number, or not finite.</exception>
    public double GetDouble(string key) =>
        _values[key] is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : throw Missing(key, "a finite number");
    /// <summary>The number at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public double GetDouble(string key, double fallback) => Contains(key) ? GetDouble(key) : fallback;

    /// <summary>The boolean at <paramref name="key"/>.</summary>
    public bool GetBool(string key) =>
        _values[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw Missing(key, "true or false");
    /// <summary>The boolean at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public bool GetBool(string key, bool fallback) => Contains(key) ? GetBool(key) : fallback;

    /// <summary>The string at <paramref name="key"/>.</summary>
    public string GetString(string key) =>
        _values[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Missing(key, "a string");
    /// <summary>The string at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public string? GetString(string key, string? fallback) => Contains(key) ? GetString(key) : fallback;

    /// <summary>The integer array at <paramref name="key"/> (at most <paramref name="maxLength"/> long).</summary>
    public int[] GetInts(string key, int maxLength = 16)
    {
        if (_values[key] is not JsonArray a) throw Missing(key, "an array of integers");
        if (a.Count > maxLength) throw new FormatException($"'{key}' has {a.Count} entries, at most {maxLength} expected");
        return a.Select(e => e is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw Missing(key, "an array of integers")).ToArray();
    }

    /// <summary>The initializer at <paramref name="key"/> (a Keras name, or a name with parameters).</summary>
    public Initializer GetInitializer(string key) => Initializer.FromConfig(_values[key] ?? throw Missing(key, "an initializer"), key);

    /// <summary>The regularizer at <paramref name="key"/>, or null when there is none.</summary>
    public Regularizer? GetRegularizer(string key) => RegularizerConfig.FromJson(_values[key], key);

    /// <summary>The activation at <paramref name="key"/> ("linear" when absent).</summary>
    public ActivationFunction GetActivation(string key)
    {
        try { return ActivationFunction.Get(GetString(key, "linear")); }
        catch (ArgumentException e) { throw new FormatException($"'{key}': {e.Message}"); }
    }

    internal JsonObject ToJson() => _values;

    private static string Key(string key) =>
        string.IsNullOrWhiteSpace(key) || key is "name" ? throw new ArgumentException($"'{key}' is not a settable configuration key.", nameof(key)) : key;

    private static FormatException Missing(string key, string what) => new($"layer configuration '{key}' must be {what}");

    /// <inheritdoc />
    public override string ToString() => _values.ToJsonString();
}

/// <summary>Regularizers as JSON: <c>{"l1": …, "l2": …, "reduction": "sum"|"mean"}</c>.</summary>
internal static class RegularizerConfig
{
    public static JsonNode ToJson(Regularizer r) => r switch
    {
        L1L2 l => new JsonObject { ["l1"] = l.L1, ["l2"] = l.L2, ["reduction"] = l.Reduction.ToString().ToLowerInvariant() },
        _ => throw new NotSupportedException($"Regularizer {r.GetType().Name} cannot be saved yet."),
    };

    public static Regularizer? FromJson(JsonNode? node, string key)
    {
        if (node is null) return null;
        if (node is not JsonObject o) throw new FormatException($"'{key}' must be a regularizer object or null");
        double Num(string k) => o[k] is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) && d >= 0 ? d
            : throw new FormatException($"'{key}.{k}' must be a finite number ≥ 0");
        string reduction = o["reduction"] is JsonValue rv && rv.TryGetValue<string>(out var s) ? s : "sum";
        return new L1L2(Num("l1"), Num("l2"))
        {
            Reduction = reduction switch
            {
                "sum" => ActivityReduction.Sum,
                "mean" => ActivityReduction.Mean,
                var other => throw new FormatException($"unknown regularizer reduction '{other}'"),
            },
        };
    }
}
