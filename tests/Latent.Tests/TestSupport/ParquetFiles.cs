using Parquet;
using Parquet.Schema;

namespace Latent.Tests.TestSupport;

/// <summary>Parquet files for tests and the fuzzer, written with Parquet.Net.</summary>
internal static class ParquetFiles
{
    /// <summary>Writes columns (name → values) as one Parquet file, <paramref name="groups"/> row groups of equal size.</summary>
    public static string Write(string path, int groups, params (DataField Field, Array Values)[] columns) =>
        Write(path, groups, CompressionMethod.Snappy, columns);

    /// <summary>As <see cref="Write(string, int, ValueTuple{DataField, Array}[])"/>, with pages compressed by <paramref name="codec"/>.</summary>
    public static string Write(string path, int groups, CompressionMethod codec, params (DataField Field, Array Values)[] columns)
    {
        Task.Run(async () =>
        {
            await using var stream = File.Create(path);
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(columns.Select(c => (Field)c.Field).ToArray()), stream,
                new ParquetOptions { CompressionMethod = codec });
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
}
