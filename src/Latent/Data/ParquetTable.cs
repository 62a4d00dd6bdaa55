using System.Numerics;
using Parquet;
using Parquet.Schema;

namespace Latent.Data;

/// <summary>
/// Numeric tables from Apache Parquet files (through Parquet.Net): one sample per row, the chosen columns as features.
/// Integer, floating-point and decimal columns are read as float; a null, a text column that is not left out, or a
/// nested column is an error naming the file, the column and the row. The footer and the page headers are checked
/// (<see cref="ParquetThrift"/>) before Parquet.Net reads them, and the table's size before anything is allocated.
/// </summary>
public static class ParquetTable
{
    /// <summary>The most values (rows × columns) a table may hold: 2²⁸ floats, 1 GB.</summary>
    public const long MaxValues = 1L << 28;

    /// <summary>
    /// What a file may expand to: pages decompressed, the table as floats. 32 times its size (real tables compress
    /// far less) and 48 MB, so that a small damaged file refused after its pages are unpacked stays within its size
    /// and 64 MB in all.
    /// </summary>
    private static long Allowance(long fileLength) => 32 * fileLength + (48L << 20);

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
            // The footer and every page header are walked the way Parquet.Net reads them before it does, and its reads
            // past the end are errors. The deadline stays for damage nobody has found yet: past it the file is refused,
            // and the reading thread is left to finish or spin until the process exits.
            long length = File.Exists(path) ? new FileInfo(path).Length : 0;
            var deadline = TimeSpan.FromSeconds(5 + 2.0 * length / (1 << 20));
            // On a thread of its own, not the pool's: with the pool busy (a t-SNE beside it), a queued read could use
            // up its deadline before it started, and a valid file would be refused.
            var read = Task.Factory.StartNew(() => ReadAsync(path, columns, drop).GetAwaiter().GetResult(), CancellationToken.None,
                                             TaskCreationOptions.LongRunning, TaskScheduler.Default);
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
        long dataEnd = CheckFooter(file, path);
        // Parquet.Net reads a page header byte by byte and a page until its declared size has arrived, without
        // looking for the end: on a damaged page either retried at the end for ever (found by the fuzzer).
        await using var stream = new EndCheckedStream(file);
        await using var reader = await ParquetReader.CreateAsync(stream);
        stream.Limit = CheckPages(file, reader.Metadata ?? throw new DataFormatException(path, "has no metadata."), dataEnd, Allowance(file.Length), path);
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
        long rows = 0, unpacked = 0, allowance = Allowance(stream.Length);
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            if (rg.RowCount < 0) throw new DataFormatException(path, $"row group {g} says it has {rg.RowCount} rows.");
            rows += rg.RowCount;
            // What the chosen columns expand to, from the footer, before a page is decompressed: a small file may not
            // claim gigabytes (32 times its size and 48 MB are allowed; real tables compress far less).
            foreach (int c in keep)
            {
                long values = rg.GetMetadata(fields[c])?.MetaData?.NumValues ?? -1;
                if (values != rg.RowCount)
                    throw new DataFormatException(path, $"row group {g}: column '{SafeText.Printable(fields[c].Name)}' holds {values:N0} values for {rg.RowCount:N0} rows.");
                long size = rg.GetMetadata(fields[c])?.MetaData?.TotalUncompressedSize ?? 0;
                if (size < 0 || (unpacked += size) > allowance)
                    throw new DataFormatException(path, $"its columns say they expand to {Math.Max(size, unpacked):N0} bytes or more, more than a file of {stream.Length:N0} bytes may expand to here ({allowance:N0}).");
            }
        }
        if (rows == 0) throw new DataFormatException(path, "no data rows.");
        if (rows * keep.Length > MaxValues)
            throw new DataFormatException(path, $"holds {rows:N0} rows × {keep.Length} columns, more than the {MaxValues:N0} values Latent reads into memory at once.");
        // Run-length encoding packs millions of values in a few bytes: the table, as floats, is held to the same
        // allowance as the pages' sizes (the rule .npz files follow).
        if (rows * keep.Length * sizeof(float) > allowance)
            throw new DataFormatException(path, $"holds {rows:N0} rows × {keep.Length} columns, {rows * keep.Length * sizeof(float):N0} bytes as floats, more than a file of {stream.Length:N0} bytes may expand to here ({allowance:N0}).");
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
    /// Checks the footer before Parquet.Net parses it: its length (in the 4 bytes before the closing "PAR1") must fit the
    /// file, and Parquet.Net's own reading of it (<see cref="ParquetThrift"/>) must stay inside it and take all of it,
    /// every list and string it sizes fitting in the bytes that remain. Returns where the data ends (the footer starts).
    /// </summary>
    private static long CheckFooter(FileStream stream, string path)
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
        try
        {
            ParquetThrift.CheckFooter(bytes);
        }
        catch (FormatException e)
        {
            throw new DataFormatException(path, $"has a damaged footer ({e.Message}, in a footer of {footer:N0} bytes).");
        }
        return length - 8 - footer;
    }

    /// <summary>
    /// Checks every page header of every column chunk as Parquet.Net will read it, before it reads one: each header
    /// whole and inside its chunk, each page's bytes inside the chunk, the pages ending exactly where the chunk does,
    /// their value counts adding up to the chunk's, the sizes pages expand to within <paramref name="allowance"/>, and
    /// the chunks one after another from byte 4. Parquet.Net follows pages until it has the values it expects, so a
    /// damaged page can send it on into the next chunk: that one is checked too, and the file ends (for it) where the
    /// last chunk does. Returns that end.
    /// </summary>
    private static long CheckPages(FileStream file, Parquet.Meta.FileMetaData meta, long dataEnd, long allowance, string path)
    {
        var chunks = new List<(long Start, long End)>();
        // Headers are read from a window of up to 1 MB of the file, read again only when a header is not inside it.
        var window = new byte[Math.Min(1 << 20, dataEnd)];
        long windowStart = 0;
        int windowFill = 0;
        void Fill(long at, long end)
        {
            windowStart = at;
            windowFill = (int)Math.Min(end - at, window.Length);
            file.Seek(at, SeekOrigin.Begin);
            file.ReadExactly(window, 0, windowFill);
        }
        // The header at `at`, from at most the bytes up to `end` or 1 MB: from the window when it holds them.
        (int Length, long Type, long Uncompressed, long Compressed, long Values, long Nulls, long LevelBytes) Header(long at, long end)
        {
            if (at < windowStart || at >= windowStart + windowFill) Fill(at, end);
            int offset = (int)(at - windowStart), length = (int)(Math.Min(windowStart + windowFill, end) - at);
            try
            {
                return ParquetThrift.PageHeader(window, offset, length);
            }
            catch (FormatException) when (length < Math.Min(end - at, window.Length))
            {
                Fill(at, end);   // cut short by the window, not by the chunk or 1 MB: read it from its own start
            }
            return ParquetThrift.PageHeader(window, 0, windowFill);
        }
        long unpacked = 0;
        for (int g = 0; g < (meta.RowGroups?.Count ?? 0); g++)
        {
            var columns = meta.RowGroups![g].Columns ?? [];
            for (int c = 0; c < columns.Count; c++)
            {
                string where = $"row group {g}, column chunk {c}";
                var md = columns[c].MetaData ?? throw new DataFormatException(path, $"{where} has no metadata.");
                long start = new[] { md.DictionaryPageOffset ?? 0, md.DataPageOffset, md.IndexPageOffset ?? 0 }.Where(o => o != 0).DefaultIfEmpty(0).Min();
                long end = start + md.TotalCompressedSize;
                if (start < 4 || md.TotalCompressedSize <= 0 || end > dataEnd || end < start)
                    throw new DataFormatException(path, $"{where} says it spans bytes {start:N0} to {start:N0} + {md.TotalCompressedSize:N0}, outside the data (bytes 4 to {dataEnd:N0}).");
                if (md.NumValues is < 0 or > int.MaxValue)
                    throw new DataFormatException(path, $"{where} says it holds {md.NumValues:N0} values.");
                chunks.Add((start, end));
                long values = 0, at = start;
                while (at < end)
                {
                    (int Length, long Type, long Uncompressed, long Compressed, long Values, long Nulls, long LevelBytes) h;
                    try
                    {
                        h = Header(at, end);
                    }
                    catch (FormatException e)
                    {
                        throw new DataFormatException(path, $"{where}: the page header at byte {at:N0} is damaged ({e.Message}).");
                    }
                    long body = at + h.Length;
                    string page = $"{where}: the page at byte {at:N0}";
                    if (h.Type is not (0 or 2 or 3)) throw new DataFormatException(path, $"{page} is of type {h.Type}; only data and dictionary pages are read.");
                    if (h.Compressed < 0 || h.Compressed > end - body)
                        throw new DataFormatException(path, $"{page} says it takes {h.Compressed:N0} bytes, where its chunk has {end - body:N0} left.");
                    if (h.Values < 0) throw new DataFormatException(path, $"{page} has no {(h.Type == 2 ? "dictionary" : "data")} page header, or a negative value count.");
                    if (h.Uncompressed is < 0 or > int.MaxValue)
                        throw new DataFormatException(path, $"{page} says it expands to {h.Uncompressed:N0} bytes.");
                    long declared = h.Uncompressed;
                    // Snappy and Zstandard size their output from the compressed bytes, not from the page header: Snappy
                    // from its preamble (a varint of at most 5 bytes), Zstandard from its frame headers.
                    if (md.Codec is Parquet.Meta.CompressionCodec.SNAPPY or Parquet.Meta.CompressionCodec.ZSTD && h.Compressed > 0)
                    {
                        long skip = h.Type == 3 ? Math.Min(h.LevelBytes, h.Compressed) : 0;
                        var compressed = new byte[md.Codec == Parquet.Meta.CompressionCodec.SNAPPY ? Math.Min(h.Compressed - skip, 16) : h.Compressed - skip];
                        file.Seek(body + skip, SeekOrigin.Begin);
                        file.ReadExactly(compressed);
                        try
                        {
                            declared = Math.Max(declared, md.Codec == Parquet.Meta.CompressionCodec.SNAPPY
                                ? Snappier.Snappy.GetUncompressedLength(compressed)
                                : (long)Math.Min(ZstdSharp.Decompressor.GetDecompressedSize(compressed), long.MaxValue));
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            throw new DataFormatException(path, $"{page}: its {md.Codec} data is damaged ({SafeText.Printable(e.Message)}).");
                        }
                    }
                    // A page's buffer comes from a pool that rounds its size up to a power of two.
                    if (declared > int.MaxValue || (unpacked += (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)declared)) > allowance)
                    {
                        string codec = declared > h.Uncompressed ? $": its {md.Codec} data" : "";
                        throw new DataFormatException(path, $"{page}{codec} says it expands to {declared:N0} bytes; with the pages before it that is more than a file of {file.Length:N0} bytes may expand to here ({allowance:N0}).");
                    }
                    if (h.Type == 2)
                    {
                        if (h.Values > h.Uncompressed) throw new DataFormatException(path, $"{page} says its dictionary holds {h.Values:N0} values in {h.Uncompressed:N0} bytes.");
                    }
                    else
                    {
                        if (h.Values > md.NumValues - values)
                            throw new DataFormatException(path, $"{page} says it holds {h.Values:N0} values, more than the {md.NumValues - values:N0} its chunk has left.");
                        if (h.Nulls < 0 || h.Nulls > h.Values || h.LevelBytes > h.Compressed)
                            throw new DataFormatException(path, $"{page} has {h.Nulls:N0} nulls among {h.Values:N0} values and {h.LevelBytes:N0} bytes of levels in {h.Compressed:N0}.");
                        values += h.Values;
                    }
                    at = body + h.Compressed;
                }
                if (values != md.NumValues)
                    throw new DataFormatException(path, $"{where}: its pages hold {values:N0} values, its metadata says {md.NumValues:N0}.");
            }
        }
        chunks.Sort();
        long next = 4;
        foreach (var (start, end) in chunks)
        {
            if (start != next) throw new DataFormatException(path, $"a column chunk starts at byte {start:N0}, where the one before it ends at {next:N0}.");
            next = end;
        }
        return next;
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
