using Latent.Data;

namespace Latent.Tests.Data;

public class ScalingTests
{
    [Fact]
    public void BytesAreDividedBy255()
    {
        var t = Tensor.FromArray([0, 51, 255, 102], 2, 2);
        Assert.Equal(Scaling.Method.Bytes, Scaling.ToUnitRange(t));
        Assert.Equal([0f, 0.2f, 1f, 0.4f], t.ToArray());
    }

    [Fact]
    public void OtherRangesAreMinMaxScaled()
    {
        var t = Tensor.FromArray([-2, 0, 2, 1.5f], 4);
        Assert.Equal(Scaling.Method.MinMax, Scaling.ToUnitRange(t));
        Assert.Equal([0f, 0.5f, 1f, 0.875f], t.ToArray());
    }

    [Fact]
    public void UnitRangeIsLeftAloneAndNaNIsNamed()
    {
        var t = Tensor.FromArray([0, 0.3f, 1], 3);
        Assert.Equal(Scaling.Method.None, Scaling.ToUnitRange(t));
        Assert.Equal([0f, 0.3f, 1f], t.ToArray());
        var bad = Tensor.FromArray([1, float.NaN, 3, 4], 2, 2);
        Assert.Contains("sample 0, element 1", Assert.Throws<ArgumentException>(() => Scaling.ToUnitRange(bad)).Message);
    }
}
