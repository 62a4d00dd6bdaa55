using System.Reflection;
using Latent.Data;
using Latent.Tests.TestSupport;
using Parquet.Schema;

namespace Latent.Tests.Data;

/// <summary>
/// <see cref="ParquetThrift"/> against Parquet.Net itself: on damaged footers and page headers, whatever the walk
/// accepts, Parquet.Net's own reader (called through reflection, on a stream that refuses reads past the end) must read
/// without error to exactly the byte where the walk stopped. If the walk and Parquet.Net ever parse differently, an
/// accepted input shows it.
/// </summary>
public sealed class ParquetThriftTests() : TempFolder("latent-thrift-")
{
    private static readonly Assembly Parquet = typeof(global::Parquet.ParquetReader).Assembly;

    /// <summary>Parquet.Net's <c>T.Read(new ThriftCompactProtocolReader(stream))</c>; returns the bytes it took.</summary>
    private static long ParquetNetReads(string type, byte[] bytes)
    {
        var protocol = Parquet.GetType("Parquet.Meta.Proto.ThriftCompactProtocolReader", throwOnError: true)!;
        var read = Parquet.GetType(type, throwOnError: true)!.GetMethod("Read", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [protocol])!;
        using var stream = new EndCheckedStream(new MemoryStream(bytes));
        var reader = Activator.CreateInstance(protocol, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null, [stream], null)!;
        read.Invoke(null, [reader]);
        return stream.Position;
    }

    private (byte[] Footer, byte[] Page) ValidParts()
    {
        string path = ParquetFiles.Write(Path.Combine(Dir, "valid.parquet"), 2,
            (new DataField<double>("x"), new[] { 1.0, 2, 3, 4 }), (new DataField<double?>("n"), new double?[] { 5, 6, 7, 8 }));
        var file = File.ReadAllBytes(path);
        int footer = BitConverter.ToInt32(file, file.Length - 8);
        return (file[(file.Length - 8 - footer)..(file.Length - 8)], file[4..(file.Length - 8 - footer)]);
    }

    [Fact]
    public void WhatTheWalkAcceptsParquetNetReadsToTheSameByte()
    {
        var (footer, pages) = ValidParts();
        Assert.Equal(footer.Length, ParquetNetReads("Parquet.Meta.FileMetaData", footer));
        ParquetThrift.CheckFooter(footer);
        var rng = new Random(3);
        int accepted = 0, pageAccepted = 0;
        for (int i = 0; i < 4000; i++)
        {
            var damaged = Fuzzing.Mutate(footer, rng);
            try
            {
                ParquetThrift.CheckFooter(damaged);
            }
            catch (FormatException)
            {
                continue;
            }
            accepted++;
            Assert.Equal(damaged.Length, ParquetNetReads("Parquet.Meta.FileMetaData", damaged));

            var page = Fuzzing.Mutate(pages, rng);
            (int Length, long, long, long, long, long, long) header;
            try
            {
                header = ParquetThrift.PageHeader(page, 0, page.Length);
            }
            catch (FormatException)
            {
                continue;
            }
            pageAccepted++;
            Assert.Equal(header.Length, ParquetNetReads("Parquet.Meta.PageHeader", page));
        }
        Assert.InRange(accepted, 400, 3900);      // the mutations reach both outcomes
        Assert.InRange(pageAccepted, 40, 3900);
    }

    [Fact]
    public void TheWalkRefusesWhatParquetNetWouldMisread()
    {
        // An unknown field holding a struct with an i32 of 0: Parquet.Net skips the struct by reading field headers
        // without their values, so it takes the 0 for the struct's end and stops a byte early; a standard Thrift walk
        // reads all 7 bytes. The walk follows Parquet.Net.
        byte[] footer = [0x15, 0x02, /* field 1 (version) = 1 */ 0xEC, /* field 15, a struct */ 0x15, 0x00, 0x00, 0x00];
        Assert.Equal(6, ParquetNetReads("Parquet.Meta.FileMetaData", footer));
        var e = Assert.Throws<FormatException>(() => ParquetThrift.CheckFooter(footer));
        Assert.Contains("ends at byte 6 of 7", e.Message);

        // A list of 2³¹ − 1 schema elements in a few bytes: Parquet.Net would size its list for them first.
        byte[] list = [0x29, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00];
        e = Assert.Throws<FormatException>(() => ParquetThrift.CheckFooter(list));
        Assert.Contains("a list of 2,147,483,647 elements", e.Message);

        // Lists nested in lists, 100 deep, in an unknown field: Parquet.Net would recurse once per level.
        byte[] nested = [0xF9, .. Enumerable.Repeat((byte)0x19, 100), 0x00];
        e = Assert.Throws<FormatException>(() => ParquetThrift.CheckFooter(nested));
        Assert.Contains("too deep", e.Message);
    }
}
