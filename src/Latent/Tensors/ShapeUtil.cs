namespace Latent;

/// <summary>Shape arithmetic and formatting shared by tensors, layers and loaders.</summary>
internal static class ShapeUtil
{
    /// <summary>Product of <paramref name="shape"/> from axis <paramref name="from"/> on.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static int Product(ReadOnlySpan<int> shape, int from = 0)
    {
        long p = 1;
        for (int i = from; i < shape.Length; i++) p *= shape[i];
        return checked((int)p);
    }

    /// <summary>Element count, with a clear error for negative dimensions or more than <see cref="Array.MaxLength"/> elements.</summary>
    public static int CheckedSize(ReadOnlySpan<int> shape, string paramName)
    {
        long p = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Dimensions must be non-negative, received shape {Format(shape)}.", paramName);
            p *= d;
            if (p > Array.MaxLength)
                throw new ArgumentException($"Shape {Format(shape)} has more elements than an array can hold.", paramName);
        }
        return (int)p;
    }

    /// <summary>Python-style tuple: <c>(784,)</c>, <c>(28, 28, 1)</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 1) return $"({shape[0]},)";
        return "(" + string.Join(", ", shape.ToArray()) + ")";
    }

    /// <summary>Keras-style batch shape: <c>(None, 784)</c>.</summary>
    public static string FormatBatch(ReadOnlySpan<int> sampleShape) =>
        "(None" + string.Concat(sampleShape.ToArray().Select(d => ", " + d)) + ")";
}
