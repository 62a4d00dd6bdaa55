using System.Numerics;
using Parquet;
using Parquet.Schema;

namespace Latent.Data;

/// <summary>
/// Numeric tables from Apache Parquet files (through Parquet.Net): one sample per row, the chosen columns as features.
/// Integer, floating-point and decimal columns are read as float; a null, a text column that is not left out, or a
/// nested column is an error naming the file, the column and the row. The table's size is checked from the footer
/// before anything is allocated.
/// </summary>
public static class ParquetTable
{
    /// <summary>The most values (rows × columns) a table may hold: 2²⁸ floats, 1 GB.</summary>
    public const long MaxValues = 1L << 28;

    /// <summary>Reads the file into a (rows, columns) tensor.</summary>
    /// <param name="path">A .parquet file.</param>
    /// <param name="columns">Only these columns (names or 0-based indices), in this order.</param>
    /// <param name="drop">Leave these out (names or indices), e.g. an id or a label.</param>
    /// <exception cref="DataFormatException">Not a Parquet file, an unknown or non-numeric column, a null, no rows, or more than <see cref="MaxValues"/> values.</exception>
    public static Tensor Read(string path, IReadOnlyList<string>? columns = null, IReadOnlyList<string>? drop = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            // The footer is checked before Parquet.Net parses it, and its reads past the end are errors; no input of
            // the fuzzer's million makes it spin any more. The deadline stays in case another damage does: past it
            // the file is refused, and the reading thread is left to finish or spin until the process exits.
            long length = File.Exists(path) ? new FileInfo(path).Length : 0;
            var deadline = TimeSpan.FromSeconds(5 + 2.0 * length / (1 << 20));
            var read = Task.Run(() => ReadAsync(path, columns, drop));
            bool done;
            try
            {
                done = read.Wait(deadline);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
                throw;
            }
            if (!done)
                throw new DataFormatException(path, $"Parquet.Net did not finish reading it in {deadline.TotalSeconds:F0} s; a damaged page makes its decoder run without end.");
            return read.Result;
        }
        catch (Exception e) when (e is not (DataFormatException or OutOfMemoryException or FileNotFoundException or UnauthorizedAccessException or DirectoryNotFoundException))
        {
            throw new DataFormatException(path, $"is not a readable Parquet file ({SafeText.Printable(e.Message)}).");
        }
    }

    private static async Task<Tensor> ReadAsync(string path, IReadOnlyList<string>? columns, IReadOnlyList<string>? drop)
    {
        await using var file = InputFile.OpenRead(path);
        CheckFooter(file, path);
        // Parquet.Net reads a page header byte by byte and a page until its declared size has arrived, without
        // looking for the end: on a damaged page either retried at the end for ever (found by the fuzzer).
        await using var stream = new EndCheckedStream(file);
        await using var reader = await ParquetReader.CreateAsync(stream);
        var fields = reader.Schema.GetDataFields();
        var names = fields.Select(f => f.Name).ToArray();
        if (fields.Length == 0) throw new DataFormatException(path, "has no columns.");
        int[] keep = Csv.Select(path, names, names.Length, columns, drop);
        foreach (int c in keep)
        {
            var f = fields[c];
            if (f.IsArray || f.Path.ToList().Count > 1)
                throw new DataFormatException(path, $"column '{SafeText.Printable(f.Name)}' is nested (a list or a struct); only flat numeric columns are read.");
            if (!IsNumeric(f.ClrType))
                throw new DataFormatException(path, $"column '{SafeText.Printable(f.Name)}' holds {Describe(f.ClrType)}, not numbers: leave it out with --drop (or choose --columns).");
        }
        long rows = 0, unpacked = 0, allowance = 32 * stream.Length + (64L << 20);
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            if (rg.RowCount < 0) throw new DataFormatException(path, $"row group {g} says it has {rg.RowCount} rows.");
            rows += rg.RowCount;
            // What the chosen columns expand to, from the footer, before a page is decompressed: a small file may not
            // claim gigabytes (32 times its size and 64 MB are allowed; real tables compress far less).
            foreach (int c in keep)
            {
                long size = rg.GetMetadata(fields[c])?.MetaData?.TotalUncompressedSize ?? 0;
                if (size < 0 || (unpacked += size) > allowance)
                    throw new DataFormatException(path, $"its columns say they expand to {Math.Max(size, unpacked):N0} bytes or more, more than a file of {stream.Length:N0} bytes may expand to here ({allowance:N0}).");
            }
        }
        if (rows == 0) throw new DataFormatException(path, "no data rows.");
        if (rows * keep.Length > MaxValues)
            throw new DataFormatException(path, $"holds {rows:N0} rows × {keep.Length} columns, more than the {MaxValues:N0} values Latent reads into memory at once.");
        var data = new float[rows * keep.Length];
        long start = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            int n = checked((int)rg.RowCount);
            for (int k = 0; k < keep.Length; k++)
            {
                var f = fields[keep[k]];
                var values = await ReadColumn(rg, f, n);
                for (int i = 0; i < n; i++)
                {
                    if (values[i] is not float v)
                        throw new DataFormatException(path, $"column '{SafeText.Printable(f.Name)}', row {start + i}: null (missing values are not filled in; remove or impute them first).");
                    if (!float.IsFinite(v))
                        throw new DataFormatException(path, $"column '{SafeText.Printable(f.Name)}', row {start + i}: {v} is not a finite number.");
                    data[(start + i) * keep.Length + k] = v;
                }
            }
            start += n;
        }
        return Tensor.FromArray(data, checked((int)rows), keep.Length);
    }

    /// <summary>
    /// Checks the footer's structure before Parquet.Net parses it: the footer (its length in the 4 bytes before the
    /// closing "PAR1") must be exactly one well-formed Thrift compact struct whose every list, set, map and string fits
    /// in the bytes that remain. A damaged footer that declares billions of list elements made the parser run for ever (found
    /// by the fuzzer); no count it accepts here can outrun the footer's own length.
    /// </summary>
    private static void CheckFooter(FileStream stream, string path)
    {
        long length = stream.Length;
        if (length < 12) throw new DataFormatException(path, $"is {length} bytes long, too short for a Parquet file.");
        Span<byte> tail = stackalloc byte[8];
        stream.Seek(-8, SeekOrigin.End);
        stream.ReadExactly(tail);
        if (!tail[4..].SequenceEqual("PAR1"u8)) throw new DataFormatException(path, "does not end with PAR1: not a Parquet file.");
        long footer = BitConverter.ToUInt32(tail);
        if (footer == 0 || footer > length - 12) throw new DataFormatException(path, $"declares a footer of {footer:N0} bytes in a file of {length:N0}.");
        var bytes = new byte[footer];
        stream.Seek(length - 8 - footer, SeekOrigin.Begin);
        stream.ReadExactly(bytes);
        stream.Seek(0, SeekOrigin.Begin);
        int at = 0;
        try
        {
            Thrift.SkipStruct(bytes, ref at, depth: 0);
            if (at != bytes.Length) throw new FormatException($"the footer's structure ends {bytes.Length - at} bytes early");
        }
        catch (FormatException e)
        {
            throw new DataFormatException(path, $"has a damaged footer ({e.Message} at byte {at} of {footer}).");
        }
    }

    /// <summary>A bounds-checking walk over Thrift's compact protocol (what Parquet's footer is written in).</summary>
    private static class Thrift
    {
        private const int MaxDepth = 64;

        private static ulong Varint(byte[] b, ref int at)
        {
            ulong v = 0;
            for (int shift = 0; shift < 70; shift += 7)
            {
                if (at >= b.Length) throw new FormatException("a number runs past the end");
                byte x = b[at++];
                v |= (ulong)(x & 0x7F) << shift;
                if ((x & 0x80) == 0) return v;
            }
            throw new FormatException("a number longer than 10 bytes");
        }

        private static int Count(byte[] b, ref int at, ulong count, int minBytesEach)
        {
            if (count > (ulong)(b.Length - at) / (ulong)Math.Max(1, minBytesEach))
                throw new FormatException($"a collection of {count:N0} elements in {b.Length - at} bytes");
            return (int)count;
        }

        public static void SkipStruct(byte[] b, ref int at, int depth)
        {
            if (depth > MaxDepth) throw new FormatException("structures nested too deep");
            while (true)
            {
                if (at >= b.Length) throw new FormatException("a structure runs past the end");
                byte header = b[at++];
                if (header == 0) return;                 // STOP
                if (header >> 4 == 0) Varint(b, ref at);  // a field id written in full
                SkipValue(b, ref at, header & 0x0F, depth, inField: true);
            }
        }

        private static void SkipValue(byte[] b, ref int at, int type, int depth, bool inField)
        {
            switch (type)
            {
                case 1 or 2:                             // a boolean: in a field, its type is its value
                    if (!inField) Take(b, ref at, 1);
                    return;
                case 3: Take(b, ref at, 1); return;      // byte
                case 4 or 5 or 6: Varint(b, ref at); return;
                case 7: Take(b, ref at, 8); return;      // double
                case 8:                                  // binary / string
                    Take(b, ref at, Count(b, ref at, Varint(b, ref at), 1));
                    return;
                case 9 or 10:                            // list, set
                {
                    if (at >= b.Length) throw new FormatException("a list header runs past the end");
                    byte h = b[at++];
                    ulong size = (ulong)(h >> 4);
                    if (size == 15) size = Varint(b, ref at);
                    int n = Count(b, ref at, size, 1);
                    for (int i = 0; i < n; i++) SkipValue(b, ref at, h & 0x0F, depth + 1, inField: false);
                    return;
                }
                case 11:                                 // map
                {
                    int n = Count(b, ref at, Varint(b, ref at), 2);
                    if (n == 0) return;
                    if (at >= b.Length) throw new FormatException("a map header runs past the end");
                    byte kv = b[at++];
                    for (int i = 0; i < n; i++)
                    {
                        SkipValue(b, ref at, kv >> 4, depth + 1, inField: false);
                        SkipValue(b, ref at, kv & 0x0F, depth + 1, inField: false);
                    }
                    return;
                }
                case 12: SkipStruct(b, ref at, depth + 1); return;
                default: throw new FormatException($"an unknown value type {type}");
            }
        }

        private static void Take(byte[] b, ref int at, int n)
        {
            if (n > b.Length - at) throw new FormatException("a value runs past the end");
            at += n;
        }
    }

    private static readonly Type[] Numeric =
        [typeof(float), typeof(double), typeof(decimal), typeof(int), typeof(long), typeof(short), typeof(sbyte), typeof(byte), typeof(ushort), typeof(uint), typeof(ulong)];

    private static string Describe(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(string) || t == typeof(ReadOnlyMemory<char>)) return "text";
        if (t == typeof(byte[])) return "bytes";
        if (t == typeof(bool)) return "true/false values";
        if (t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(DateOnly) || t == typeof(TimeOnly) || t == typeof(TimeSpan)) return "dates or times";
        return $"{t.Name} values";
    }

    private static bool IsNumeric(Type t) => Numeric.Contains(Nullable.GetUnderlyingType(t) ?? t);

    /// <summary>One column of a row group as floats, null where the file has a null.</summary>
    private static ValueTask<float?[]> ReadColumn(ParquetRowGroupReader rg, DataField f, int n)
    {
        var t = Nullable.GetUnderlyingType(f.ClrType) ?? f.ClrType;
        return t switch
        {
            _ when t == typeof(float) => Read<float>(rg, f, n),
            _ when t == typeof(double) => Read<double>(rg, f, n),
            _ when t == typeof(decimal) => Read<decimal>(rg, f, n),
            _ when t == typeof(int) => Read<int>(rg, f, n),
            _ when t == typeof(long) => Read<long>(rg, f, n),
            _ when t == typeof(short) => Read<short>(rg, f, n),
            _ when t == typeof(sbyte) => Read<sbyte>(rg, f, n),
            _ when t == typeof(byte) => Read<byte>(rg, f, n),
            _ when t == typeof(ushort) => Read<ushort>(rg, f, n),
            _ when t == typeof(uint) => Read<uint>(rg, f, n),
            _ => Read<ulong>(rg, f, n),
        };
    }

    private static async ValueTask<float?[]> Read<T>(ParquetRowGroupReader rg, DataField f, int n) where T : struct, INumberBase<T>
    {
        var result = new float?[n];
        if (f.IsNullable)
        {
            var buffer = new T?[n];
            await rg.ReadAsync(f, buffer.AsMemory());
            for (int i = 0; i < n; i++) result[i] = buffer[i] is T v ? float.CreateSaturating(v) : null;
        }
        else
        {
            var buffer = new T[n];
            await rg.ReadAsync(f, buffer.AsMemory());
            for (int i = 0; i < n; i++) result[i] = float.CreateSaturating(buffer[i]);
        }
        return result;
    }
}
