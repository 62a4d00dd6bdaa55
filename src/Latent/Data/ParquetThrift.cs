namespace Latent.Data;

/// <summary>
/// Walks a Parquet file's Thrift structures (its footer, its page headers) exactly the way Parquet.Net 6.1.0 reads
/// them, before it does, with every count, length and nesting level checked against the bytes that are there.
/// </summary>
/// <remarks>
/// <para>Parquet.Net trusts what it reads: a list header sizes a <c>List&lt;T&gt;</c> before an element is read, a
/// string length sizes an array, a varint at the end of its buffer reads −1 as 0xFF and continues for ever, an unknown
/// struct is skipped by reading field headers without their values, and a known field is read as its declared type
/// whatever type the wire says. A standard Thrift walk therefore does not protect it: where the two disagree, Parquet.Net
/// reads bytes the walk never checked (the fuzzer found footers that made it spin and pages that asked for 1.8 GB).
/// This walk follows Parquet.Net's rules instead, so the counts it checks are the ones Parquet.Net will use.</para>
/// <para>The field table is Parquet.Net 6.1.0's generated readers (<c>Parquet.Meta.*.Read</c>) for every structure
/// reachable from FileMetaData and PageHeader; the package version is pinned.</para>
/// </remarks>
internal sealed class ParquetThrift
{
    private const int MaxDepth = 32;

    /// <summary>struct → field id → type: i16, i32, i64, byte, double, binary, bool, a struct name, or list:T.</summary>
    private static readonly Dictionary<string, Dictionary<int, string>> Fields = Parse("""
        FileMetaData: 1 i32, 2 list:SchemaElement, 3 i64, 4 list:RowGroup, 5 list:KeyValue, 6 binary, 7 list:ColumnOrder, 8 EncryptionAlgorithm, 9 binary
        SchemaElement: 1 i32, 2 i32, 3 i32, 4 binary, 5 i32, 6 i32, 7 i32, 8 i32, 9 i32, 10 LogicalType
        LogicalType: 1 Empty, 2 Empty, 3 Empty, 4 Empty, 5 DecimalType, 6 Empty, 7 TimeType, 8 TimeType, 10 IntType, 11 Empty, 12 Empty, 13 Empty, 14 Empty, 15 Empty, 16 VariantType, 17 GeometryType, 18 GeographyType
        DecimalType: 1 i32, 2 i32
        TimeType: 1 bool, 2 TimeUnit
        TimeUnit: 1 Empty, 2 Empty, 3 Empty
        IntType: 1 byte, 2 bool
        VariantType: 1 byte
        GeometryType: 1 binary
        GeographyType: 1 binary, 2 i32
        RowGroup: 1 list:ColumnChunk, 2 i64, 3 i64, 4 list:SortingColumn, 5 i64, 6 i64, 7 i16
        ColumnChunk: 1 binary, 2 i64, 3 ColumnMetaData, 4 i64, 5 i32, 6 i64, 7 i32, 8 ColumnCryptoMetaData, 9 binary
        ColumnMetaData: 1 i32, 2 list:i32, 3 list:binary, 4 i32, 5 i64, 6 i64, 7 i64, 8 list:KeyValue, 9 i64, 10 i64, 11 i64, 12 Statistics, 13 list:PageEncodingStats, 14 i64, 15 i32, 16 SizeStatistics, 17 GeospatialStatistics
        KeyValue: 1 binary, 2 binary
        Statistics: 1 binary, 2 binary, 3 i64, 4 i64, 5 binary, 6 binary, 7 bool, 8 bool
        PageEncodingStats: 1 i32, 2 i32, 3 i32
        SizeStatistics: 1 i64, 2 list:i64, 3 list:i64
        GeospatialStatistics: 1 BoundingBox, 2 list:i32
        BoundingBox: 1 double, 2 double, 3 double, 4 double, 5 double, 6 double, 7 double, 8 double
        ColumnCryptoMetaData: 1 Empty, 2 EncryptionWithColumnKey
        EncryptionWithColumnKey: 1 list:binary, 2 binary
        SortingColumn: 1 i32, 2 bool, 3 bool
        ColumnOrder: 1 Empty
        EncryptionAlgorithm: 1 AesGcm, 2 AesGcm
        AesGcm: 1 binary, 2 binary, 3 bool
        PageHeader: 1 i32, 2 i32, 3 i32, 4 i32, 5 DataPageHeader, 6 Empty, 7 DictionaryPageHeader, 8 DataPageHeaderV2
        DataPageHeader: 1 i32, 2 i32, 3 i32, 4 i32, 5 Statistics
        DictionaryPageHeader: 1 i32, 2 i32, 3 bool
        DataPageHeaderV2: 1 i32, 2 i32, 3 i32, 4 i32, 5 i32, 6 i32, 7 bool, 8 Statistics
        Empty:
        """);

