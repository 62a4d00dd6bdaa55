using Latent.Data;

namespace Latent.Datasets;

/// <summary>A 28×28 grayscale data set in IDX files (MNIST and Fashion-MNIST share the layout).</summary>
internal static class ImageDataset
{
    public static (ByteTensor XTrain, int[] YTrain, ByteTensor XTest, int[] YTest) Load(
        string name, DatasetFile[] files, string[] localFolders, bool flatten,
        IProgress<(string File, long Done, long? Total)>? progress)
    {
        var paths = files.Select(f => DatasetStore.Ensure(name, f, localFolders, progress)).ToArray();
        var xTrain = Images(paths[0], flatten);
        var yTrain = Labels(paths[1], xTrain.Rows);
        var xTest = Images(paths[2], flatten);
        var yTest = Labels(paths[3], xTest.Rows);
        return (xTrain, yTrain, xTest, yTest);
    }

    /// <summary>A byte-backed data set as float32 tensors (what <c>Load</c> returns for the notebook's float workflow).</summary>
    public static (Tensor XTrain, int[] YTrain, Tensor XTest, int[] YTest) ToFloats(
        (ByteTensor XTrain, int[] YTrain, ByteTensor XTest, int[] YTest) bytes) =>
        (bytes.XTrain.ToTensor(), bytes.YTrain, bytes.XTest.ToTensor(), bytes.YTest);

    /// <summary>The file's bytes, kept as they are (no copy), read as value / 255.</summary>
    private static ByteTensor Images(string path, bool flatten)
    {
        var idx = Idx.Read(path);
        if (idx.Shape.Length != 3)
            throw new DataFormatException(path, $"expected images of shape (N, rows, cols), found {ShapeUtil.Format(idx.Shape)}.");
        int n = idx.Shape[0], h = idx.Shape[1], w = idx.Shape[2];
        return flatten ? new ByteTensor(idx.Data, 255f, n, h * w) : new ByteTensor(idx.Data, 255f, n, h, w, 1);
    }

    private static int[] Labels(string path, int expected)
    {
        var idx = Idx.Read(path);
        if (idx.Shape.Length != 1 || idx.Shape[0] != expected)
            throw new DataFormatException(path, $"expected {expected} labels, found shape {ShapeUtil.Format(idx.Shape)}.");
        return idx.Data.Select(b => (int)b).ToArray();
    }
}
