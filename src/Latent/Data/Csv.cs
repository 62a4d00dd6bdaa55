using System.Globalization;

namespace Latent.Data;

/// <summary>
/// Numeric CSV: one sample per line, comma-separated, every line the same length. A first line that is not
/// all numbers is taken as a header and skipped.
/// </summary>
public static class Csv
{
    /// <summary>Reads the file into a (rows, columns) tensor.</summary>
    /// <exception cref="DataFormatException">A non-numeric value after the first line, rows of different lengths, or no data.</exception>
    public static Tensor Read(string path)
    {
        var values = new List<float>();
        int columns = -1, rows = 0, lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0) continue;
            var fields = line.Split(',');
            var parsed = new float[fields.Length];
            bool numeric = true;
            for (int i = 0; i < fields.Length && numeric; i++)
                numeric = float.TryParse(fields[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out parsed[i]);
            if (!numeric)
            {
                if (rows == 0 && columns < 0) { columns = fields.Length; continue; } // header
                throw new DataFormatException(path, $"line {lineNumber}: '{line[..Math.Min(line.Length, 60)]}' is not all numbers.");
            }
            if (columns >= 0 && fields.Length != columns)
                throw new DataFormatException(path, $"line {lineNumber} has {fields.Length} values, earlier lines have {columns}.");
            columns = fields.Length;
            values.AddRange(parsed);
            rows++;
        }
        if (rows == 0) throw new DataFormatException(path, "no data rows.");
        return Tensor.FromArray([.. values], rows, columns);
    }
}
