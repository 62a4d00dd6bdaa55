using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>
/// Masking: which steps it marks, how the mask travels (through step-wise layers, not through RepeatVector), that a
/// padded sequence encodes as its unpadded self, that masked steps leave the loss (mean over the kept ones), and
/// that a masked model trains, checks its gradients, saves and loads.
/// </summary>
public class MaskingTests
{
    /// <summary>(batch, t, d) sequences in (0, 1) where sample b has its last b % t steps padded with <paramref name="pad"/>.</summary>
    private static (float[] X, float[] Mask) Padded(int batch, int t, int d, float pad, int seed)
    {
        var x = Synthetic.Uniform(batch * t * d, seed, 0.1f, 0.9f);
        var mask = RecurrentLayerTests.TrailingPadding(batch, t);
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] == 0) x.AsSpan(i * d, d).Fill(pad);
        return (x, mask);
    }

    [Fact]
    public void MarksStepsWhoseFeaturesAllEqualTheValue()
    {
        var input = Input.Create(3, 2);
        var outs = new Masking(0).ApplyAll(input);
        Assert.Equal(2, outs.Count);
        Assert.Same(outs[1], outs[0].Mask);
        var model = new Model([input], outs);
        // Steps: (0, 0) masked; (0, 5) kept (one feature differs); (1, 2) kept.
        var y = model.PredictAll([Tensor.FromArray([0f, 0, 0, 5, 1, 2], 1, 3, 2)]);
        Assert.Equal([0f, 0, 0, 5, 1, 2], y[0].Span.ToArray());
        Assert.Equal([0f, 1, 1], y[1].Span.ToArray());
        var counts = new Masking(0).Count(Tensor.FromArray([0f, 0, 0, 5, 0, 0, 0, 0], 2, 2, 2));
        Assert.Equal((1, 1L), counts);
    }

    [Fact]
    public void TheMaskTravelsThroughStepwiseLayersOnly()
    {
        var input = Input.Create(4, 2);
        var m = new Masking(-1).Apply(input);
        Assert.NotNull(m.Mask);
        var d = new Dropout(0.1).Apply(new Dense(3, "relu").Apply(m));
        Assert.Same(m.Mask, d.Mask);
        var seq = new LSTM(3, returnSequences: true).Apply(d);
        Assert.Same(m.Mask, seq.Mask);
        Assert.Same(m.Mask, new TimeDistributed(new Dense(2)).Apply(seq).Mask);
        var last = new LSTM(3).Apply(seq);
        Assert.Null(last.Mask);
        Assert.Null(new RepeatVector(4).Apply(last).Mask);
        Assert.Null(new LSTM(3, returnSequences: true, goBackwards: true).Apply(d).Mask);
        Assert.Null(new Flatten().Apply(m).Mask);
    }

    [Fact]
    public void APaddedSequenceEncodesAsItsUnpaddedSelf()
    {
        Randomness.SetSeed(31);
        int t = 6, d = 3, batch = 4;
        var (x, mask) = Padded(batch, t, d, pad: 0, seed: 2);
        var lstm = new LSTM(5);
        var padded = Input.Create(t, d);
        var encoder = new Model(padded, lstm.Apply(new Masking(0).Apply(padded)));
        var codes = encoder.Predict(Tensor.FromArray(x, batch, t, d)).Span.ToArray();
        for (int b = 0; b < batch; b++)
        {
            int length = (int)mask.AsSpan(b * t, t).ToArray().Sum();
            var shortInput = Input.Create(length, d);
            var plain = new Model(shortInput, lstm.Apply(shortInput));    // the same weights, no padding at all
            var code = plain.Predict(Tensor.FromArray(x.AsSpan(b * t * d, length * d).ToArray(), 1, length, d)).Span.ToArray();
            for (int j = 0; j < 5; j++) Assert.Equal(code[j], codes[b * 5 + j], 5);
        }
    }

    [Fact]
    public void MaskedStepsLeaveTheLossWhichAveragesTheKeptOnes()
    {
        Randomness.SetSeed(32);
        int t = 5, d = 2, batch = 6;
        var (x, mask) = Padded(batch, t, d, pad: 0, seed: 3);
        var input = Input.Create(t, d);
        var y = new Dense(d, "sigmoid").Apply(new LSTM(4, returnSequences: true).Apply(new Masking(0).Apply(input)));
        Assert.NotNull(y.Mask);
        var model = new Model(input, y);
        var targets = Synthetic.Uniform(batch * t * d, 4, 0, 1);
        foreach (var loss in new[] { "mse", "binary_crossentropy" })
        {
            model.Compile("adam", loss);
            var xs = Tensor.FromArray(x, batch, t, d);
            var ys = Tensor.FromArray(targets, batch, t, d);
            double evaluated = model.Evaluate(xs, ys, batchSize: batch);
            var p = model.Predict(xs).Span.ToArray();
            double sum = 0;
            int kept = 0;
            for (int r = 0; r < batch * t; r++)
            {
                if (mask[r] == 0) continue;
                kept++;
                for (int j = 0; j < d; j++)
                {
                    double pv = p[r * d + j], tv = targets[r * d + j];
                    sum += loss == "mse" ? (pv - tv) * (pv - tv) : -(tv * Math.Log(pv) + (1 - tv) * Math.Log(1 - pv));
                }
            }
            Assert.Equal(sum / (kept * d), evaluated, 5);
        }
    }

    [Fact]
    public void AMaskedModelsGradientsMatchFiniteDifferences()
    {
        Randomness.SetSeed(33);
        int t = 4, d = 2;
        var input = Input.Create(t, d);
        var code = new GRU(3).Apply(new Masking(0).Apply(input));
        var seq = new LSTM(3, returnSequences: true).Apply(new RepeatVector(t).Apply(code));
        var model = new Model(input, new TimeDistributed(new Dense(d, "sigmoid")).Apply(seq));
        model.Compile("sgd", "mse");
        var mask = RecurrentLayerTests.TrailingPadding(3, t);
        ModelChecker.CheckGradients(model, batch: 3, seed: 34, editInput: (_, values) =>
        {
            for (int i = 0; i < mask.Length; i++)
                if (mask[i] == 0) values.Slice(i * d, d).Clear();
        });
    }

    [Fact]
    public void AMaskedModelTrainsSavesAndLoads()
    {
        Randomness.SetSeed(35);
        int t = 6, d = 2, batch = 40;
        var (x, _) = Padded(batch, t, d, pad: -1, seed: 5);
        var input = Input.Create(t, d);
        var seq = new LSTM(8, returnSequences: true).Apply(new Masking(-1).Apply(input));
        var model = new Model(input, new Dense(d).Apply(seq));
        model.Compile("adam", "mse");
        var xs = Tensor.FromArray(x, batch, t, d);
        var history = model.Fit(xs, xs, epochs: 8, batchSize: 8, verbose: 0, seed: 1);
        Assert.True(history.Loss[^1] < history.Loss[0], $"loss {history.Loss[0]} → {history.Loss[^1]}");
        string path = Path.Combine(Path.GetTempPath(), $"masked-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Model.Load(path);
            Assert.NotNull(loaded.Outputs[0].Mask);
            Assert.Equal(model.Predict(xs).Span.ToArray(), loaded.Predict(xs).Span.ToArray());
            Assert.Equal(model.Evaluate(xs, xs), loaded.Evaluate(xs, xs));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadSettingsGetClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => new Masking(double.NaN));
        Assert.Contains("NaN", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Masking().Apply(Input.Create(5)));
        Assert.Contains("(None, 5)", e.Message);
    }
}
