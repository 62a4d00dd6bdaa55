namespace Latent.Kernels;

/// <summary>The per-core L2 cache size, read once from Linux's sysfs (512 KB where it cannot be read).</summary>
internal static class CacheSizes
{
    private const long Fallback = 512 * 1024;

    /// <summary>Bytes of L2 per core, clamped to [256 KB, 8 MB].</summary>
    public static long L2Bytes { get; } = Math.Clamp(ReadL2() ?? Fallback, 256 * 1024, 8 * 1024 * 1024);

    private static long? ReadL2()
    {
        try
        {
            const string dir = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(dir)) return null;
            foreach (var index in Directory.EnumerateDirectories(dir, "index*"))
            {
                if (File.ReadAllText(Path.Combine(index, "level")).Trim() != "2") continue;
                if (File.ReadAllText(Path.Combine(index, "type")).Trim() == "Instruction") continue;
                return Parse(File.ReadAllText(Path.Combine(index, "size")));
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>"512K", "2048K", "1M" or a plain byte count; null when it is none of these.</summary>
    internal static long? Parse(string text)
    {
        text = text.Trim();
        long unit = text.EndsWith('K') ? 1024 : text.EndsWith('M') ? 1024 * 1024 : 1;
        if (unit > 1) text = text[..^1];
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v) && v > 0 ? v * unit : null;
    }
}
