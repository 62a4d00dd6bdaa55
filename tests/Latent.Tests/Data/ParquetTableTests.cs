using Latent.Data;
using Latent.Tests.TestSupport;
using Parquet;
using Parquet.Schema;

namespace Latent.Tests.Data;

/// <summary>Parquet tables: numeric columns of every width, row groups, column choice, and one clear error for each bad file.</summary>
public sealed class ParquetTableTests() : TestSupport.TempFolder("latent-parquet-")
{
    [Fact]
    public void ReadsNumericColumnsOfEveryWidthAcrossRowGroups()
    {
        string path = ParquetFiles.Write(Path.Combine(Dir, "t.parquet"), 2,
            (new DataField<float>("f"), new[] { 1.5f, 2, 3, 4 }),
            (new DataField<double>("d"), new[] { 10.0, 20, 30, 40 }),
            (new DataField<int>("i"), new[] { -1, 0, 1, 2 }),
            (new DataField<long>("l"), new[] { 100L, 200, 300, 400 }),
            (new DataField<decimal>("m"), new[] { 0.5m, 0.25m, 0.125m, 1m }),
            (new DataField<double?>("nd"), new double?[] { 7, 8, 9, 10 }),
            (new DataField<string>("id"), new[] { "a", "b", "c", "d" }));
        var all = ParquetTable.Read(path, drop: ["id"]);
        Assert.Equal([4, 6], all.Shape);
        Assert.Equal([1.5f, 10, -1, 100, 0.5f, 7, /**/ 2, 20, 0, 200, 0.25f, 8], all.Span[..12].ToArray());
        Assert.Equal([4f, 40, 2, 400, 1, 10], all.Row(3).ToArray());
        var chosen = ParquetTable.Read(path, columns: ["l", "0"]);
        Assert.Equal([100f, 1.5f, 200, 2, 300, 3, 400, 4], chosen.Span.ToArray());
    }

    /// <summary>A damaged file the fuzzer found: its footer declares a list of 536,870,911 elements, on which Parquet.Net's parser ran for ever.</summary>
    private const string EndlessFooter =
        "UEFSMRUAFSAVJCwVBBUAFQYVBhwYCAAAAAAAAABAGAgAAAAAAADwPxYAKAgAAAAAAAAAQBgIAAAAAAAA8D8AAAAQPAAAAAAAAPA/" +
        "AAAAAAAAAEAVABUQFRQsFQQVABUGFQYcGAQGAAAAGAQFAAAAFgAoBAYAAAAYBAUAAAAAAAAIHAUAAAAGAAAAFQAVIBUkLBUEFQAV" +
        "BhUGHBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAAABA8AAAAAAAACEAAAAAAAAAQQBUAFRAVFCwV" +
        "BBUAFQYVBhwYBAgAAAAYBAcAAAAWACgECAAAABgEBwAAAAAAAAgcBwAAAAgAAAAVAhk8SARyb290FQQAFQolABgBeAAVAiUAGAFu" +
        "JSJMrBMgEQAAABYIGSwZLCYIHBUKGSUABhkYAXgVAhYEFpoBFp4BJgg8GAgAAAAAAAAAQBgIAAAAAAAA8D8WACgIAAAAAAAAAEAY" +
        "CAAAAAAAAPA/AAAAJqYBHBUCGSUABhkYAW4VAhYEFmoWbiamATwYBAYAAAAYBAUAAAAWACgEBgAAABgEBQAAAAAAABaEAhYENowC" +
        "ABksJpQCHBUKGf//////AXgVAhYEFpoBFp4BJpQCPBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAA" +
        "ACayAxwVAhklAAYZGAFuFQIWBBZqFm4msgM8GAQIAAAAGAQHAAAAFgAoBAgAAAAYBAcAAAAAAAAWhAIWBDaMAgAoSlBhcnF1ZXQu" +
        "TmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdiZDI1NDliNWY0NGE5MjQxZTcyOWY4NjlkNDk0N2VlNTkpAIsBAABQQVIx";

