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

    /// <summary>
    /// Loads every image in <paramref name="folder"/> at its own size, which must be the same for all of them (else a
    /// clear error naming two files that differ: pass a size to <see cref="Load(string, int, int, bool)"/> to resize).
    /// </summary>
    /// <returns>The images as (N, height·width·channels), and their height and width.</returns>
    public static (Tensor Images, int Height, int Width) LoadNative(string folder, bool rgb = false)
    {
        var files = Files(folder);
        int w = 0, h = 0;
        string? first = null;
        foreach (var f in files)
        {
            InputFile.RequireRegular(f);
            using var codec = SKCodec.Create(f) ?? throw new DataFormatException(f, "not an image SkiaSharp can decode (PNG or JPEG expected).");
            var info = codec.Info;
            if (first is null) (first, w, h) = (f, info.Width, info.Height);
            else if (info.Width != w || info.Height != h)
                throw new DataFormatException(folder, $"holds images of different sizes ({Path.GetFileName(first)} is {w}×{h}, {Path.GetFileName(f)} is {info.Width}×{info.Height}); pass an image size to resize them all.");
        }
        if ((long)w * h * (rgb ? 3 : 1) > 1 << 24) throw new DataFormatException(folder, $"images of {w}×{h} are larger than this tool takes; pass a smaller image size.");
        return (Load(folder, w, h, rgb), h, w);
    }

    /// <summary>The largest image decoded (before resizing): 2²⁵ pixels, 128 MB as RGBA.</summary>
    public const long MaxDecodedPixels = 1L << 25;

    private static string[] Files(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder.");
        var files = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new DataFormatException(folder, "holds no .png, .jpg or .jpeg files.");
        return files;
    }

    /// <summary>Loads every image in <paramref name="folder"/> (not recursive).</summary>
    /// <returns>A tensor of shape (N, height·width) for grayscale or (N, height·width·3) for RGB, row-major, channels last.</returns>
    /// <exception cref="DataFormatException">A file that cannot be decoded, or a folder with no images.</exception>
    public static Tensor Load(string folder, int width = 28, int height = 28, bool rgb = false)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Image size must be positive, received {width}×{height}.");
        return LoadFiles(Files(folder), width, height, rgb);
    }

    /// <summary>Loads the given image files, in order, resized to <paramref name="width"/>×<paramref name="height"/> (see <see cref="Load"/>).</summary>
    /// <exception cref="DataFormatException">A file that cannot be decoded.</exception>
    public static Tensor LoadFiles(IReadOnlyList<string> files, int width, int height, bool rgb = false)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (width <= 0 || height <= 0 || (long)width * height > 1 << 24)
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size must be positive and at most 2^24 pixels, received {width}×{height}.");
        int channels = rgb ? 3 : 1, size = width * height * channels;
        var data = new float[(long)files.Count * size];
        for (int n = 0; n < files.Count; n++)
        {
            InputFile.RequireRegular(files[n]);
            using var codec = SKCodec.Create(files[n]) ?? throw new DataFormatException(files[n], "not an image SkiaSharp can decode (PNG or JPEG expected).");
            // The header's size is checked before any pixel is decoded: a small file can claim a huge image.
            if ((long)codec.Info.Width * codec.Info.Height > MaxDecodedPixels)
                throw new DataFormatException(files[n], $"says it is {codec.Info.Width}×{codec.Info.Height} pixels, more than the {MaxDecodedPixels:N0} this tool decodes.");
            using var decoded = SKBitmap.Decode(codec)
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
        return Tensor.FromArray(data, files.Count, size);
    }

    /// <summary>
    /// Writes one image of <paramref name="height"/>×<paramref name="width"/> values in [0, 1] (clipped), grayscale or
    /// RGB channels last, as a PNG (under a temporary name, then renamed).
    /// </summary>
    public static void WritePng(string path, ReadOnlySpan<float> pixels, int height, int width, int channels)
    {
        if (channels is not (1 or 3) || pixels.Length != height * width * channels)
            throw new ArgumentException($"{pixels.Length} values are not a {height}×{width} image of {channels} channel(s).", nameof(pixels));
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        static byte Level(float v) => (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int i = (y * width + x) * channels;
            bitmap.SetPixel(x, y, channels == 3 ? new SKColor(Level(pixels[i]), Level(pixels[i + 1]), Level(pixels[i + 2]))
                                                : new SKColor(Level(pixels[i]), Level(pixels[i]), Level(pixels[i])));
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, stream => png.SaveTo(stream));
    }
}