    private static Dictionary<string, Dictionary<int, string>> Parse(string table)
    {
        var result = new Dictionary<string, Dictionary<int, string>>();
        foreach (var line in table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, rest) = (line[..line.IndexOf(':')], line[(line.IndexOf(':') + 1)..]);
            result[name] = rest.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(f => f.Split(' ')).ToDictionary(f => int.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), f => f[1]);
        }
        return result;
    }

    private readonly byte[] _b;
    private readonly int _start, _end;   // the walk reads _b[_start.._end); positions in messages count from _start
    private int _at;
    private short _lastField;

    private ParquetThrift(byte[] bytes, int start, int end) => (_b, _start, _end, _at) = (bytes, start, end, start);

    private int Position => _at - _start;

    private int Left => _end - _at;

    /// <summary>The integer fields read, by structure and field id (the last one read of each), for the caller's checks.</summary>
    private readonly Dictionary<(string, int), long> _values = [];

    /// <summary>
    /// Checks that Parquet.Net can read <paramref name="footer"/> as a FileMetaData without leaving it, and that it
    /// takes all of it.
    /// </summary>
    /// <exception cref="FormatException">What went wrong and where.</exception>
    public static void CheckFooter(byte[] footer)
    {
        var walk = new ParquetThrift(footer, 0, footer.Length);
        walk.Struct("FileMetaData", 0);
        if (walk.Left != 0) throw new FormatException($"the footer's structure ends at byte {walk.Position} of {footer.Length}");
    }

    /// <summary>
    /// Reads a page header from <paramref name="bytes"/>[<paramref name="offset"/>..+<paramref name="length"/>] as
    /// Parquet.Net would.
    /// Returns its length in bytes and its fields: type, uncompressed and compressed sizes, and its page's value count
    /// (data page, dictionary page or data page v2; −1 if the header has none of them).
    /// </summary>
    /// <exception cref="FormatException">The header runs past the bytes given, or is malformed.</exception>
    public static (int Length, long Type, long Uncompressed, long Compressed, long Values, long Nulls, long LevelBytes) PageHeader(byte[] bytes, int offset, int length)
    {
        var walk = new ParquetThrift(bytes, offset, offset + length);
        walk.Struct("PageHeader", 0);
        long Get(string s, int f) => walk._values.TryGetValue((s, f), out long v) ? v : -1;
        long type = Get("PageHeader", 1);
        long values = type switch
        {
            0 => Get("DataPageHeader", 1),
            2 => Get("DictionaryPageHeader", 1),
            3 => Get("DataPageHeaderV2", 1),
            _ => -1,
        };
        long nulls = type == 3 ? Get("DataPageHeaderV2", 2) : 0;
        long levels = type == 3 ? Math.Max(0, Get("DataPageHeaderV2", 5)) + Math.Max(0, Get("DataPageHeaderV2", 6)) : 0;
        if (type == 3 && (Get("DataPageHeaderV2", 5) < -1 || Get("DataPageHeaderV2", 6) < -1)) levels = long.MaxValue;
        return (walk.Position, type, Get("PageHeader", 2), Get("PageHeader", 3), values, nulls, levels);
    }

    private byte Byte()
    {
        if (_at >= _end) throw new FormatException($"a value runs past the end at byte {Position}");
        return _b[_at++];
    }

    // Parquet.Net's varints: no length limit, the shift taken modulo the width (C#'s rule).
    private uint Var32()
    {
        uint v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = Byte();
            v |= (uint)((b & 0x7F) << shift);
            if ((b & 0x80) == 0) return v;
        }
    }

    private ulong Var64()
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = Byte();
            v |= (ulong)((long)(b & 0x7F) << shift);
            if ((b & 0x80) == 0) return v;
        }
    }

    private static int Zigzag(uint n) => (int)(n >> 1) ^ -(int)(n & 1);
    private static long Zigzag(ulong n) => (long)(n >> 1) ^ -(long)(n & 1);

    private void Bytes(long n)
    {
        if (n < 0 || n > Left) throw new FormatException($"{n:N0} bytes at byte {Position}, where {Left} are left");
        _at += (int)n;
    }

    private void Binary()
    {
        int n = (int)Var32();
        if (n != 0) Bytes(n);
    }

    private (int Count, int ElementType) ListHeader()
    {
        byte h = Byte();
        int n = (h >> 4) & 0x0F;
        if (n == 15) n = (int)Var32();
        // Every element of a valid list takes at least a byte, and Parquet.Net sizes the list before reading one.
        if (n < 0 || n > Left) throw new FormatException($"a list of {n:N0} elements at byte {Position}, where {Left} bytes are left");
        return (n, h & 0x0F);
    }

    private void Struct(string name, int depth)
    {
        if (depth > MaxDepth) throw new FormatException("structures nested too deep");
        var fields = Fields[name];
        short saved = _lastField;
        _lastField = 0;
        while (true)
        {
            byte header = Byte();
            if (header == 0) break;
            int type = header & 0x0F, delta = header >> 4;
            short id = delta == 0 ? (short)Zigzag(Var32()) : (short)(_lastField + delta);
            _lastField = id;
            if (fields.TryGetValue(id, out var declared)) Known(name, id, declared, type, depth);
            else Skip(type, depth);
        }
        _lastField = saved;
    }

    /// <summary>A field the reader knows: read as declared, whatever type the wire gives.</summary>
    private void Known(string owner, int id, string declared, int wireType, int depth)
    {
        switch (declared)
        {
            case "bool": _values[(owner, id)] = wireType == 1 ? 1 : 0; return;   // the value is the wire type; no byte
            case "byte": Byte(); return;
            case "i16": _values[(owner, id)] = (short)Zigzag(Var32()); return;
            case "i32": _values[(owner, id)] = Zigzag(Var32()); return;
            case "i64": _values[(owner, id)] = Zigzag(Var64()); return;
            case "double": Bytes(8); return;
            case "binary": Binary(); return;
        }
        if (declared.StartsWith("list:", StringComparison.Ordinal))
        {
            string element = declared[5..];
            int n = ListHeader().Count;
            for (int i = 0; i < n; i++)
            {
                switch (element)
                {
                    case "i32": Var32(); break;
                    case "i64": Var64(); break;
                    case "binary": Binary(); break;
                    default: Struct(element, depth + 1); break;
                }
            }
            return;
        }
        Struct(declared, depth + 1);
    }

    /// <summary>Parquet.Net's SkipField, rule for rule (a struct is skipped by its field headers alone).</summary>
    private void Skip(int type, int depth)
    {
        if (depth > MaxDepth) throw new FormatException("lists nested too deep");
        switch (type)
        {
            case 1 or 2: return;
            case 3: Bytes(1); return;
            case 4 or 5: Var32(); return;
            case 6: Var64(); return;
            case 7: Bytes(8); return;
            case 8: Binary(); return;
            case 12:
            {
                short saved = _lastField;
                _lastField = 0;
                while (true)
                {
                    byte header = Byte();
                    if (header == 0) break;
                    int delta = header >> 4;
                    _lastField = delta == 0 ? (short)Zigzag(Var32()) : (short)(_lastField + delta);
                }
                _lastField = saved;
                return;
            }
            case 9:
            {
                var (n, elementType) = ListHeader();
                for (int i = 0; i < n; i++) Skip(elementType, depth + 1);
                return;
            }
            default: throw new FormatException($"a field of unknown type {type} at byte {Position}");
        }
    }
}
