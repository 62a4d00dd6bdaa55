namespace Latent.Data;

/// <summary>
/// A read-only view of a seekable stream on which reading at the end is an error instead of a 0-byte read or -1.
/// For readers that know how many bytes they need (Parquet.Net reads a page header byte by byte and a page in a loop
/// until its declared size has arrived): on a damaged file either would otherwise retry at the end for ever.
/// </summary>
internal sealed class EndCheckedStream(Stream inner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        if (n == 0 && buffer.Length > 0) throw PastEnd(buffer.Length);
        return n;
    }

    public override int ReadByte()
    {
        int b = inner.ReadByte();
        return b >= 0 ? b : throw PastEnd(1);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    private EndOfStreamException PastEnd(int wanted) =>
        new($"a read of {wanted:N0} bytes at byte {inner.Position:N0} runs past the end ({inner.Length:N0} bytes)");

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
