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

    /// <summary>Sequences (timesteps = ImageHeight, features = ImageWidth) rather than images.</summary>
    public bool IsSequence { get; init; }

    /// <summary>The value padded steps hold after scaling (<see cref="FeatureScaler.ScaledPadding"/>) when the run masks padding; else null.</summary>
    public float? Padding { get; init; }

    /// <summary>The per-feature scaling applied to a sequence file (fitted on its training part, or the run's), or null.</summary>
    public FeatureScaler? Scaler { get; init; }

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
    /// .npy file (values outside [0, 1] scaled by 1/255 when they look like bytes, integers in 0–255, else by the
    /// global min and max), or a .csv or .parquet table (each column scaled on its own, min-max or standard by
    /// <paramref name="scaling"/>, fitted on the training part unless <paramref name="scaler"/> is given); the last 10%
    /// of a file or folder becomes the test set. <paramref name="legacyTableScaling"/> scales a table globally, as runs
    /// made before per-column scaling were trained.
    /// </summary>
    public static DataSource Load(string dataset, IProgress<(string File, long Done, long? Total)>? progress, int imageSize = 0, int channels = 1,
                                  TableOptions? table = null, int timesteps = -1, FeatureScaler? scaler = null, double? maskValue = null,
                                  FeatureScaling scaling = FeatureScaling.MinMax, bool legacyTableScaling = false)
    {
        table ??= new TableOptions();
        if (timesteps >= 0) return LoadSequences(dataset, progress, timesteps, table, scaler, maskValue);
        if ((table.Columns is not null || table.Drop is not null) && !IsTable(dataset))
            throw new ArgumentException($"--columns and --drop apply to a .csv or .parquet file; '{dataset}' is not one.");
        if (table.Header != "auto" && !dataset.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--header applies to a .csv file; '{dataset}' is not one.");
        if (scaling != FeatureScaling.MinMax && !IsTable(dataset))
            throw new ArgumentException($"--scaling applies to a .csv or .parquet table; '{dataset}' is not one.");
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
            var (train, test) = HoldOut(images);
            return new DataSource(Path.GetFileName(Path.TrimEndingDirectorySeparator(dataset)), train, test, h, w, $"{images.Rows} images", channels);
        }
        if (!File.Exists(dataset))
            throw new FileNotFoundException($"Dataset '{dataset}' is neither mnist, fashion-mnist, a folder of images nor an existing .npy/.csv/.parquet file.");
        Tensor all = ReadArray(dataset, table);
        if (all.Rank < 2)
            throw new DataFormatException(dataset, $"holds a 1-D array of {all.Length} values; expected (samples, features, …). " +
                                                   "Save it as (N, 1) if each value is a sample, or (1, N) if it is one sample.");
        all = all.Reshape(all.Rows, all.RowSize);
        if (all.Rows < 2) throw new DataFormatException(dataset, $"needs at least 2 samples, found {all.Rows}.");
        FeatureScaler? columns = null;
        if (IsTable(dataset) && !legacyTableScaling)
        {
            // A table's columns are in their own units: each is scaled on its own, fitted on the training part, and
            // the scaling is kept with the run so new rows are scaled alike.
            columns = scaler ?? FeatureScaler.Fit(HoldOut(all).Train, kind: scaling);
            if (columns.Features != all.RowSize)
                throw new DataFormatException(dataset, $"has {all.RowSize} columns; the run was trained on {columns.Features}.");
            columns.Transform(all);
        }
        else Scaling.ToUnitRange(all);
        var (trainRows, testRows) = HoldOut(all);
        var (height, width) = ImageShape(all.RowSize);   // 784 values a row are still drawn as 28 × 28
        return new DataSource(Path.GetFileName(dataset), trainRows, testRows, height, width, FileChecksum(dataset)) { Scaler = columns };
    }

    /// <summary>(side, side) for a square number of values a sample, else one row of them: how flat samples are drawn.</summary>
    public static (int Height, int Width) ImageShape(int size)
    {
        int side = (int)Math.Round(Math.Sqrt(size));
        return side * side == size ? (side, side) : (1, size);
    }

    /// <summary>An .npy array, or a CSV or Parquet table (read with <paramref name="table"/>'s header and column rules).</summary>
    private static Tensor ReadArray(string dataset, TableOptions table)
    {
        string ext = Path.GetExtension(dataset).ToLowerInvariant();
        return ext switch
        {
            ".npy" => Npy.Read(dataset),
            ".csv" => Csv.Read(dataset, table.HeaderMode, TableOptions.Split(table.Columns), TableOptions.Split(table.Drop)),
            ".parquet" => ParquetTable.Read(dataset, TableOptions.Split(table.Columns), TableOptions.Split(table.Drop)),
            _ => throw new DataFormatException(dataset, $"unknown extension '{ext}'; expected .npy, .csv or .parquet."),
        };
    }

    /// <summary>Whether <paramref name="dataset"/> is a .csv or .parquet table (scaled column by column).</summary>
    public static bool IsTable(string dataset) =>
        dataset.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || dataset.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first 90% of the rows for training, the last 10% (at least one) for testing.</summary>
    private static (Tensor Train, Tensor Test) HoldOut(Tensor all)
    {
        int test = Math.Max(1, all.Rows / 10);
        return (all.SliceRows(0, all.Rows - test), all.SliceRows(all.Rows - test, test));
    }

    private static string FileChecksum(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Shape(Tensor t) => "(" + string.Join(", ", t.Shape) + ")";

    /// <summary>
    /// Sequences for a recurrent model: "mnist-rows" / "fashion-mnist-rows" (each image's 28 rows as 28 steps of 28
    /// features), a 3-D .npy (N, T, F), or a 2-D .npy or CSV with one sequence per row cut into
    /// <paramref name="timesteps"/> steps (0: from a 3-D file). Each feature is min-max scaled by
    /// <paramref name="scaler"/>, or by one fitted on the training part (the first 90%).
    /// </summary>
    private static DataSource LoadSequences(string dataset, IProgress<(string File, long Done, long? Total)>? progress, int timesteps,
                                            TableOptions table, FeatureScaler? scaler, double? maskValue)
    {
        if (dataset is "mnist-rows" or "fashion-mnist-rows")
        {
            if (maskValue is not null) throw new ArgumentException($"--mask-value marks the padding of variable-length sequences in a file; {dataset} has none.");
            if (timesteps is not (0 or 28)) throw new ArgumentException($"{dataset} has 28 steps (an image's rows); received --timesteps {timesteps}.");
            var images = Load(dataset[..^"-rows".Length], progress);
            return images with { Name = dataset, IsSequence = true };
        }
        if (!File.Exists(dataset))
            throw new FileNotFoundException($"Sequence dataset '{dataset}' is neither mnist-rows, fashion-mnist-rows nor an existing .npy/.csv file.");
        Tensor all = ReadArray(dataset, table);
        if (all.Rank == 3)
        {
            if (timesteps != 0 && timesteps != all.Shape[1])
                throw new DataFormatException(dataset, $"holds sequences of {all.Shape[1]} steps (shape {Shape(all)}); --timesteps says {timesteps}.");
        }
        else if (all.Rank == 2)
        {
            if (timesteps <= 0)
                throw new DataFormatException(dataset, $"holds a table of shape {Shape(all)}: pass --timesteps T to cut each row into T steps of {all.Shape[1]}/T features.");
            if (all.Shape[1] % timesteps != 0)
                throw new DataFormatException(dataset, $"has {all.Shape[1]} values per row, which {timesteps} steps do not divide: each row must be T·F values (step by step, features innermost).");
            all = all.Reshape(all.Rows, timesteps, all.Shape[1] / timesteps);
        }
        else throw new DataFormatException(dataset, $"holds an array of shape {Shape(all)}; expected sequences (N, T, F), or rows (N, T·F) with --timesteps.");
        if (all.Rows < 2) throw new DataFormatException(dataset, $"needs at least 2 sequences, found {all.Rows}.");
        try
        {
            scaler ??= FeatureScaler.Fit(HoldOut(all).Train, maskValue);
            scaler.Transform(all, maskValue);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(dataset, e.Message);
        }
        var (trainSeq, testSeq) = HoldOut(all);
        return new DataSource(Path.GetFileName(dataset), trainSeq, testSeq, all.Shape[1], all.Shape[2], FileChecksum(dataset))
            { IsSequence = true, Scaler = scaler, Padding = maskValue is null ? null : FeatureScaler.ScaledPadding };
    }
}
