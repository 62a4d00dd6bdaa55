using SkiaSharp;

namespace Latent.Data;

/// <summary>
/// A folder of PNG/JPEG images as a data set: each image decoded with SkiaSharp, resized to width×height,
/// converted to grayscale (luma 0.299R + 0.587G + 0.114B) or kept as RGB, and scaled to [0, 1]. Files are
/// taken in ordinal name order, so the order is the same on every machine.
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Loads every image in <paramref name="folder"/> (not recursive).</summary>
    /// <returns>A tensor of shape (N, height·width) for grayscale or (N, height·width·3) for RGB, row-major, channels last.</returns>
    /// <exception cref="DataFormatException">A file that cannot be decoded, or a folder with no images.</exception>
    public static Tensor Load(string folder, int width = 28, int height = 28, bool rgb = false)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Image size must be positive, received {width}×{height}.");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder.");
        var files = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new DataFormatException(folder, "holds no .png, .jpg or .jpeg files.");
        int channels = rgb ? 3 : 1, size = width * height * channels;
        var data = new float[(long)files.Length * size];
        for (int n = 0; n < files.Length; n++)
        {
            using var decoded = SKBitmap.Decode(files[n])
                ?? throw new DataFormatException(files[n], "not an image SkiaSharp can decode (PNG or JPEG expected).");
            using var resized = decoded.Width == width && decoded.Height == height
                ? decoded.Copy(SKColorType.Rgba8888)
                : decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888), new SKSamplingOptions(SKCubicResampler.Mitchell));
            if (resized is null) throw new DataFormatException(files[n], $"could not be resized to {width}×{height}.");
            var span = data.AsSpan(n * size, size);
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var c = resized.GetPixel(x, y);
                int i = (y * width + x) * channels;
                if (rgb)
                {
                    span[i] = c.Red / 255f;
                    span[i + 1] = c.Green / 255f;
                    span[i + 2] = c.Blue / 255f;
                }
                else span[i] = (0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue) / 255f;
            }
        }
        return Tensor.FromArray(data, files.Length, size);
    }
}
