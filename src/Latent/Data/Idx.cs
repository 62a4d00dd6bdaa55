using System.Buffers.Binary;
using System.IO.Compression;

namespace Latent.Data;

/// <summary>An IDX array (LeCun's MNIST format): unsigned bytes and their dimensions.</summary>
public sealed record IdxArray(int[] Shape, byte[] Data);

/// <summary>
/// Reads IDX files, raw or gzip-compressed (detected from the content). Layout: two zero bytes, a type byte
/// (0x08 = unsigned byte, the only type MNIST uses), a dimension count, then each dimension as a big-endian
/// int32, then the data in row-major order.
/// </summary>
public static class Idx
{
    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">Bad magic, an unsupported type, a zero or negative dimension, a truncated file or trailing data.</exception>
    public static IdxArray Read(string path)
    {
        using var file = InputFile.OpenRead(path);
        try
        {
            using var stream = OpenMaybeGzip(file);
            // A compressed file may expand to at most its own size plus DecompressionAllowance: a small gzip "bomb"
            // is refused from its header, before memory is touched.
            return Read(stream, path, stream is GZipStream ? file.Length + DecompressionAllowance : long.MaxValue);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"a damaged gzip stream ({e.Message}).");
        }
    }

    /// <summary>How far a compressed input may expand beyond its own size (64 MB): MNIST's 9.9 MB of gzip hold 47 MB.</summary>
    public const long DecompressionAllowance = 64L << 20;

    /// <summary>Reads an IDX stream (already decompressed); <paramref name="name"/> is used in error messages.</summary>
    public static IdxArray Read(Stream stream, string name) => Read(stream, name, long.MaxValue);

    private static IdxArray Read(Stream stream, string name, long maxBytes)
    {
        Span<byte> magic = stackalloc byte[4];
        if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4)
            throw new DataFormatException(name, "too short for an IDX header (4 bytes).");
        if (magic[0] != 0 || magic[1] != 0)
            throw new DataFormatException(name, $"not an IDX file: magic bytes {magic[0]:X2} {magic[1]:X2}, expected 00 00.");
        if (magic[2] != 0x08)
            throw new DataFormatException(name, $"IDX data type 0x{magic[2]:X2} is not supported (only 0x08, unsigned byte).");
        int rank = magic[3];
        if (rank is < 1 or > 4)
            throw new DataFormatException(name, $"IDX header claims {rank} dimensions; expected 1 to 4.");
        Span<byte> dimBytes = stackalloc byte[4 * rank];
        if (stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false) < dimBytes.Length)
            throw new DataFormatException(name, "truncated inside the IDX header.");
        var shape = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.Slice(4 * d, 4));
            if (shape[d] <= 0)
                throw new DataFormatException(name, $"IDX dimension {d} is {shape[d]}; dimensions must be positive.");
            count *= shape[d];
            if (count > Array.MaxLength)
                throw new DataFormatException(name, $"IDX header claims shape ({string.Join(", ", shape.Take(d + 1))}, ...), more bytes than one array can hold.");
        }
        if (count > maxBytes)
            throw new DataFormatException(name, $"the IDX header claims shape {ShapeUtil.Format(shape)}, {count:N0} bytes, more than a compressed file of its size may expand to here ({maxBytes:N0}).");
        var data = BoundedReader.ReadExactly(stream, count, name, $"the IDX header (shape {ShapeUtil.Format(shape)})");
        BoundedReader.ExpectEnd(stream, name, count);
        return new IdxArray(shape, data);
    }

    /// <summary>Wraps <paramref name="file"/> in a gzip decoder if it starts with the gzip magic (1F 8B).</summary>
    internal static Stream OpenMaybeGzip(FileStream file)
    {
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        return b0 == 0x1F && b1 == 0x8B ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
    }
}
