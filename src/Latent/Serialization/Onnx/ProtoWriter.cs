using System.Text;

namespace Latent.Serialization.Onnx;

/// <summary>
/// The few Protocol Buffers encodings an ONNX file needs: varints, 64-bit-free scalars, length-delimited bytes,
/// strings and nested messages (written to a child writer, then copied with its length). Repeated scalars are
/// written unpacked, as onnx.proto (proto2) declares them.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    private void Varint(ulong v)
    {
        while (v >= 0x80) { _buffer.WriteByte((byte)(v | 0x80)); v >>= 7; }
        _buffer.WriteByte((byte)v);
    }

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    public ProtoWriter Int(int field, long value) { Tag(field, 0); Varint((ulong)value); return this; }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, value);
        if (!BitConverter.IsLittleEndian) b.Reverse();
        _buffer.Write(b);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value) { Tag(field, 2); Varint((ulong)value.Length); _buffer.Write(value); return this; }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter child) => Bytes(field, child.ToArray());

    public ProtoWriter Message(int field, Action<ProtoWriter> build)
    {
        var child = new ProtoWriter();
        build(child);
        return Message(field, child);
    }
}
