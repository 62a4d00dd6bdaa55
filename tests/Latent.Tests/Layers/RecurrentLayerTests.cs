using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>
/// LSTM, GRU and RepeatVector: outputs against naive double-precision loops written from the formulas, gradients
/// against finite differences for every option (sequences, backwards, initial states, no bias), Keras's
/// initialisation, and clear errors for inputs that are not sequences.
/// </summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // switches Recurrent.FusedCellsEnabled
public class RecurrentLayerTests
{
    /// <summary>Runs <paramref name="check"/> on the fused default-activation rows and on the general path.</summary>
    private static void BothPaths(Action check)
    {
        try
        {
            foreach (bool fused in new[] { true, false })
            {
                Recurrent.FusedCellsEnabled = fused;
                check();
            }
        }
        finally
        {
            Recurrent.FusedCellsEnabled = true;
        }
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>The layer's output from a model of one layer, on (batch, T, D) inputs and optional initial states.</summary>
    private static float[] Run(Layer layer, int t, int d, int batch, float[] x, params float[][] states)
    {
        var input = Input.Create(t, d);
        var stateInputs = states.Select(s => Input.Create(s.Length / batch)).ToArray();
        var model = new Model([input, .. stateInputs], [layer.Apply([input, .. stateInputs])]);
        var tensors = new List<Tensor> { Tensor.FromArray(x, batch, t, d) };
        tensors.AddRange(states.Select(s => Tensor.FromArray(s, batch, s.Length / batch)));
        return model.PredictAll(tensors, batchSize: batch)[0].Span.ToArray();
    }

    /// <summary>Keras's LSTM in doubles: per step [i f g o] = act(x·W + h·U + b).</summary>
    private static double[] NaiveLstm(float[] x, int batch, int t, int d, int h, float[] w, float[] u, float[] bias,
                                      bool sequences, bool backwards, float[]? h0 = null, float[]? c0 = null, float[]? mask = null,
                                      double[]? lastH = null, double[]? lastC = null)
    {
        var y = new double[sequences ? batch * t * h : batch * h];
        for (int b = 0; b < batch; b++)
        {
            var hs = new double[h]; var cs = new double[h];
            for (int j = 0; j < h; j++) { hs[j] = h0?[b * h + j] ?? 0; cs[j] = c0?[b * h + j] ?? 0; }
            for (int s = 0; s < t; s++)
            {
                int time = backwards ? t - 1 - s : s;
                if (mask is not null && mask[b * t + time] == 0) continue;   // state kept, output 0
                var a = new double[4 * h];
                for (int k = 0; k < 4 * h; k++)
                {
                    double v = bias.Length > 0 ? bias[k] : 0;
                    for (int i = 0; i < d; i++) v += x[(b * t + time) * d + i] * w[i * 4 * h + k];
                    for (int i = 0; i < h; i++) v += hs[i] * u[i * 4 * h + k];
                    a[k] = v;
                }
                for (int j = 0; j < h; j++)
                {
                    double ig = Sigmoid(a[j]), fg = Sigmoid(a[h + j]), gg = Math.Tanh(a[2 * h + j]), og = Sigmoid(a[3 * h + j]);
                    cs[j] = fg * cs[j] + ig * gg;
                    hs[j] = og * Math.Tanh(cs[j]);
                }
                if (sequences) for (int j = 0; j < h; j++) y[(b * t + s) * h + j] = hs[j];
            }
            if (!sequences) for (int j = 0; j < h; j++) y[b * h + j] = hs[j];
            for (int j = 0; j < h; j++)
            {
                if (lastH is not null) lastH[b * h + j] = hs[j];
                if (lastC is not null) lastC[b * h + j] = cs[j];
            }
        }
        return y;
    }

    /// <summary>Keras's GRU (reset_after) in doubles.</summary>
    private static double[] NaiveGru(float[] x, int batch, int t, int d, int h, float[] w, float[] u, float[] bias,
                                     bool sequences, bool backwards, float[]? h0 = null, float[]? mask = null, double[]? lastH = null)
    {
        var y = new double[sequences ? batch * t * h : batch * h];
        for (int b = 0; b < batch; b++)
        {
            var hs = new double[h];
            for (int j = 0; j < h; j++) hs[j] = h0?[b * h + j] ?? 0;
            for (int s = 0; s < t; s++)
            {
                int time = backwards ? t - 1 - s : s;
                if (mask is not null && mask[b * t + time] == 0) continue;
                var ax = new double[3 * h]; var ah = new double[3 * h];
                for (int k = 0; k < 3 * h; k++)
                {
                    double vx = bias.Length > 0 ? bias[k] : 0, vh = bias.Length > 0 ? bias[3 * h + k] : 0;
                    for (int i = 0; i < d; i++) vx += x[(b * t + time) * d + i] * w[i * 3 * h + k];
                    for (int i = 0; i < h; i++) vh += hs[i] * u[i * 3 * h + k];
                    ax[k] = vx; ah[k] = vh;
                }
                var next = new double[h];
                for (int j = 0; j < h; j++)
                {
                    double z = Sigmoid(ax[j] + ah[j]), r = Sigmoid(ax[h + j] + ah[h + j]);
                    double cand = Math.Tanh(ax[2 * h + j] + r * ah[2 * h + j]);
                    next[j] = z * hs[j] + (1 - z) * cand;
                }
                hs = next;
                if (sequences) for (int j = 0; j < h; j++) y[(b * t + s) * h + j] = hs[j];
            }
            if (!sequences) for (int j = 0; j < h; j++) y[b * h + j] = hs[j];
            if (lastH is not null) for (int j = 0; j < h; j++) lastH[b * h + j] = hs[j];
        }
        return y;
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5, $"[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    private static float[] RandomBias(Weight? bias, int seed)
    {
        if (bias is null) return [];
        Synthetic.Uniform(bias.Length, seed).CopyTo(bias.Values);
        return bias.Values.ToArray();
    }

    [Theory]
    [InlineData(5, 3, 4, 2, false, false, true)]
    [InlineData(5, 3, 4, 2, true, false, true)]
    [InlineData(5, 3, 4, 2, true, true, true)]
    [InlineData(1, 2, 3, 3, false, true, false)]
    [InlineData(7, 9, 17, 5, true, false, true)]   // sizes past a vector's width
    public void LstmMatchesTheNaiveLoop(int t, int d, int h, int batch, bool sequences, bool backwards, bool bias)
    {
        BothPaths(() =>
        {
            Randomness.SetSeed(t * 10 + d);
            var layer = new LSTM(h, returnSequences: sequences, goBackwards: backwards, useBias: bias);
            var x = Synthetic.Uniform(batch * t * d, 5);
            var y = Run(layer, t, d, batch, x);
            var b = RandomBias(layer.Bias, 6);
            y = Run(layer, t, d, batch, x);
            AssertClose(NaiveLstm(x, batch, t, d, h, layer.Kernel!.Values.ToArray(), layer.RecurrentKernel!.Values.ToArray(), b, sequences, backwards), y);
        });
    }

    [Theory]
    [InlineData(5, 3, 4, 2, false, false, true)]
    [InlineData(5, 3, 4, 2, true, false, true)]
    [InlineData(5, 3, 4, 2, true, true, true)]
    [InlineData(1, 2, 3, 3, false, true, false)]
    [InlineData(7, 9, 17, 5, true, false, true)]
    public void GruMatchesTheNaiveLoop(int t, int d, int h, int batch, bool sequences, bool backwards, bool bias)
    {
        BothPaths(() =>
        {
            Randomness.SetSeed(t * 10 + d + 1);
            var layer = new GRU(h, returnSequences: sequences, goBackwards: backwards, useBias: bias);
            var x = Synthetic.Uniform(batch * t * d, 5);
            Run(layer, t, d, batch, x);
            var b = RandomBias(layer.Bias, 6);
            var y = Run(layer, t, d, batch, x);
            AssertClose(NaiveGru(x, batch, t, d, h, layer.Kernel!.Values.ToArray(), layer.RecurrentKernel!.Values.ToArray(), b, sequences, backwards), y);
        });
    }

    [Fact]
    public void InitialStatesStartTheRecurrence()
    {
        BothPaths(() =>
        {
            int t = 4, d = 3, h = 5, batch = 2;
            var x = Synthetic.Uniform(batch * t * d, 1);
            float[] h0 = Synthetic.Uniform(batch * h, 2), c0 = Synthetic.Uniform(batch * h, 3);
            var lstm = new LSTM(h, returnSequences: true);
            var y = Run(lstm, t, d, batch, x, h0, c0);
            AssertClose(NaiveLstm(x, batch, t, d, h, lstm.Kernel!.Values.ToArray(), lstm.RecurrentKernel!.Values.ToArray(), lstm.Bias!.Values.ToArray(), true, false, h0, c0), y);
            var gru = new GRU(h, goBackwards: true);
            y = Run(gru, t, d, batch, x, h0);
            AssertClose(NaiveGru(x, batch, t, d, h, gru.Kernel!.Values.ToArray(), gru.RecurrentKernel!.Values.ToArray(), gru.Bias!.Values.ToArray(), false, true, h0), y);
        });
    }

    public static TheoryData<bool, bool, bool> Options() => new()
    {
        { false, false, true }, { true, false, true }, { true, true, true }, { false, true, false },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void LstmGradientsMatchFiniteDifferences(bool sequences, bool backwards, bool bias)
    {
        BothPaths(() =>
        {
            Randomness.SetSeed(3);
            var layer = new LSTM(3, returnSequences: sequences, goBackwards: backwards, useBias: bias);
            GradientChecker.AssertAll(GradientChecker.CheckLayer(layer, [4, 2], batch: 3, seed: 7));
        });
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void GruGradientsMatchFiniteDifferences(bool sequences, bool backwards, bool bias)
    {
        BothPaths(() =>
        {
            Randomness.SetSeed(4);
            var layer = new GRU(3, returnSequences: sequences, goBackwards: backwards, useBias: bias);
            GradientChecker.AssertAll(GradientChecker.CheckLayer(layer, [4, 2], batch: 3, seed: 8));
        });
    }

    [Fact]
    public void GradientsReachTheInitialStates()
    {
        BothPaths(() =>
        {
            Randomness.SetSeed(5);
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new LSTM(3, returnSequences: true), [[4, 2], [3], [3]], batch: 2, seed: 9));
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new GRU(3, goBackwards: true), [[4, 2], [3]], batch: 2, seed: 10));
        });
    }