    /// <summary>Another: one byte of the footer turned a field into a boolean, so its structure ends 357 bytes early; Parquet.Net ran for ever on it too.</summary>
    private const string ShortFooter =
        "UEFSMRUAFSAVJCwVBBUAFQYVBhwYCAAAAAAAAABAGAgAAAAAAADwPxYAKAgAAAAAAAAAQBgIAAAAAAAA8D8AAAAQPAAAAAAAAPA/" +
        "AAAAAAAAAEAVABUQFRQsFQQVABUGFQYcGAQGAAAAGAQFAAAAFgAoBAYAAAAYBAUAAAAAAAAIHAUAAAAGAAAAFQAVIBUkLBUEFQAV" +
        "BhUGHBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAAABA8AAAAAAAACEAAAAAAAAAQQBUAFRAVFCwV" +
        "BBUAFQYVBhwYBAgAAIAYBAcAAAAWACgECAAAABgEBwAAAAAAAAgcBwAAAAgAAAAVAhk8SARyb290FQQAFQolABgBeAAVAiEAGAFu" +
        "JSJMrBMgEQAAABYIGSwZLCYIHBUKGSUABhkYAXgVAhYEFpoBFp4BJgg8GAgAAAAAAAAAQBgIAAAAAAAA8D8WACgIAAAAAAAAAEAY" +
        "CAAAAAAAAPA/AAAAJqYBHBUCGSUABhkYAW4VAhYEFmoWbiamATwYBAYAAAAYBAUAAAAWACgEBgAAABgEBQAAAAAAABaEAhYENowC" +
        "ABksJpQCHBUKGSUABhkYAXgVAhYEFpoBFp4BJpQCPBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAA" +
        "ACayAxwVAhklAAYZGAFuFQIWBBZqFm4msgM8GAQIAAAAGAQHAAAAFgAoBAgAAAAYBAcAAAAAAAAWhAIWBDaMAgAoSlBhcnF1ZXQu" +
        "TmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdiZDI1NDliNWY0NGE5MjQxZTcyOWY4NjlkNDk0N2VlNTkpBIsBAABQQVIx";

    /// <summary>
    /// A third: 15 bytes inserted into the first data page; the footer is intact, and Parquet.Net's page-header reader
    /// retried at the end of the file for ever.
    /// </summary>
    private const string EndlessPage =
        "UEFSMRUAFSAVJCwVBBUAFQYVBhwYCAAAAAAAAABAGAgAAAAAAADwPxYAKAgAAAAAAAAA46n25ZLVRWxEUbUz6kjdQBgIAAAAAAAA" +
        "8D8AAAAQPAAAAAAAAPA/AAAAAAAAAEAVABUQFRQsFQQVABUGFQYcGAQGAAAAGAQFAAAAFgAoBAYAAAAYBAUAAAAAAAAIHAUAAAAG" +
        "AAAAFQAVIBUkLBUEFQAVBhUGHBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAAABA8AAAAAAAACEAA" +
        "AAAAAAAQQBUAFRAVFCwVBBUAFQYVBhwYBAgAAAAYBAcAAAAWACgECAAAABgEBwAAAAAAAAgcBwAAAAgAAAAVAhk8SARyb290FQQA" +
        "FQolABgBeAAVAiUAGAFuJSJMrBMgEQAAABYIGSwZLCYIHBUKGSUABhkYAXgVAhYEFpoBFp4BJgg8GAgAAAAAAAAAQBgIAAAAAAAA" +
        "8D8WACgIAAAAAAAAAEAYCAAAAAAAAPA/AAAAJqYBHBUCGSUABhkYAW4VAhYEFmoWbiamATwYBAYAAAAYBAUAAAAWACgEBgAAABgE" +
        "BQAAAAAAABaEAhYENowCABksJpQCHBUKGSUABhkYAXgVAhYEFpoBFp4BJpQCPBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAA" +
        "ABBAGAgAAAAAAAAIQAAAACayAxwVAhklAAYZGAFuFQIWBBZqFm4msgM8GAQIAAAAGAQHAAAAFgAoBAgAAAAYBAcAAAAAAAAWhAIW" +
        "BDaMAgAoSlBhcnF1ZXQuTmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdiZDI1NDliNWY0NGE5MjQxZTcyOWY4NjlkNDk0" +
        "N2VlNTkpAIsBAABQQVIx";

