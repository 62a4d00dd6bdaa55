namespace Latent.Layers;

/// <summary>Shape checks and setting validation shared by the image layers (channels last: height, width, channels).</summary>
internal static class ImageShape
{
    /// <summary>(H, W, C) of a per-sample shape, or a clear error naming the layer and the shape received.</summary>
    public static (int H, int W, int C) Of(Layer layer, int[] shape)
    {
        if (shape.Length != 3)
            throw new ArgumentException(
                $"{layer.TypeName} '{layer.Name}' expects inputs of shape (batch, height, width, channels), received {ShapeUtil.FormatBatch(shape)}.");
        return (shape[0], shape[1], shape[2]);
    }

    /// <summary>A pair of positive integers (a kernel size, strides, a pool size).</summary>
    public static (int, int) Positive((int, int) value, string name)
    {
        if (value.Item1 <= 0 || value.Item2 <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"Expected two positive integers. Received: {name}=({value.Item1}, {value.Item2}).");
        return value;
    }

    /// <summary>"valid" or "same" (case-insensitive); true for same.</summary>
    public static bool Padding(string padding)
    {
        return (padding ?? "").ToLowerInvariant() switch
        {
            "valid" => false,
            "same" => true,
            _ => throw new ArgumentException($"Expected padding \"valid\" or \"same\". Received: padding={padding}.", nameof(padding)),
        };
    }

    /// <summary>The "valid"/"same" name of a padding flag.</summary>
    public static string PaddingName(bool same) => same ? "same" : "valid";
}
