using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Latent.Data;

/// <summary>
/// NumPy's .npy format (versions 1–3): the magic <c>\x93NUMPY</c>, a version, a little-endian header length,
/// a Python-dict header <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (N, 784), }</c>, then the data.
/// Reads float32, float64 and uint8 arrays in C order into float32 tensors; writes float32.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The element type an .npy file declared.</summary>
    public enum ElementType
    {
        /// <summary>'&lt;f4'.</summary>
        Float32,
        /// <summary>'&lt;f8'.</summary>
        Float64,
        /// <summary>'|u1'.</summary>
        UInt8,
    }

    /// <summary>Reads an array as float32 (float64 rounded, uint8 as 0–255 unless scaled later).</summary>
    /// <exception cref="DataFormatException">Bad magic, an unsupported dtype, Fortran order, a header that claims more data than the file holds, or trailing bytes.</exception>
    public static Tensor Read(string path) => Read(path, out _);

    /// <summary>Reads an array as float32 and reports its declared element type.</summary>
    public static Tensor Read(string path, out ElementType type)
    {
        using var file = InputFile.OpenRead(path);
        return Read(file, file.Length, path, out type);
    }

    /// <summary>Reads an array from a stream of <paramref name="length"/> bytes (an .npz entry); <paramref name="path"/> names it in errors.</summary>
    public static Tensor Read(Stream file, long length, string path, out ElementType type)
    {
        long position = 0;
        Span<byte> start = stackalloc byte[10];
        if (file.ReadAtLeast(start, 10, throwOnEndOfStream: false) < 10 || !start[..6].SequenceEqual(Magic))
            throw new DataFormatException(path, "not an .npy file (bad magic; expected \\x93NUMPY).");
        position = 10;
        int major = start[6];
        long headerLength;
        if (major == 1) headerLength = BinaryPrimitives.ReadUInt16LittleEndian(start[8..10]);
        else if (major is 2 or 3)
        {
            Span<byte> rest = stackalloc byte[2];
            if (file.ReadAtLeast(rest, 2, throwOnEndOfStream: false) < 2) throw new DataFormatException(path, "truncated .npy header.");
            position = 12;
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian([start[8], start[9], rest[0], rest[1]]);
        }
        else throw new DataFormatException(path, $".npy version {major}.{start[7]} is not supported.");
        if (headerLength > 1 << 20 || headerLength > length - position)
            throw new DataFormatException(path, $".npy header length {headerLength} does not fit the file ({length} bytes).");
        var header = Encoding.Latin1.GetString(BoundedReader.ReadExactly(file, headerLength, path, "the .npy header"));
        position += headerLength;

        string descr = Field(header, "descr", path);
        type = descr switch
        {
            "<f4" or "=f4" => ElementType.Float32,
            "<f8" or "=f8" => ElementType.Float64,
            "|u1" or "<u1" or "u1" => ElementType.UInt8,
            _ => throw new DataFormatException(path, $"dtype '{descr}' is not supported (float32 '<f4', float64 '<f8' or uint8 '|u1')."),
        };
        if (Field(header, "fortran_order", path) != "False")
            throw new DataFormatException(path, "Fortran-order arrays are not supported; save with np.ascontiguousarray first.");
        var shapeText = ShapePattern().Match(header);
        if (!shapeText.Success) throw new DataFormatException(path, "the .npy header has no shape.");
        var shape = shapeText.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : throw new DataFormatException(path, $"bad dimension '{s}' in the .npy shape."))
            .ToArray();
        int itemSize = type switch { ElementType.Float32 => 4, ElementType.Float64 => 8, _ => 1 };
        long count = 1;
        foreach (int d in shape) count *= d;
        long remaining = length - position;
        if (count * itemSize != remaining)
            throw new DataFormatException(path,
                $"the header claims shape {ShapeUtil.Format(shape)} ({count * itemSize:N0} bytes of {descr}) but the file holds {remaining:N0} bytes of data.");
        if (count > Array.MaxLength) throw new DataFormatException(path, "the array is too large.");
        var bytes = BoundedReader.ReadExactly(file, count * itemSize, path, "the .npy header");
        var data = new float[count];
        switch (type)
        {
            case ElementType.Float32:
                for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
                break;
            case ElementType.Float64:
                for (int i = 0; i < data.Length; i++) data[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
                break;
            default:
                for (int i = 0; i < data.Length; i++) data[i] = bytes[i];
                break;
        }
        return Tensor.FromArray(data, shape.Length == 0 ? [1] : shape);
    }

    /// <summary>Writes a float32 .npy (version 1.0), via a temporary file renamed into place.</summary>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string shape = tensor.Rank == 1 ? $"({tensor.Shape[0]},)" : "(" + string.Join(", ", tensor.Shape) + ")";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        AtomicFile.Write(path, file =>
        {
            file.Write(Magic);
            file.Write([1, 0]);
            Span<byte> len = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
            file.Write(len);
            file.Write(Encoding.Latin1.GetBytes(header));
            Span<byte> word = stackalloc byte[4];
            foreach (float v in tensor.Span)
            {
                BinaryPrimitives.WriteSingleLittleEndian(word, v);
                file.Write(word);
            }
        });
    }

    private static string Field(string header, string key, string path)
    {
        var m = Regex.Match(header, $@"['""]{key}['""]\s*:\s*(?:'([^']*)'|""([^""]*)""|(\w+))");
        if (!m.Success) throw new DataFormatException(path, $"the .npy header has no '{key}'.");
        return m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
    }

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
