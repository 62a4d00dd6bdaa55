using Latent.Data;

namespace Latent.Tests.Data;

/// <summary>Per-feature min-max scaling: fitted per last-axis feature, invertible, saved in metadata, and strict about bad input.</summary>
public class FeatureScalerTests
{
    [Fact]
    public void ScalesEachFeatureIntoTheUnitRangeAndBack()
    {
        // (2 sequences, 2 steps, 3 features); feature 2 is constant.
        float[] values = [0, 10, 5, /**/ 2, 30, 5, /**/ 1, 20, 5, /**/ 4, 10, 5];
        var x = Tensor.FromArray((float[])values.Clone(), 2, 2, 3);
        var scaler = FeatureScaler.Fit(x);
        Assert.Equal([0f, 10, 5], scaler.Min);
        Assert.Equal([4f, 30, 5], scaler.Max);
        scaler.Transform(x);
        Assert.Equal([0f, 0, 0, 0.5f, 1, 0, 0.25f, 0.5f, 0, 1, 0, 0], x.Span.ToArray());
        scaler.InverseTransform(x);
        Assert.Equal(values, x.Span.ToArray());
    }

    [Fact]
    public void RoundTripsThroughModelMetadata()
    {
        var scaler = FeatureScaler.Fit(Tensor.FromArray([0.1f, -3e-7f, 1e6f, 2.5f], 2, 2));
        var back = FeatureScaler.FromMetadata(scaler.ToMetadata())!;
        Assert.Equal(scaler.Min, back.Min);
        Assert.Equal(scaler.Max, back.Max);
        Assert.Null(FeatureScaler.FromMetadata(new Dictionary<string, string>()));
    }

    [Fact]
    public void StandardScalingCentresAndScalesEachFeature()
    {
        float[] values = [1, 10, /**/ 3, 10, /**/ 5, 10, /**/ 7, 10];   // feature 1 constant
        var x = Tensor.FromArray((float[])values.Clone(), 4, 2);
        var scaler = FeatureScaler.Fit(x, kind: FeatureScaling.Standard);
        Assert.Equal(FeatureScaling.Standard, scaler.Kind);
        Assert.Equal([4f, 10], scaler.Mean);
        Assert.Equal(MathF.Sqrt(5), scaler.Std[0], 6);   // population std of 1, 3, 5, 7
        Assert.Equal(0f, scaler.Std[1]);
        Assert.Empty(scaler.Min);
        scaler.Transform(x);
        var z = x.Span.ToArray();
        Assert.Equal(0, z.Where((_, i) => i % 2 == 0).Sum(), 5);
        Assert.Equal(4, z.Where((_, i) => i % 2 == 0).Sum(v => v * v), 4);   // variance 1 over 4 samples
        Assert.All(z.Where((_, i) => i % 2 == 1), v => Assert.Equal(0f, v)); // a constant feature is only shifted
        var back = FeatureScaler.FromMetadata(scaler.ToMetadata())!;
        Assert.Equal(FeatureScaling.Standard, back.Kind);
        Assert.Equal(scaler.Mean, back.Mean);
        Assert.Equal(scaler.Std, back.Std);
        back.InverseTransform(x);
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], x.Span[i], 5);
        Assert.Throws<FormatException>(() => FeatureScaler.FromLists([0f], [-1f], FeatureScaling.Standard));
    }

    [Fact]
    public void BadInputIsRefusedWithWhatWasReceived()
    {
        var e = Assert.Throws<ArgumentException>(() => FeatureScaler.Fit(Tensor.FromArray([1f, float.NaN, 3, 4, 5, 6, 7, 8], 2, 2, 2)));
        Assert.Contains("sequence 0, step 0, feature 1", e.Message);
        var scaler = FeatureScaler.Fit(Tensor.FromArray([1f, 2, 3, 4], 2, 2));
        e = Assert.Throws<ArgumentException>(() => scaler.Transform(new Tensor([2, 3])));
        Assert.Contains("fitted on 2 features", e.Message);
        Assert.Throws<FormatException>(() => FeatureScaler.FromMetadata(new Dictionary<string, string> { ["feature_min"] = "1,x", ["feature_max"] = "2,3" }));
        Assert.Throws<FormatException>(() => FeatureScaler.FromMetadata(new Dictionary<string, string> { ["feature_min"] = "1,2", ["feature_max"] = "2" }));
        Assert.Throws<FormatException>(() => FeatureScaler.FromLists([3f], [1f]));
    }
}
