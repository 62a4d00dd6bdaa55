namespace Latent.Data;

/// <summary>
/// A read-only view of a seekable stream on which reading at the end is an error instead of a 0-byte read or -1.
/// For readers that know how many bytes they need (Parquet.Net reads a page header byte by byte and a page in a loop
/// until its declared size has arrived): on a damaged file either would otherwise retry at the end for ever.
/// <see cref="Limit"/> can end the stream early, for a reader that must not go past a part of the file.
/// </summary>
internal sealed class EndCheckedStream(Stream inner) : Stream
{
    /// <summary>Where reading ends: the inner stream's length unless set lower.</summary>
    public long Limit { get; set; } = long.MaxValue;

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
        int wanted = buffer.Length;
        if (wanted == 0) return 0;
        long left = Limit - inner.Position;
        if (left <= 0) throw PastEnd(wanted);
        int n = inner.Read(left < wanted ? buffer[..(int)left] : buffer);
        return n > 0 ? n : throw PastEnd(wanted);
    }

    public override int ReadByte()
    {
        if (inner.Position >= Limit) throw PastEnd(1);
        int b = inner.ReadByte();
        return b >= 0 ? b : throw PastEnd(1);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    private EndOfStreamException PastEnd(int wanted) =>
        new($"a read of {wanted:N0} bytes at byte {inner.Position:N0} runs past the end ({Math.Min(Limit, inner.Length):N0} bytes)");

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
