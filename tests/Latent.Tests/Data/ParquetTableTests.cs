using Latent.Data;
using Latent.Tests.TestSupport;
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

    [Theory]
    [InlineData(nameof(EndlessPage), "row group 0, column chunk 0: the page header at byte 4 is damaged")]
    [InlineData(nameof(HugePage), "the page header at byte 83 is damaged (1,828,063,225 bytes")]
    public async Task DamagedPageHeadersAreRefusedBeforeParquetNetReadsThem(string which, string expected)
    {
        string path = Path.Combine(Dir, "page.parquet");
        File.WriteAllBytes(path, Convert.FromBase64String(which == nameof(EndlessPage) ? EndlessPage : HugePage));
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
