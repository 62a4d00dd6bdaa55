namespace Latent.Data;

/// <summary>
/// Writes a file under a temporary name in the same folder, then renames it into place, so a crash or an error
/// mid-write never leaves a partial file and never destroys the previous one. Every file Latent writes goes
/// through here.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> from a stream (flushed to disk before the rename).</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteVia(path, temp =>
        {
            using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
            write(file);
            file.Flush(flushToDisk: true);
        });
    }

    /// <summary>Writes <paramref name="path"/> as text.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteVia(path, temp => File.WriteAllText(temp, text));

    /// <summary>
    /// Lets <paramref name="writeTo"/> create the temporary file itself (for libraries that write to a path);
    /// the temporary name keeps the extension. If <paramref name="writeTo"/> throws, the temporary file is
    /// removed and <paramref name="path"/> is untouched.
    /// </summary>
    public static void WriteVia(string path, Action<string> writeTo)
    {
        ArgumentNullException.ThrowIfNull(writeTo);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}{Path.GetExtension(full)}";
        try
        {
            writeTo(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
