namespace Latent.Datasets;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul &amp; Vollgraf, 2017): 28×28 grayscale clothing images in MNIST's layout, float32 in [0, 1].
/// Found in Debian's <c>dataset-fashion-mnist</c> package when installed, else downloaded.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The four files, with the SHA-256 of their uncompressed content.</summary>
    public static IReadOnlyList<DatasetFile> Files { get; } =
    [
        File("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016),
        File("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008),
        File("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016),
        File("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008),
    ];

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static DatasetFile File(string name, string sha, long size) => new(name, sha, size,
    [
        $"https://storage.googleapis.com/tensorflow/tf-keras-datasets/{name}.gz",
    ]);

    /// <summary>Loads Fashion-MNIST as float32 in [0, 1], from the cache, the Debian package or a download.</summary>
    /// <param name="flatten">(N, 784) when true, else (N, 28, 28, 1).</param>
    /// <param name="progress">Download progress, if a download happens.</param>
    public static (Tensor XTrain, int[] YTrain, Tensor XTest, int[] YTest) Load(
        bool flatten = true, IProgress<(string File, long Done, long? Total)>? progress = null) =>
        ImageDataset.ToFloats(LoadBytes(flatten, progress));

    /// <summary>Loads Fashion-MNIST as its bytes, read as value / 255 by <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c> (a quarter of <see cref="Load"/>'s memory).</summary>
    /// <inheritdoc cref="Load" path="/param"/>
    public static (ByteTensor XTrain, int[] YTrain, ByteTensor XTest, int[] YTest) LoadBytes(
        bool flatten = true, IProgress<(string File, long Done, long? Total)>? progress = null) =>
        ImageDataset.Load("fashion-mnist", [.. Files], [DebianFolder], flatten, progress);
}
