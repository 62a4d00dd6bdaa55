namespace Latent.Datasets;

/// <summary>
/// MNIST handwritten digits (LeCun, Cortes &amp; Burges), as Keras's <c>mnist.load_data()</c> then scaled the
/// notebook's way: 60,000 training and 10,000 test images, float32 in [0, 1], and their labels 0–9.
/// </summary>
public static class Mnist
{
    /// <summary>The four files, with the SHA-256 of their uncompressed content.</summary>
    public static IReadOnlyList<DatasetFile> Files { get; } =
    [
        File("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47040016),
        File("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60008),
        File("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7840016),
        File("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10008),
    ];

    private static DatasetFile File(string name, string sha, long size) => new(name, sha, size,
    [
        $"https://ossci-datasets.s3.amazonaws.com/mnist/{name}.gz",
        $"https://storage.googleapis.com/cvdf-datasets/mnist/{name}.gz",
    ]);

    /// <summary>Loads MNIST as float32 in [0, 1] (188 MB for the training images), fetching and verifying the files into the cache if needed.</summary>
    /// <param name="flatten">(N, 784) when true (the notebook's layout), else (N, 28, 28, 1).</param>
    /// <param name="progress">Download progress, if a download happens.</param>
    /// <remarks>If the IDX files cannot be had but the cache holds Keras's <c>mnist.npz</c>, that is used (after the same content check).</remarks>
    public static (Tensor XTrain, int[] YTrain, Tensor XTest, int[] YTest) Load(
        bool flatten = true, IProgress<(string File, long Done, long? Total)>? progress = null) =>
        ImageDataset.ToFloats(LoadBytes(flatten, progress));

    /// <summary>
    /// Loads MNIST as its bytes (47 MB for the training images), read as value / 255 — the same numbers as
    /// <see cref="Load"/> — by <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>, which convert each batch as they go.
    /// </summary>
    /// <inheritdoc cref="Load" path="/param"/>
    public static (ByteTensor XTrain, int[] YTrain, ByteTensor XTest, int[] YTest) LoadBytes(
        bool flatten = true, IProgress<(string File, long Done, long? Total)>? progress = null)
    {
        try
        {
            return ImageDataset.Load("mnist", [.. Files], [], flatten, progress);
        }
        catch (IOException) when (System.IO.File.Exists(Path.Combine(DatasetStore.Root, "mnist", "mnist.npz")))
        {
            return LoadNpzBytes(Path.Combine(DatasetStore.Root, "mnist", "mnist.npz"), flatten);
        }
    }

    /// <summary>SHA-256 of the pixel and label bytes (no header) of x_train, y_train, x_test, y_test: the check for an .npz copy.</summary>
    private static readonly string[] ContentSha256 =
    [
        "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    ];

    /// <summary>
    /// Loads Keras's <c>mnist.npz</c> (arrays x_train, y_train, x_test, y_test of uint8), checking that its
    /// pixels and labels are byte for byte those of the original IDX files.
    /// </summary>
    /// <exception cref="Data.DataFormatException">Missing arrays, wrong shapes, or content that differs from MNIST.</exception>
    public static (Tensor XTrain, int[] YTrain, Tensor XTest, int[] YTest) LoadNpz(string path, bool flatten = true) =>
        ImageDataset.ToFloats(LoadNpzBytes(path, flatten));

    private static (ByteTensor XTrain, int[] YTrain, ByteTensor XTest, int[] YTest) LoadNpzBytes(string path, bool flatten)
    {
        var arrays = Data.Npz.Read(path);
        string[] names = ["x_train", "y_train", "x_test", "y_test"];
        int[][] shapes = [[60000, 28, 28], [60000], [10000, 28, 28], [10000]];
        var bytes = new byte[4][];
        for (int i = 0; i < 4; i++)
        {
            if (!arrays.TryGetValue(names[i], out var t))
                throw new Data.DataFormatException(path, $"has no array '{names[i]}' (found: {string.Join(", ", arrays.Keys)}).");
            if (!t.Shape.SequenceEqual(shapes[i]))
                throw new Data.DataFormatException(path, $"'{names[i]}' has shape {ShapeUtil.Format(t.Shape.ToArray())}, MNIST's is {ShapeUtil.Format(shapes[i])}.");
            bytes[i] = new byte[t.Length];
            var span = t.Span;
            for (int k = 0; k < span.Length; k++)
            {
                float v = span[k];
                if (v < 0 || v > 255 || v != MathF.Floor(v)) throw new Data.DataFormatException(path, $"'{names[i]}' holds {v}, not a byte.");
                bytes[i][k] = (byte)v;
            }
            string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes[i]));
            if (hash != ContentSha256[i])
                throw new Data.DataFormatException(path, $"'{names[i]}' differs from MNIST (SHA-256 {hash}).");
        }
        ByteTensor Images(byte[] b, int n) => flatten ? new ByteTensor(b, 255f, n, 784) : new ByteTensor(b, 255f, n, 28, 28, 1);
        return (Images(bytes[0], 60000), bytes[1].Select(b => (int)b).ToArray(), Images(bytes[2], 10000), bytes[3].Select(b => (int)b).ToArray());
    }
}
