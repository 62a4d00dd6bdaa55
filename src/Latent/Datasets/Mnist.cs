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

    /// <summary>Loads MNIST, fetching and verifying the files into the cache if needed.</summary>
    /// <param name="flatten">(N, 784) when true (the notebook's layout), else (N, 28, 28, 1).</param>
    /// <param name="progress">Download progress, if a download happens.</param>
    public static (Tensor XTrain, int[] YTrain, Tensor XTest, int[] YTest) Load(
        bool flatten = true, IProgress<(string File, long Done, long? Total)>? progress = null) =>
        ImageDataset.Load("mnist", [.. Files], [], flatten, progress);
}
