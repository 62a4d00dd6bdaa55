using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>
/// Bidirectional: its outputs against its two layers run alone (the backward one's outputs put back in time order),
/// for every merge mode, with sequences and states; gradients against finite differences (masked too); one core vs
/// two; saving and loading; clear errors.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // the one-vs-two-core check sets Model.ParallelStepMinRows
public class BidirectionalTests
{
    public static TheoryData<string?, bool> Modes() => new()
    {
        { "concat", true }, { "concat", false }, { "sum", true }, { "mul", true }, { "ave", false }, { null, true },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public void MergesItsTwoLayersRunAlone(string? mode, bool sequences)
    {
        Randomness.SetSeed(41);
        int t = 5, d = 3, h = 4, batch = 3;
        var x = Tensor.FromArray(Synthetic.Uniform(batch * t * d, 9), batch, t, d);
        var input = Input.Create(t, d);
        var bi = new Bidirectional(new LSTM(h, returnSequences: sequences), mergeMode: mode);
        var outs = new Model([input], bi.ApplyAll(input)).PredictAll([x]);
        Assert.Equal("forward_" , bi.ForwardLayer.Name[..8]);
        Assert.True(bi.BackwardLayer.GoBackwards);
        Assert.Equal(2 * bi.ForwardLayer.CountParams(), bi.CountParams());
        // The same two layers (same weights) applied alone.
        var f = new Model(input, bi.ForwardLayer.Apply(input)).Predict(x).Span.ToArray();
        var b = new Model(input, bi.BackwardLayer.Apply(input)).Predict(x).Span.ToArray();
        int steps = sequences ? t : 1;
        for (int n = 0; n < batch; n++)
            for (int s = 0; s < steps; s++)
                for (int j = 0; j < h; j++)
                {
                    float fv = f[(n * steps + s) * h + j], bv = b[(n * steps + steps - 1 - s) * h + j];
                    if (mode is "concat")
                    {
                        Assert.Equal(fv, outs[0].Span[(n * steps + s) * 2 * h + j]);
                        Assert.Equal(bv, outs[0].Span[(n * steps + s) * 2 * h + h + j]);
                        continue;
                    }
                    if (mode is null)
                    {
                        Assert.Equal(fv, outs[0].Span[(n * steps + s) * h + j]);
                        Assert.Equal(bv, outs[1].Span[(n * steps + s) * h + j]);
                        continue;
                    }
                    float expected = mode switch { "sum" => fv + bv, "mul" => fv * bv, _ => (fv + bv) / 2 };
                    Assert.Equal(expected, outs[0].Span[(n * steps + s) * h + j], 6);
                }
    }

    [Fact]
    public void ReturnStateGivesBothDirectionsStates()
    {
        Randomness.SetSeed(42);
        int t = 4, d = 2, h = 3, batch = 2;
        var x = Tensor.FromArray(Synthetic.Uniform(batch * t * d, 10), batch, t, d);
        var input = Input.Create(t, d);
        var bi = new Bidirectional(new LSTM(h, returnState: true));
        var outs = new Model([input], bi.ApplyAll(input)).PredictAll([x]);
        Assert.Equal(5, outs.Count);   // y, forward h and c, backward h and c
        var f = new Model([input], bi.ForwardLayer.ApplyAll(input)).PredictAll([x]);
        var b = new Model([input], bi.BackwardLayer.ApplyAll(input)).PredictAll([x]);
        Assert.Equal(f[1].Span.ToArray(), outs[1].Span.ToArray());
        Assert.Equal(f[2].Span.ToArray(), outs[2].Span.ToArray());
        Assert.Equal(b[1].Span.ToArray(), outs[3].Span.ToArray());
        Assert.Equal(b[2].Span.ToArray(), outs[4].Span.ToArray());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void GradientsMatchFiniteDifferences(string? mode, bool sequences)
    {
        Randomness.SetSeed(43);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Bidirectional(new GRU(3, returnSequences: sequences), mode), [4, 2], batch: 2, seed: 44));
    }

    [Fact]
    public void StatesAndMasksHaveTheirGradients()
    {
        Randomness.SetSeed(45);
        var mask = RecurrentLayerTests.TrailingPadding(3, 4);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Bidirectional(new LSTM(3, returnSequences: true, returnState: true)),
                                                             [[4, 2]], batch: 3, seed: 46, mask: mask));
    }

    [Fact]
    public void TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads()
    {
        int t = 5, d = 3;
        var data = Tensor.FromArray(Synthetic.Uniform(64 * t * d, 11, 0, 1), 64, t, d);
        ModelChecker.TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads(() =>
        {
            Randomness.SetSeed(47);
            var input = Input.Create(t, d);
            var code = new Bidirectional(new LSTM(4), mergeMode: "sum").Apply(input);
            var seq = new Bidirectional(new GRU(3, returnSequences: true)).Apply(new RepeatVector(t).Apply(code));
            var model = new Model(input, new Dense(d, "sigmoid").Apply(seq));
            model.Compile("adam", "mse");
            return model;
        }, data);
    }

    [Fact]
    public void BadSettingsGetClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(3), mergeMode: "max"));
        Assert.Contains("'max'", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(3), backwardLayer: new LSTM(3)));
        Assert.Contains("goBackwards", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(3), backwardLayer: new LSTM(3, goBackwards: true, returnSequences: true)));
        Assert.Contains("returnSequences", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(3)).Apply(Input.Create(7)));
        Assert.Contains("(None, 7)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(3)).Apply(Input.Create(4, 2), Input.Create(3)));
        Assert.Contains("takes 1 input(s), received 2", e.Message);
    }
}
