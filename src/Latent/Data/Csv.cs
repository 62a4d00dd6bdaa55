using System.Globalization;
using nietras.SeparatedValues;

namespace Latent.Data;

/// <summary>Whether a CSV file's first row names its columns.</summary>
public enum CsvHeader
{
    /// <summary>
    /// The stated rule: the first row is a header when every one of its fields is non-empty and none parses as a
    /// number. A first row with an empty field or a number is data (an empty field is then an error, not a header).
    /// </summary>
    Auto,
    /// <summary>The first row names the columns.</summary>
    Yes,
    /// <summary>Every row is data.</summary>
    No,
}

/// <summary>
/// Numeric tables from CSV through Sep (quoted fields, the separator detected from the first row: comma,
/// semicolon, tab, pipe), one sample per row, every row the same length. Columns can be chosen or dropped by header
/// name or 0-based index. Every error names the file, the line and the column.
/// </summary>
public static class Csv
{
    /// <summary>Reads the file into a (rows, columns) tensor.</summary>
    /// <param name="columns">Only these columns (names with a header, or 0-based indices), in this order.</param>
    /// <param name="drop">Leave these out (names or indices), e.g. an id column.</param>
    /// <exception cref="DataFormatException">An empty or non-numeric value, rows of different lengths, an unknown column, or no data.</exception>
    public static Tensor Read(string path, CsvHeader header = CsvHeader.Auto, IReadOnlyList<string>? columns = null, IReadOnlyList<string>? drop = null)
    {
        InputFile.RequireRegular(path);
        using var reader = Sep.Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).FromFile(path);
        var values = new List<float>();
        string[]? names = null;
        int[]? keep = null;
        int width = -1, rows = 0, line = 0;
        foreach (var row in reader)
        {
            line++;
            int count = row.ColCount;
            if (count == 1 && row[0].Span.Trim().IsEmpty) continue;   // a blank line
            if (line == 1 && header != CsvHeader.No)
            {
                bool looksLikeHeader = true;
                for (int c = 0; c < count && looksLikeHeader; c++)
                {
                    var f = row[c].Span.Trim();
                    looksLikeHeader = !f.IsEmpty && !float.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
                }
                if (header == CsvHeader.Yes || looksLikeHeader)
                {
                    names = new string[count];
                    for (int c = 0; c < count; c++) names[c] = row[c].ToString().Trim();
                    width = count;
                    keep = Select(path, names, count, columns, drop);
                    continue;
                }
            }
            if (width >= 0 && count != width)
                throw new DataFormatException(path, $"line {line} has {count} values, {(names is null ? "earlier lines have" : "the header names")} {width}.");
            width = count;
            keep ??= Select(path, null, count, columns, drop);
            foreach (int c in keep)
            {
                var f = row[c].Span.Trim();
                if (f.IsEmpty)
                    throw new DataFormatException(path, $"line {line}, column {ColumnName(names, c)}: empty value (missing values are not filled in; remove or impute them first).");
                if (!float.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                    throw new DataFormatException(path, $"line {line}, column {ColumnName(names, c)}: '{SafeText.Printable(f[..Math.Min(f.Length, 40)].ToString())}' is not a finite number" +
                                                        (line == 1 ? " (pass --header yes if the first line names the columns)." : "."));
                values.Add(v);
            }
            rows++;
        }
        if (rows == 0) throw new DataFormatException(path, "no data rows.");
        return Tensor.FromArray([.. values], rows, keep!.Length);
    }

    private static string ColumnName(string[]? names, int c) =>
        names is null ? c.ToString(CultureInfo.InvariantCulture) : $"{c} ('{SafeText.Printable(names[c])}')";

    /// <summary>The column indices to read: <paramref name="columns"/> if given, else all, minus <paramref name="drop"/>.</summary>
    internal static int[] Select(string path, string[]? names, int count, IReadOnlyList<string>? columns, IReadOnlyList<string>? drop)
    {
        int Index(string key)
        {
            if (names is not null && Array.IndexOf(names, key) is int n and >= 0) return n;
            if (int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < count) return i;
            throw new DataFormatException(path, $"no column '{SafeText.Printable(key)}': " +
                (names is null ? $"without a header, columns are 0-based indices below {count}." : $"the header names {string.Join(", ", names.Select(SafeText.Printable))}."));
        }
        var chosen = columns is { Count: > 0 } ? columns.Select(Index).ToList() : Enumerable.Range(0, count).ToList();
        if (drop is { Count: > 0 })
        {
            var gone = drop.Select(Index).ToHashSet();
            chosen.RemoveAll(gone.Contains);
        }
        if (chosen.Count == 0) throw new DataFormatException(path, "no columns left to read.");
        return [.. chosen];
    }
}