    /// <summary>A fourth: a page header whose binary statistics claim 1.8 GB, which Parquet.Net allocated before reading.</summary>
    private const string HugePage =
        "UEFSMRUAFSAVJCwVBBUAFQYVBhwYCAAAAAAAAABAGAgAAAAAAADwPxYAKAgAAAAAAAAAQBgIAAAAAAAA8D8AAAAQPAAAAAAAAPA/" +
        "AAAAAAAAAEAVABUQFRQsFQQVABUGFQa4+Y/Y54YcGAQGAAAAGAQFAAAAFgAoBAYAAAAYBAUAAAAAAAAIHAUAAAAGAAAAFQAVIBUk" +
        "LBUEFQAVBhUGHBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAAABA8AAAAAAAACEAAAAAAAAAQQBUA" +
        "FRAVFCwVBBUAFQYVBhwYBAgAAAAYBAcAAAAWACgECAAAABgEBwAAAAAAAAgcBwAAAAgAAAAVAhk8SARyb290FQQAFQolABgBeAAV" +
        "AiUAGAFuJSJMrBMgEQAAABYIGSwZLCYIHBUKGSUABhkYAXgVAhYEFpoBFp4BJgg8GAgAAAAAAAAAQBgIAAAAAAAA8D8WACgIAAAA" +
        "AAAAAEAYCAAAAAAAAPA/AAAAJqYBHBUCGSUABhkYAW4VAhYEFmoWbiamATwYBAYAAAAYBAUAAAAWACgEBgAAABgEBQAAAAAAABaE" +
        "AhYENowCABksJpQCHBUKGSUABhkYAXgVAhYEFpoBFp4BJpQCPBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAA" +
        "AAAIQAAAACayAxwVAhklAAYZGAFuFQIWBBZqFm4msgM8GAQIAAAAGAQHAAAAFgAoBAgAAAAYBAcAAAAAAAAWhAIWBDaMAgAoSlBh" +
        "cnF1ZXQuTmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdiZDI1NDliNWY0NGE5MjQxZTcyOWY4NjlkNDk0N2VlNTkpAIsB" +
        "AABQQVIx";

    /// <summary>A fifth: a Snappy page whose preamble says it expands to 268 MB, which Snappy allocated before decoding.</summary>
    private const string SnappyBomb =
        "UEFSMRUAFSAVJCwVBBUAFQYVBhwYCAAAAAAAAABAGAgAAAAAAADwPxYAKAgAAAAAAAAAQBgIAAAAAAAA8D8AAAD/////AAAAAPA/" +
        "AAAAAAAAAEAVABUQFRQsFQQVABUGFQYcGAQGAAAAGAQFAAAAFgAoBAYAAAAYBAUAAAAAAAAIHAUAAAAGAAAAFQAVIBUkLBUEFQAV" +
        "BhUGHBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAAABA8AAAAAAAACEAAAAAAAAAQQBUAFRAVFCwV" +
        "BBUAFQYVBhwYBAgAAAAYBAcAAAAWACgECAAAABgEBwAAAAAAAAgcBwAAAAgAAAAVAhk8SARyb290FQQAFQolABgBeAAVAiUAGAFu" +
        "JSJMrBMgEQAAABYIGSwZLCYIHBUKGSUABhkYAXgVAhYEFpoBFp4BJgg8GAgAAAAAAAAAQBgIAAAAAAAA8D8WACgIAAAAAAAAAEAY" +
        "CAAAAAAAAPA/AAAAJqYBHBUCGSUABhkYAW4VAhYEFmoWbiamATwYBAYAAAAYBAUAAAAWACgEBgAAABgEBQAAAAAAABaEAhYENowC" +
        "ABksJpQCHBUKGSUABhkYAXgVAhYEFpoBFp4BJpQCPBgIAAAAAAAAEEAYCAAAAAAAAAhAFgAoCAAAAAAAABBAGAgAAAAAAAAIQAAA" +
        "ACayAxwVAhklAAYZGAFuFQIWBBZqFm4msgM8GAQIAAAAGAQHAAAAFgAoBAgAAAAYBAcAAAAAAAAWhAIWBDaMAgAoSlBhcnF1ZXQu" +
        "TmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdiZDI1NDliNWY0NGE5MjQxZTcyOWY4NjlkNDk0N2VlNTkpAIsBAABQQVIx";

