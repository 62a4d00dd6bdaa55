using Latent.Data;

namespace Latent.Tests.Data;

public class EndCheckedStreamTests
{
    [Fact]
    public async Task ReadsUpToTheEndAndRefusesReadsAtIt()
    {
        var stream = new EndCheckedStream(new MemoryStream([1, 2, 3, 4, 5]));
        var buffer = new byte[8];
        Assert.Equal(3, stream.Read(buffer, 0, 3));
        Assert.Equal(4, stream.ReadByte());
        Assert.Equal(1, await stream.ReadAsync(buffer.AsMemory(0, 8)));   // fewer than asked is still a read
        Assert.Equal(5, buffer[0]);
        Assert.Equal(0, stream.Read(buffer, 0, 0));                         // nothing asked, nothing refused
        var e = Assert.Throws<EndOfStreamException>(() => stream.ReadByte());
        Assert.Contains("at byte 5", e.Message);
        Assert.Throws<EndOfStreamException>(() => stream.Read(buffer, 0, 2));
        await Assert.ThrowsAsync<EndOfStreamException>(() => stream.ReadAsync(buffer.AsMemory()).AsTask());
        await Assert.ThrowsAsync<EndOfStreamException>(() => stream.ReadAsync(buffer, 0, 4));
        stream.Seek(1, SeekOrigin.Begin);
        Assert.Equal(2, stream.ReadByte());
        stream.Position = 100;
        Assert.Throws<EndOfStreamException>(() => stream.ReadByte());
        Assert.Throws<NotSupportedException>(() => stream.Write([1], 0, 1));

        stream.Limit = 3;                                                   // the stream now ends at byte 3
        stream.Position = 1;
        Assert.Equal(2, stream.Read(buffer, 0, 8));
        Assert.Equal([2, 3], buffer[..2]);
        Assert.Throws<EndOfStreamException>(() => stream.ReadByte());
        e = Assert.Throws<EndOfStreamException>(() => stream.Read(buffer, 0, 1));
        Assert.Contains("(3 bytes)", e.Message);
    }
}
