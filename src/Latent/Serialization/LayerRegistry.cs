using System.Reflection;
using Latent.Layers;

namespace Latent.Serialization;

/// <summary>
/// A layer type that can be rebuilt from its configuration (Keras's <c>from_config</c>). Implement it beside the
/// layer and register the type once with <see cref="LayerRegistry.Register{T}(string?)"/>.
/// </summary>
/// <typeparam name="TSelf">The layer type itself.</typeparam>
public interface IConfigurableLayer<TSelf> where TSelf : Layer, IConfigurableLayer<TSelf>
{
    /// <summary>A new, unbuilt layer with the settings <see cref="Layer.GetConfig"/> wrote (the name included).</summary>
    static abstract TSelf FromConfig(LayerConfig config);
}

/// <summary>
/// The layer types a model file may name. Every layer of the library registers itself (each type's own
/// <c>FromConfig</c>, found once in this assembly); a user's layer is registered by type. Loading only ever builds
/// a registered type from its plain-value configuration: nothing in a file can name other code to run.
/// </summary>
public static class LayerRegistry
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, (Type Type, Func<LayerConfig, Layer> Create)> ByName = new(StringComparer.Ordinal);
    private static readonly Dictionary<Type, string> ByType = [];

    static LayerRegistry()
    {
        var register = typeof(LayerRegistry).GetMethod(nameof(RegisterBuiltIn), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var type in typeof(Layer).Assembly.GetTypes())
        {
            if (type.IsAbstract || !typeof(Layer).IsAssignableFrom(type)) continue;
            if (type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConfigurableLayer<>) && i.GenericTypeArguments[0] == type))
                register.MakeGenericMethod(type).Invoke(null, null);
        }
    }

    private static void RegisterBuiltIn<T>() where T : Layer, IConfigurableLayer<T> => Add(typeof(T), typeof(T).Name, c => T.FromConfig(c));

    /// <summary>Registers <typeparamref name="T"/> under <paramref name="className"/> (its type name by default). Registering the same type again is a no-op.</summary>
    /// <exception cref="ArgumentException">Another type is registered under that name.</exception>
    public static void Register<T>(string? className = null) where T : Layer, IConfigurableLayer<T> =>
        Register(c => T.FromConfig(c), className);

    /// <summary>Registers <typeparamref name="T"/> with a factory that rebuilds it from its configuration.</summary>
    /// <exception cref="ArgumentException">Another type is registered under that name.</exception>
    public static void Register<T>(Func<LayerConfig, T> fromConfig, string? className = null) where T : Layer
    {
        ArgumentNullException.ThrowIfNull(fromConfig);
        RunStaticConstructor();
        Add(typeof(T), className ?? typeof(T).Name, fromConfig);
    }

    /// <summary>Whether layers of <paramref name="type"/> can be saved and loaded.</summary>
    public static bool IsRegistered(Type type)
    {
        RunStaticConstructor();
        lock (Gate) return ByType.ContainsKey(type);
    }

    /// <summary>The class names a model file may use, sorted.</summary>
    public static IReadOnlyList<string> ClassNames
    {
        get
        {
            RunStaticConstructor();
            lock (Gate) return [.. ByName.Keys.Order(StringComparer.Ordinal)];
        }
    }

    internal static string ClassNameOf(Layer layer)
    {
        lock (Gate)
            return ByType.TryGetValue(layer.GetType(), out var name) ? name
                : throw new NotSupportedException(
                    $"Layer '{layer.Name}' of type {layer.GetType().Name} cannot be saved: register it once with " +
                    $"LayerRegistry.Register<{layer.GetType().Name}>() (it implements IConfigurableLayer<{layer.GetType().Name}>).");
    }

    internal static Layer Create(string className, LayerConfig config)
    {
        Func<LayerConfig, Layer> create;
        lock (Gate)
            create = ByName.TryGetValue(className, out var entry) ? entry.Create
                : throw new FormatException($"unknown layer class '{Data.SafeText.Printable(className)}' (a layer type not registered in this program; known: {string.Join(", ", ByName.Keys.Order(StringComparer.Ordinal))})");
        var layer = create(config);
        layer.Trainable = config.Trainable;
        return layer;
    }

    private static void Add(Type type, string className, Func<LayerConfig, Layer> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(className);
        lock (Gate)
        {
            if (ByName.TryGetValue(className, out var existing))
            {
                if (existing.Type == type) return;
                throw new ArgumentException($"Layer class name '{className}' is already registered for {existing.Type.FullName}; pass another className.", nameof(className));
            }
            if (ByType.ContainsKey(type))
                throw new ArgumentException($"{type.FullName} is already registered as '{ByType[type]}'.", nameof(type));
            ByName[className] = (type, create);
            ByType[type] = className;
        }
    }

    private static void RunStaticConstructor() { } // touching the class runs the scan of the library's layers first
}