    [Fact]
    public void OtherActivationsAreHonoured()
    {
        Randomness.SetSeed(6);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new LSTM(3, activation: "elu", recurrentActivation: "tanh", returnSequences: true), [3, 2], batch: 2, seed: 11));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new GRU(3, activation: "selu", recurrentActivation: "tanh"), [3, 2], batch: 2, seed: 12));
    }

    /// <summary>Every output of a one-layer model: the output and, with returnState, the final states.</summary>
    private static float[][] RunAll(Layer layer, int t, int d, int batch, float[] x)
    {
        var input = Input.Create(t, d);
        var model = new Model([input], layer.ApplyAll(input));
        return [.. model.PredictAll([Tensor.FromArray(x, batch, t, d)], batchSize: batch).Select(o => o.Span.ToArray())];
    }

    /// <summary>A mask of (batch, t) with each sample's own padding: sample b keeps its first t − (b % t) steps (sample 0 all).</summary>
    internal static float[] TrailingPadding(int batch, int t)
    {
        var mask = new float[batch * t];
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < t; s++) mask[b * t + s] = s < t - b % t ? 1 : 0;
        return mask;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void ReturnStateGivesTheFinalStates(bool sequences, bool backwards)
    {
        BothPaths(() =>
        {
            int t = 5, d = 3, h = 4, batch = 3;
            Randomness.SetSeed(21);
            var x = Synthetic.Uniform(batch * t * d, 4);
            var lstm = new LSTM(h, returnSequences: sequences, goBackwards: backwards, returnState: true);
            var outs = RunAll(lstm, t, d, batch, x);
            Assert.Equal(3, outs.Length);
            double[] lastH = new double[batch * h], lastC = new double[batch * h];
            var y = NaiveLstm(x, batch, t, d, h, lstm.Kernel!.Values.ToArray(), lstm.RecurrentKernel!.Values.ToArray(), lstm.Bias!.Values.ToArray(),
                              sequences, backwards, lastH: lastH, lastC: lastC);
            AssertClose(y, outs[0]);
            AssertClose(lastH, outs[1]);
            AssertClose(lastC, outs[2]);
            var gru = new GRU(h, returnSequences: sequences, goBackwards: backwards, returnState: true);
            outs = RunAll(gru, t, d, batch, x);
            Assert.Equal(2, outs.Length);
            y = NaiveGru(x, batch, t, d, h, gru.Kernel!.Values.ToArray(), gru.RecurrentKernel!.Values.ToArray(), gru.Bias!.Values.ToArray(), sequences, backwards, lastH: lastH);
            AssertClose(y, outs[0]);
            AssertClose(lastH, outs[1]);
        });
    }

    [Fact]
    public void GradientsFlowBackThroughTheStates()
    {
        BothPaths(() =>
        {
            Randomness.SetSeed(22);
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new LSTM(3, returnSequences: true, returnState: true), [4, 2], batch: 2, seed: 23));
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new LSTM(3, returnState: true, goBackwards: true), [[4, 2], [3], [3]], batch: 2, seed: 24));
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new GRU(3, returnState: true), [4, 2], batch: 2, seed: 25));
        });
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void MaskedStepsKeepTheStateAndOutputZeros(bool sequences, bool backwards)
    {
        BothPaths(() =>
        {
            int t = 5, d = 2, h = 4, batch = 4;
            Randomness.SetSeed(26);
            var x = Synthetic.Uniform(batch * t * d, 7);
            var mask = TrailingPadding(batch, t);
            mask[1 * t + 0] = 0;                                   // and a gap inside a sequence
            for (int i = 0; i < mask.Length; i++)
                if (mask[i] == 0) x.AsSpan(i * d, d).Fill(-1);     // the padding value
            var input = Input.Create(t, d);
            var masked = new Masking(-1).Apply(input);
            var lstm = new LSTM(h, returnSequences: sequences, goBackwards: backwards, returnState: true);
            var gru = new GRU(h, returnSequences: sequences, goBackwards: backwards);
            var model = new Model([input], [.. lstm.ApplyAll(masked), gru.Apply(masked)]);
            var outs = model.PredictAll([Tensor.FromArray(x, batch, t, d)], batchSize: batch).Select(o => o.Span.ToArray()).ToArray();
            double[] lastH = new double[batch * h], lastC = new double[batch * h];
            AssertClose(NaiveLstm(x, batch, t, d, h, lstm.Kernel!.Values.ToArray(), lstm.RecurrentKernel!.Values.ToArray(), lstm.Bias!.Values.ToArray(),
                                  sequences, backwards, mask: mask, lastH: lastH, lastC: lastC), outs[0]);
            AssertClose(lastH, outs[1]);
            AssertClose(lastC, outs[2]);
            AssertClose(NaiveGru(x, batch, t, d, h, gru.Kernel!.Values.ToArray(), gru.RecurrentKernel!.Values.ToArray(), gru.Bias!.Values.ToArray(),
                                 sequences, backwards, mask: mask), outs[3]);
        });
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void MaskedGradientsMatchFiniteDifferences(bool sequences, bool backwards)
    {
        BothPaths(() =>
        {
            Randomness.SetSeed(27);
            var mask = TrailingPadding(3, 4);
            mask[2 * 4 + 0] = 0;
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new LSTM(3, returnSequences: sequences, goBackwards: backwards, returnState: true),
                                                                 [[4, 2]], batch: 3, seed: 28, mask: mask));
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new GRU(3, returnSequences: sequences, goBackwards: backwards, returnState: true),
                                                                 [[4, 2]], batch: 3, seed: 29, mask: mask));
        });
    }

    [Fact]
    public void RepeatVectorRepeatsAndSumsItsGradient()
    {
        var input = Input.Create(2);
        var model = new Model(input, new RepeatVector(3).Apply(input));
        var y = model.Predict(Tensor.FromArray([1f, 2, 3, 4], 2, 2), batchSize: 2);
        Assert.Equal([2, 3, 2], y.Shape);
        Assert.Equal([1f, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4], y.Span.ToArray());
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new RepeatVector(4), [3], batch: 2, seed: 13));
    }

    /// <summary>
    /// A recurrent layer fed by a RepeatVector projects the first step only and puts the step-summed input gradient in
    /// the first step's slot; the same model with an identity layer between the two runs the general path. Both must
    /// give the same loss, weight gradients (the encoder's carry the RepeatVector's input gradient) and outputs.
    /// </summary>
    [Theory]
    [InlineData("lstm", false, false, true)]
    [InlineData("lstm", true, false, true)]
    [InlineData("lstm", true, true, false)]
    [InlineData("gru", false, false, true)]
    [InlineData("gru", true, true, true)]
    [InlineData("gru", true, false, false)]
    public void RepeatedInputMatchesTheGeneralPath(string kind, bool sequences, bool backwards, bool bias)
    {
        Model Build(bool identity)
        {
            Randomness.SetSeed(41);
            var input = Input.Create(5, 3);
            var code = new LSTM(9).Apply(input);                       // nine units: a block of eight and a tail
            var repeated = new RepeatVector(5).Apply(code);
            if (identity) repeated = new Activation("linear").Apply(repeated);
            Layer decoder = kind == "lstm" ? new LSTM(10, useBias: bias, returnSequences: sequences, goBackwards: backwards)
                                           : new GRU(10, useBias: bias, returnSequences: sequences, goBackwards: backwards);
            var model = new Model(input, decoder.Apply(repeated));
            model.Compile("sgd", "mse");
            return model;
        }
        var fast = Build(identity: false);
        var general = Build(identity: true);
        general.SetWeights(fast.GetWeights());
        var rng = new Random(42);
        var x = Tensor.FromArray(Enumerable.Range(0, 4 * 15).Select(_ => (float)rng.NextDouble()).ToArray(), 4, 5, 3);
        int outSize = sequences ? 5 * 10 : 10;
        var yData = Enumerable.Range(0, 4 * outSize).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = sequences ? Tensor.FromArray(yData, 4, 5, 10) : Tensor.FromArray(yData, 4, 10);
        var gf = fast.ComputeGradients(x, y);
        var fastGrads = fast.Weights.Select(w => gf.Of(w).ToArray()).ToArray();
        var gg = general.ComputeGradients(x, y);
        Assert.Equal(gg.Loss, gf.Loss, 6);
        for (int i = 0; i < fastGrads.Length; i++)
            for (int j = 0; j < fastGrads[i].Length; j++)
            {
                float a = fastGrads[i][j], b = gg.Of(general.Weights[i])[j];
                Assert.True(Math.Abs(a - b) <= 1e-6 + 1e-4 * Math.Abs(b), $"{fast.Weights[i].Name}[{j}]: {a} with the repeated input, {b} without");
            }
        Assert.Equal(general.Predict(x).Span.ToArray(), fast.Predict(x).Span.ToArray(), new FloatTolerance(1e-6f));
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }

    [Fact]
    public void KerasInitialisation()
    {
        Randomness.SetSeed(7);
        var lstm = new LSTM(4);
        lstm.Apply(Input.Create(3, 2));
        Assert.Equal([2, 16], lstm.Kernel!.Shape);
        Assert.Equal([4, 16], lstm.RecurrentKernel!.Shape);
        var bias = lstm.Bias!.Values.ToArray();
        Assert.Equal(Enumerable.Repeat(0f, 4).Concat(Enumerable.Repeat(1f, 4)).Concat(Enumerable.Repeat(0f, 8)), bias);
        // U is orthogonal as a whole (4 × 16): U·Uᵀ = I.
        var u = lstm.RecurrentKernel.Values.ToArray();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                double dot = 0;
                for (int k = 0; k < 16; k++) dot += u[i * 16 + k] * u[j * 16 + k];
                Assert.Equal(i == j ? 1 : 0, dot, 4);
            }
        var gru = new GRU(4);
        gru.Apply(Input.Create(3, 2));
        Assert.Equal([2, 12], gru.Bias!.Shape);
        Assert.All(gru.Bias.Values.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void NonSequencesGetClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => new LSTM(4).Apply(Input.Create(28)));
        Assert.Contains("(None, 28)", e.Message);
        Assert.Contains("timesteps", e.Message);
        var lstm = new LSTM(4);
        lstm.Apply(Input.Create(5, 3));
        e = Assert.Throws<ArgumentException>(() => lstm.Apply(Input.Create(5, 4)));
        Assert.Contains("expects 3 features per step, received 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Apply(Input.Create(5, 3), Input.Create(4)));
        Assert.Contains("2 initial state(s)", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Apply(Input.Create(5, 3), Input.Create(3), Input.Create(4)));
        Assert.Contains("(None, 4)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GRU(0));
        Assert.Throws<ArgumentException>(() => new GRU(3, resetAfter: false));
        Assert.Throws<ArgumentException>(() => new LSTM(3, activation: "softmax"));
        e = Assert.Throws<ArgumentException>(() => new RepeatVector(3).Apply(Input.Create(2, 2)));
        Assert.Contains("(None, 2, 2)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatVector(0));
    }
}
