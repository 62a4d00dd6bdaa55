using System.Security.Cryptography;
using Latent.Data;
using Latent.Datasets;

namespace Latent.Cli;

/// <summary>A data set for the tool: train and test images in [0, 1] (MNIST and Fashion-MNIST stay bytes), and a checksum of where they came from.</summary>
/// <summary>How a CSV table is read: the header rule (auto, yes, no) and the columns to keep or drop (comma-separated names or indices).</summary>
internal sealed record TableOptions(string Header = "auto", string? Columns = null, string? Drop = null)
{
    public CsvHeader HeaderMode => Header switch
    {
        "auto" => CsvHeader.Auto,
        "yes" => CsvHeader.Yes,
        "no" => CsvHeader.No,
        _ => throw new ArgumentException($"--header must be auto, yes or no, received '{Header}'."),
    };

    public static string[]? Split(string? list) => list?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}

internal sealed record DataSource(string Name, SampleSet Train, SampleSet Test, int ImageHeight, int ImageWidth, string Checksum, int Channels = 1)
{
    /// <summary>The test set's class labels, for MNIST and Fashion-MNIST; null for the user's files.</summary>
    public int[]? TestLabels { get; init; }

    /// <summary>Names of the classes by label (Fashion-MNIST's), or null for plain numbers.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>The first <paramref name="count"/> test samples (fewer if the test set is smaller) as floats, for figures.</summary>
    public Tensor TestHead(int count)
    {
        int n = Math.Min(count, Test.Rows);
        var head = new Tensor([n, .. Test.Shape.Skip(1)]);
        Test.CopyRows(0, n, head.Span);
        return head;
    }

    /// <summary>
    /// "mnist", "fashion-mnist", a folder of PNG/JPEG images (at their own size, which must be the same for all, or
    /// resized to <paramref name="imageSize"/> squared; grayscale, or RGB with 3 <paramref name="channels"/>), or an
    /// .npy or .csv file; the last 10% of a file or folder becomes the test set. Values outside [0, 1] are scaled: by
    /// 1/255 when they look like bytes (integers in 0–255), else by the global min and max.
    /// </summary>
    public static DataSource Load(string dataset, IProgress<(string File, long Done, long? Total)>? progress, int imageSize = 0, int channels = 1,
                                  TableOptions? table = null)
    {
        table ??= new TableOptions();
        if ((table.Columns is not null || table.Drop is not null || table.Header != "auto") && !dataset.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--header, --columns and --drop apply to a .csv file; '{dataset}' is not one.");
        if (imageSize < 0) throw new ArgumentException($"--image-size must be positive, received {imageSize}.");
        if (channels is not (1 or 3)) throw new ArgumentException($"--channels must be 1 (grayscale) or 3 (RGB), received {channels}.");
        if ((imageSize != 0 || channels != 1) && !Directory.Exists(dataset))
            throw new ArgumentException($"--image-size and --channels apply to a folder of images; '{dataset}' is not one.");
        switch (dataset)
        {
            case "mnist":
            {
                var (x, _, t, labels) = Mnist.LoadBytes(progress: progress);
                return new DataSource("mnist", x, t, 28, 28, string.Join(",", Mnist.Files.Select(f => f.Sha256[..16]))) { TestLabels = labels };
            }
            case "fashion-mnist":
            {
                var (x, _, t, labels) = FashionMnist.LoadBytes(progress: progress);
                return new DataSource("fashion-mnist", x, t, 28, 28, string.Join(",", FashionMnist.Files.Select(f => f.Sha256[..16])))
                    { TestLabels = labels, ClassNames = FashionMnist.ClassNames };
            }
        }
        if (Directory.Exists(dataset))
        {
            // A folder of images; the last 10% (in name order) is the test set.
            var (images, h, w) = imageSize > 0
                ? (ImageFolder.Load(dataset, imageSize, imageSize, channels == 3), imageSize, imageSize)
                : ImageFolder.LoadNative(dataset, channels == 3);
            if (images.Rows < 2) throw new DataFormatException(dataset, $"needs at least 2 images, found {images.Rows}.");
            int held = Math.Max(1, images.Rows / 10);
            return new DataSource(Path.GetFileName(Path.TrimEndingDirectorySeparator(dataset)), images.SliceRows(0, images.Rows - held),
                                  images.SliceRows(images.Rows - held, held), h, w, $"{images.Rows} images", channels);
        }
        if (!File.Exists(dataset))
            throw new FileNotFoundException($"Dataset '{dataset}' is neither mnist, fashion-mnist, a folder of images nor an existing .npy/.csv file.");
        string ext = Path.GetExtension(dataset).ToLowerInvariant();
        Tensor all = ext switch
        {
            ".npy" => Npy.Read(dataset),
            ".csv" => Csv.Read(dataset, table.HeaderMode, TableOptions.Split(table.Columns), TableOptions.Split(table.Drop)),
            _ => throw new DataFormatException(dataset, $"unknown extension '{ext}'; expected .npy or .csv."),
        };
        if (all.Rank < 2)
            throw new DataFormatException(dataset, $"holds a 1-D array of {all.Length} values; expected (samples, features, …). " +
                                                   "Save it as (N, 1) if each value is a sample, or (1, N) if it is one sample.");
        all = all.Reshape(all.Rows, all.RowSize);
        if (all.Rows < 2) throw new DataFormatException(dataset, $"needs at least 2 samples, found {all.Rows}.");
        Scaling.ToUnitRange(all);
        int test = Math.Max(1, all.Rows / 10);
        int side = (int)Math.Round(Math.Sqrt(all.RowSize));
        bool square = side * side == all.RowSize;
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(dataset)));
        return new DataSource(Path.GetFileName(dataset), all.SliceRows(0, all.Rows - test), all.SliceRows(all.Rows - test, test),
                              square ? side : 1, square ? side : all.RowSize, sha);
    }
}
