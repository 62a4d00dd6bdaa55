namespace Latent.Data;

/// <summary>
/// Reads exactly the number of bytes a header claims, growing the buffer only as data actually arrives, so a
/// forged header cannot make us allocate gigabytes for a file of a few bytes.
/// </summary>
internal static class BoundedReader
{
    private const int Chunk = 16 << 20;

    /// <summary>Reads <paramref name="count"/> bytes or throws <see cref="DataFormatException"/> naming how many were there.</summary>
    public static byte[] ReadExactly(Stream stream, long count, string path, string what)
    {
        if (count > Array.MaxLength)
            throw new DataFormatException(path, $"{what} claims {count:N0} bytes, more than one array can hold.");
        var buffer = new byte[(int)Math.Min(count, Chunk)];
        long filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min(count, (long)buffer.Length * 2));
            int read = stream.Read(buffer, (int)filled, buffer.Length - (int)filled);
            if (read == 0)
                throw new DataFormatException(path, $"truncated: {what} claims {count:N0} bytes but the file holds only {filled:N0}.");
            filled += read;
        }
        return buffer;
    }

    /// <summary>Throws if the stream has bytes left.</summary>
    public static void ExpectEnd(Stream stream, string path, long expected)
    {
        if (stream.ReadByte() >= 0)
            throw new DataFormatException(path, $"trailing data: expected {expected:N0} bytes of content, the file holds more.");
    }
}
