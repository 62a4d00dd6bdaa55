using System.Text;
using Latent.Data;

namespace Latent.Tests.Data;

public sealed class NpyCsvTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static byte[] NpyBytes(string descr, string shape, byte[] data, string order = "False", int major = 1)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}";
        int pre = major == 1 ? 10 : 12;
        int total = pre + dict.Length + 1, padded = (total + 63) / 64 * 64;
        var header = Encoding.ASCII.GetBytes(dict + new string(' ', padded - total) + "\n");
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        if (major == 1) ms.Write(BitConverter.GetBytes((ushort)header.Length));
        else ms.Write(BitConverter.GetBytes((uint)header.Length));
        ms.Write(header);
        ms.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public void Float32RoundTrip()
    {
        var t = Tensor.FromArray([1.5f, -2, 3.25f, 0, 1e-8f, 7], 2, 3);
        Npy.Write(P("a.npy"), t);
        var back = Npy.Read(P("a.npy"), out var type);
        Assert.Equal(Npy.ElementType.Float32, type);
        Assert.Equal([2, 3], back.Shape);
        Assert.Equal(t.ToArray(), back.ToArray());
        // The header is padded to 64 bytes, as NumPy writes it.
        Assert.Equal(0, (File.ReadAllBytes(P("a.npy")).Length - 24) % 64);
    }

    [Fact]
    public void ReadsFloat64AndUInt8AndVersion2()
    {
        File.WriteAllBytes(P("d.npy"), NpyBytes("<f8", "(3,)", [.. BitConverter.GetBytes(0.5), .. BitConverter.GetBytes(-1.0), .. BitConverter.GetBytes(2.0)]));
        Assert.Equal([0.5f, -1, 2], Npy.Read(P("d.npy")).ToArray());
        File.WriteAllBytes(P("u.npy"), NpyBytes("|u1", "(2, 2)", [0, 255, 7, 9], major: 2));
        var u = Npy.Read(P("u.npy"), out var type);
        Assert.Equal(Npy.ElementType.UInt8, type);
        Assert.Equal([0f, 255, 7, 9], u.ToArray());
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { "magic", "bad magic" },
        { "dtype", "dtype '<i8' is not supported" },
        { "fortran", "Fortran-order" },
        { "claims-more", "claims shape (1000000, 784)" },
        { "truncated", "the file holds 8 bytes" },
        { "header-length", "header length" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedNpyNamesTheFileAndTheProblem(string kind, string expected)
    {
        byte[] bytes = kind switch
        {
            "magic" => Encoding.ASCII.GetBytes("PK\x03\x04 not numpy at all"),
            "dtype" => NpyBytes("<i8", "(1,)", new byte[8]),
            "fortran" => NpyBytes("<f4", "(2, 2)", new byte[16], order: "True"),
            "claims-more" => NpyBytes("<f4", "(1000000, 784)", new byte[16]),
            "truncated" => NpyBytes("<f4", "(2, 2)", new byte[8]),
            "header-length" => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0xFF, 0xFF, (byte)'{'],
            _ => throw new ArgumentException(kind),
        };
        File.WriteAllBytes(P(kind + ".npy"), bytes);
        var e = Assert.Throws<DataFormatException>(() => Npy.Read(P(kind + ".npy")));
        Assert.StartsWith(P(kind + ".npy"), e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void CsvWithAndWithoutHeader()
    {
        File.WriteAllText(P("h.csv"), "a,b,c\n1,2,3\n4,5.5,6\n");
        var t = Csv.Read(P("h.csv"));
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal([1f, 2, 3, 4, 5.5f, 6], t.ToArray());
        File.WriteAllText(P("n.csv"), "0.1,0.2\n\n0.3,0.4\n");
        Assert.Equal([0.1f, 0.2f, 0.3f, 0.4f], Csv.Read(P("n.csv")).ToArray());
    }

    [Theory]
    [InlineData("1,2\n3\n", "line 2 has 1 values, earlier lines have 2")]
    [InlineData("1,2\n3,x\n", "line 2, column 1: 'x' is not a finite number")]
    [InlineData("a,b\n", "no data rows")]
    public void MalformedCsv(string text, string expected)
    {
        File.WriteAllText(P("bad.csv"), text);
        var e = Assert.Throws<DataFormatException>(() => Csv.Read(P("bad.csv")));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(P("bad.csv"), e.Message);
    }

    private static string CsvFile(string text)
    {
        string path = Path.Combine(Path.GetTempPath(), $"latent-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CsvHeadersFollowTheStatedRule()
    {
        // A header: every field non-empty and not a number.
        var t = Csv.Read(CsvFile("id,\"x, first\",y\n1,2.5,3\n4,5,6e-1\n"));
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal([1f, 2.5f, 3, 4, 5, 0.6f], t.Span.ToArray());
        // A first row with an empty cell is data, and its empty cell an error naming line and column (not a header dropped).
        var e = Assert.Throws<DataFormatException>(() => Csv.Read(CsvFile("1,,3\n4,5,6\n")));
        Assert.Contains("line 1, column 1: empty value", e.Message);
        // Mixed text and numbers on line 1: data, with a hint.
        Assert.Contains("pass --header yes", Assert.Throws<DataFormatException>(() => Csv.Read(CsvFile("a,1,2\n3,4,5\n"))).Message);
        Assert.Equal([1, 3], Csv.Read(CsvFile("a,1,2\n3,4,5\n"), CsvHeader.Yes).Shape);
        // A numeric first row is data unless told otherwise.
        Assert.Equal([2, 2], Csv.Read(CsvFile("10,20\n30,40\n")).Shape);
        Assert.Equal([1, 2], Csv.Read(CsvFile("10,20\n30,40\n"), CsvHeader.Yes).Shape);
    }

    [Fact]
    public void CsvSeparatorsQuotesAndColumnSelection()
    {
        var semi = Csv.Read(CsvFile("a;b;c\n1;2;3\n4;5;6\n"), columns: ["c", "a"]);
        Assert.Equal([3f, 1, 6, 4], semi.Span.ToArray());
        var tab = Csv.Read(CsvFile("1\t2\t3\n4\t5\t6\n"), drop: ["0"]);
        Assert.Equal([2f, 3, 5, 6], tab.Span.ToArray());
        var quoted = Csv.Read(CsvFile("\"id\",\"v\"\n\"7\",\"1.5\"\n"), drop: ["id"]);
        Assert.Equal([1.5f], quoted.Span.ToArray());
        Assert.Contains("no column 'zz': the header names a, b, c", Assert.Throws<DataFormatException>(() => Csv.Read(CsvFile("a,b,c\n1,2,3\n"), columns: ["zz"])).Message);
        Assert.Contains("line 3 has 2 values, earlier lines have 3", Assert.Throws<DataFormatException>(() => Csv.Read(CsvFile("1,2,3\n4,5,6\n7,8\n"))).Message);
        Assert.Contains("'NaN' is not a finite number", Assert.Throws<DataFormatException>(() => Csv.Read(CsvFile("1,2\nNaN,3\n"))).Message);
    }
}