    [Theory]
    [InlineData(nameof(EndlessPage), "row group 0, column chunk 0: the page header at byte 4 is damaged")]
    [InlineData(nameof(HugePage), "the page header at byte 83 is damaged (1,828,063,225 bytes")]
    [InlineData(nameof(SnappyBomb), "its SNAPPY data says it expands to 268,435,455 bytes")]
    public async Task DamagedPagesAreRefusedBeforeParquetNetReadsThem(string which, string expected)
    {
        string path = Path.Combine(Dir, "page.parquet");
        File.WriteAllBytes(path, Convert.FromBase64String(which switch { nameof(EndlessPage) => EndlessPage, nameof(HugePage) => HugePage, _ => SnappyBomb }));
        var read = Task.Run(() => Assert.Throws<DataFormatException>(() => ParquetTable.Read(path)));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(4))));
        Assert.Contains(expected, (await read).Message);
    }

    [Theory]
    [InlineData(nameof(EndlessFooter))]
    [InlineData(nameof(ShortFooter))]
    public async Task DamagedFootersAreRefusedAtOnce(string which)
    {
        string path = Path.Combine(Dir, "damaged.parquet");
        File.WriteAllBytes(path, Convert.FromBase64String(which == nameof(EndlessFooter) ? EndlessFooter : ShortFooter));
        var read = Task.Run(() => Assert.Throws<DataFormatException>(() => ParquetTable.Read(path)));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(20))));
        Assert.Contains("damaged footer", (await read).Message);
    }

    [Theory]
    [InlineData(CompressionMethod.None)]
    [InlineData(CompressionMethod.Gzip)]
    [InlineData(CompressionMethod.Zstd)]
    [InlineData(CompressionMethod.Snappy)]
    public void EveryCodecReadsAndAFrameThatClaimsTooMuchIsRefused(CompressionMethod codec)
    {
        var values = Enumerable.Range(0, 10_000).Select(i => i * 0.5).ToArray();   // 80 KB: a 4-byte Zstandard content size
        string path = ParquetFiles.Write(Path.Combine(Dir, $"{codec}.parquet"), 1, codec, (new DataField<double>("x"), values));
        Assert.Equal(values.Select(v => (float)v), ParquetTable.Read(path).Span.ToArray());
        if (codec != CompressionMethod.Zstd) return;   // Snappy's preamble: SnappyBomb below

        // Zstandard's frame header says how large the output is, and the decompressor allocates that much: claim 2 GB.
        var bytes = File.ReadAllBytes(path);
        {
            int frame = bytes.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD]);
            Assert.True(frame > 0);
            byte descriptor = bytes[frame + 4];
            Assert.Equal(2, descriptor >> 6);                       // a 4-byte content size, after the window byte if any
            int at = frame + 5 + ((descriptor & 0x20) == 0 ? 1 : 0) + new[] { 0, 1, 2, 4 }[descriptor & 3];
            BitConverter.GetBytes(0x7FFF0000u).CopyTo(bytes, at);
        }
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => ParquetTable.Read(path));
        Assert.Contains($"its {codec.ToString().ToUpperInvariant()} data", e.Message);
    }

    [Fact]
    public void BadFilesGetOneClearError()
    {
        string path = ParquetFiles.Write(Path.Combine(Dir, "bad.parquet"), 1,
            (new DataField<double?>("x"), new double?[] { 1, null, 3 }),
            (new DataField<string>("name"), new[] { "a", "b", "c" }));
        var e = Assert.Throws<DataFormatException>(() => ParquetTable.Read(path, columns: ["x"]));
        Assert.Contains("column 'x', row 1: null", e.Message);
        e = Assert.Throws<DataFormatException>(() => ParquetTable.Read(path));
        Assert.Contains("column 'name' holds text, not numbers", e.Message);
        e = Assert.Throws<DataFormatException>(() => ParquetTable.Read(path, columns: ["nope"]));
        Assert.Contains("no column 'nope'", e.Message);
        string junk = Path.Combine(Dir, "junk.parquet");
        File.WriteAllBytes(junk, [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 7))]);
        e = Assert.Throws<DataFormatException>(() => ParquetTable.Read(junk));
        Assert.Contains("not a Parquet file", e.Message);
    }
}
