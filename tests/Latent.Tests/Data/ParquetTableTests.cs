using Latent.Data;
using Parquet;
using Parquet.Schema;

namespace Latent.Tests.Data;

/// <summary>Parquet tables: numeric columns of every width, row groups, column choice, and one clear error for each bad file.</summary>
public sealed class ParquetTableTests() : TestSupport.TempFolder("latent-parquet-")
{
    /// <summary>Writes columns (name → values) as one Parquet file, <paramref name="groups"/> row groups of equal size.</summary>
    internal static string Write(string path, int groups, params (DataField Field, Array Values)[] columns)
    {
        Task.Run(async () =>
        {
            await using var stream = File.Create(path);
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(columns.Select(c => (Field)c.Field).ToArray()), stream);
            int rows = columns[0].Values.Length, per = rows / groups;
            for (int g = 0; g < groups; g++)
            {
                using var rg = writer.CreateRowGroup();
                foreach (var (field, values) in columns)
                {
                    int start = g * per, n = g == groups - 1 ? rows - start : per;
                    switch (values)
                    {
                        case float[] f: await rg.WriteAsync<float>(field, f.AsMemory(start, n)); break;
                        case double[] d: await rg.WriteAsync<double>(field, d.AsMemory(start, n)); break;
                        case int[] i: await rg.WriteAsync<int>(field, i.AsMemory(start, n)); break;
                        case long[] l: await rg.WriteAsync<long>(field, l.AsMemory(start, n)); break;
                        case decimal[] m: await rg.WriteAsync<decimal>(field, m.AsMemory(start, n)); break;
                        case double?[] nd: await rg.WriteAsync<double>(field, nd.AsMemory(start, n)); break;
                        case string[] s: await rg.WriteAsync(field, s.Skip(start).Take(n).ToArray()); break;
                        default: throw new ArgumentException(values.GetType().Name);
                    }
                }
            }
        }).GetAwaiter().GetResult();
        return path;
    }

    [Fact]
    public void ReadsNumericColumnsOfEveryWidthAcrossRowGroups()
    {
        string path = Write(Path.Combine(Dir, "t.parquet"), 2,
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

    [Fact]
    public void BadFilesGetOneClearError()
    {
        string path = Write(Path.Combine(Dir, "bad.parquet"), 1,
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
        Assert.Contains("not a readable Parquet file", e.Message);
    }
}
