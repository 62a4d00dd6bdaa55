using Latent.Layers;

namespace Latent.Tests.Training;

public class BadInputTests
{
    private static Model Compiled(bool compile = true)
    {
        var input = Input.Create(6, name: "pixels");
        var model = new Model(input, new Dense(6, "sigmoid").Apply(new Dense(2).Apply(input)), name: "ae_bad");
        if (compile) model.Compile("adagrad", "binary_crossentropy");
        return model;
    }

    private static Tensor Ones(int rows, int cols)
    {
        var t = new Tensor(rows, cols);
        t.Span.Fill(0.5f);
        return t;
    }

    [Fact]
    public void WrongFeatureCountNamesBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => Compiled().Fit(Ones(4, 5), Ones(4, 6), verbose: 0));
        Assert.Contains("expects 6 features", e.Message);
        Assert.Contains("received 5", e.Message);
        Assert.Contains("pixels", e.Message);
    }

    [Fact]
    public void SampleCountMismatch()
    {
        var e = Assert.Throws<ArgumentException>(() => Compiled().Fit(Ones(4, 6), Ones(3, 6), verbose: 0));
        Assert.Contains("x has 4 samples but y has 3", e.Message);
    }

    [Fact]
    public void TargetShapeMismatch()
    {
        var e = Assert.Throws<ArgumentException>(() => Compiled().Evaluate(Ones(4, 6), Ones(4, 7)));
        Assert.Contains("has 7", e.Message);
    }

    [Fact]
    public void EmptyData()
    {
        var e = Assert.Throws<ArgumentException>(() => Compiled().Fit(new Tensor(0, 6), new Tensor(0, 6), verbose: 0));
        Assert.Contains("empty", e.Message);
        Assert.Contains("(0, 6)", e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteValuesNameTheirPlace(float value)
    {
        var x = Ones(4, 6);
        x[2, 3] = value;
        var e = Assert.Throws<ArgumentException>(() => Compiled().Fit(x, Ones(4, 6), verbose: 0));
        Assert.Contains("sample 2, element 3", e.Message);
        Assert.Contains(value.ToString(), e.Message);
        var p = Assert.Throws<ArgumentException>(() => Compiled().Predict(x));
        Assert.Contains("sample 2", p.Message);
        var v = Assert.Throws<ArgumentException>(() => Compiled().Fit(Ones(4, 6), Ones(4, 6), validationData: (x, x), verbose: 0));
        Assert.Contains("validation x", v.Message);
    }

    [Fact]
    public void UsedBeforeCompile()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Compiled(compile: false).Fit(Ones(4, 6), Ones(4, 6), verbose: 0));
        Assert.Contains("must be compiled before Fit", e.Message);
        Assert.Contains("ae_bad", e.Message);
        Assert.Throws<InvalidOperationException>(() => Compiled(compile: false).Evaluate(Ones(4, 6), Ones(4, 6)));
        Assert.Equal([4, 6], Compiled(compile: false).Predict(Ones(4, 6)).Shape); // Predict needs no loss
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void NonPositiveBatchSize(int batchSize)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Compiled().Fit(Ones(4, 6), Ones(4, 6), batchSize: batchSize, verbose: 0));
        Assert.Contains($"batchSize={batchSize}", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Compiled().Predict(Ones(4, 6), batchSize: batchSize));
        Assert.Throws<ArgumentOutOfRangeException>(() => Compiled().Evaluate(Ones(4, 6), Ones(4, 6), batchSize: batchSize));
    }

    [Fact]
    public void BatchLargerThanDataIsFine()
    {
        var h = Compiled().Fit(Ones(3, 6), Ones(3, 6), batchSize: 100, epochs: 2, verbose: 0);
        Assert.Equal(2, h.Loss.Count);
    }
}
