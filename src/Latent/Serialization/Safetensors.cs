using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Latent.Data;

namespace Latent.Serialization;

/// <summary>A float32 tensor read from or written to a safetensors file.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data);

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>),
/// then the raw little-endian data. Readable from Python with <c>safetensors.numpy.load_file</c>. Only F32 is
/// written and read here. Reading checks every offset and size against the file before allocating.
/// </summary>
public static class Safetensors
{
    private const long MaxHeader = 100L << 20;

    /// <summary>Writes the tensors and string metadata to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new Dictionary<string, object>();
        if (metadata.Count > 0) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var t in tensors)
        {
            long bytes = (long)t.Data.Length * 4;
            header[t.Name] = new Dictionary<string, object> { ["dtype"] = "F32", ["shape"] = t.Shape, ["data_offsets"] = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8; // align the data to 8 bytes, padding with spaces as the spec allows
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, padded);
        stream.Write(len);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        Span<byte> word = stackalloc byte[4];
        foreach (var t in tensors)
        {
            if (BitConverter.IsLittleEndian) stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Data.AsSpan()));
            else foreach (float v in t.Data) { BinaryPrimitives.WriteSingleLittleEndian(word, v); stream.Write(word); }
        }
    }

    /// <summary>Reads every tensor and the metadata.</summary>
    /// <exception cref="DataFormatException">A malformed header, an unsupported dtype, or offsets outside the file.</exception>
    public static (List<NamedTensor> Tensors, Dictionary<string, string> Metadata) Read(Stream stream, string name)
    {
        long length = stream.Length;
        Span<byte> len = stackalloc byte[8];
        if (stream.ReadAtLeast(len, 8, throwOnEndOfStream: false) < 8)
            throw new DataFormatException(name, "too short for a safetensors header.");
        long n = BinaryPrimitives.ReadInt64LittleEndian(len);
        if (n <= 0 || n > MaxHeader || n > length - 8)
            throw new DataFormatException(name, $"safetensors header length {n} is impossible for a file of {length} bytes.");
        var headerBytes = BoundedReader.ReadExactly(stream, n, name, "the safetensors header");
        long dataStart = 8 + n, dataLength = length - dataStart;
        var tensors = new List<NamedTensor>();
        var metadata = new Dictionary<string, string>();
        try
        {
            using var doc = JsonDocument.Parse(headerBytes);
            var spans = new List<(long Begin, long End, string Name, int[] Shape)>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                string dtype = prop.Value.GetProperty("dtype").GetString() ?? "";
                if (dtype != "F32") throw new DataFormatException(name, $"tensor '{prop.Name}' has dtype {dtype}; only F32 is supported.");
                var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                var offs = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long count = 1;
                foreach (int d in shape)
                {
                    if (d < 0) throw new DataFormatException(name, $"tensor '{prop.Name}' has a negative dimension.");
                    count *= d;
                    if (count > Array.MaxLength) throw new DataFormatException(name, $"tensor '{prop.Name}' is too large.");
                }
                if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || offs[1] > dataLength || offs[1] - offs[0] != count * 4)
                    throw new DataFormatException(name,
                        $"tensor '{prop.Name}' has data_offsets [{string.Join(", ", offs)}] that do not fit its shape {ShapeUtil.Format(shape)} within {dataLength} data bytes.");
                spans.Add((offs[0], offs[1], prop.Name, shape));
            }
            spans.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            for (int i = 1; i < spans.Count; i++)
                if (spans[i].Begin < spans[i - 1].End)
                    throw new DataFormatException(name, $"tensors '{spans[i - 1].Name}' and '{spans[i].Name}' overlap.");
            foreach (var (begin, end, tName, shape) in spans)
            {
                stream.Position = dataStart + begin;
                var bytes = BoundedReader.ReadExactly(stream, end - begin, name, $"tensor '{tName}'");
                var data = new float[(end - begin) / 4];
                for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4, 4));
                tensors.Add(new NamedTensor(tName, shape, data));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new DataFormatException(name, $"malformed safetensors header: {e.Message}");
        }
        return (tensors, metadata);
    }
}
