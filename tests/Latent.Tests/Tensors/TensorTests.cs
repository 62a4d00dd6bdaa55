namespace Latent.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void FromArrayAndImplicitConversionCopyRowMajor()
    {
        float[,] a = { { 1, 2, 3 }, { 4, 5, 6 } };
        Tensor t = a;
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t.ToArray());
        Assert.Equal(6f, t[1, 2]);
        a[0, 0] = 9;
        Assert.Equal(1f, t[0, 0]); // a copy
        Assert.Equal(a.Length, t.ToArray2D().Length);
        Assert.Equal([4f, 5, 6], t.Row(1).ToArray());
    }

    [Fact]
    public void ReshapeSharesDataAndInfersOneDimension()
    {
        var t = Tensor.FromArray(new float[12], 2, 6);
        var r = t.Reshape(-1, 2, 3);
        Assert.Equal([2, 2, 3], r.Shape);
        r.Span[5] = 7;
        Assert.Equal(7f, t.Span[5]);
        Assert.Throws<ArgumentException>(() => t.Reshape(5, -1));
    }

    [Fact]
    public void BadShapesAndIndicesAreClearErrors()
    {
        Assert.Contains("holds 6 elements", Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[5], 2, 3)).Message);
        Assert.Contains("non-negative", Assert.Throws<ArgumentException>(() => new Tensor(-1, 3)).Message);
        Assert.Contains("more elements", Assert.Throws<ArgumentException>(() => new Tensor(1 << 20, 1 << 20)).Message);
        var t = new Tensor(2, 2);
        Assert.Throws<IndexOutOfRangeException>(() => t[2, 0]);
        Assert.Throws<ArgumentException>(() => t[0]);
    }

    [Fact]
    public void SliceAndGatherRowsCopy()
    {
        var t = Tensor.FromArray([0, 1, 2, 3, 4, 5], 3, 2);
        Assert.Equal([2f, 3, 4, 5], t.SliceRows(1, 2).ToArray());
        Assert.Equal([4f, 5, 0, 1], t.GatherRows([2, 0]).ToArray());
    }
}
