using System.IO.Compression;

namespace Latent.Data;

/// <summary>NumPy's .npz: a zip archive of .npy arrays (Keras's <c>mnist.npz</c> holds x_train, y_train, x_test, y_test).</summary>
public static class Npz
{
    /// <summary>Reads every array, keyed by its name without ".npy".</summary>
    /// <exception cref="DataFormatException">Not a zip archive, or an entry that is not a valid .npy.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        try
        {
            InputFile.RequireRegular(path);
            using var zip = ZipFile.OpenRead(path);
            var result = new Dictionary<string, Tensor>();
            long budget = new FileInfo(path).Length + Idx.DecompressionAllowance, declared = 0;
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                declared += entry.Length;
                if (declared > budget)
                    throw new DataFormatException(path, $"its arrays expand to {declared:N0} bytes or more, more than an archive of its size may expand to here ({budget:N0}).");
                using var stream = entry.Open();
                result[entry.FullName[..^4]] = Npy.Read(stream, entry.Length, $"{path}:{entry.FullName}", out _);
            }
            return result;
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"not a readable .npz (zip) archive: {e.Message}");
        }
    }
}
