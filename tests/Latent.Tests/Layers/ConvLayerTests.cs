using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Layers;

/// <summary>
/// The image layers against naive reference loops (every padding, stride, odd size, one and several channels),
/// their gradients against finite differences, Keras's output shapes, and clear errors for bad shapes.
/// </summary>
public class ConvLayerTests
{
    private static float[] Run(Layer layer, int[] shape, int batch, float[] x)
    {
        var input = Input.Create(shape);
        var model = new Model(input, layer.Apply(input));
        return model.Predict(Tensor.FromArray(x, [batch, .. shape]), batchSize: batch).Span.ToArray();
    }

    private static void Close(double expected, float actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5 * (1 + Math.Abs(expected)), $"expected {expected}, got {actual}");

    private static (int Out, int Pad) KerasAxis(int n, int k, int s, bool same)
    {
        if (!same) return ((n - k) / s + 1, 0);
        int o = (n + s - 1) / s;
        return (o, Math.Max((o - 1) * s + k - n, 0) / 2);
    }

    public static TheoryData<int, int, int, int, int, int, int, bool> ConvCases() => new()
    {
        // H, W, C, filters, k, s, batch, same
        { 7, 7, 1, 3, 3, 1, 2, false },
        { 7, 7, 1, 3, 3, 1, 2, true },
        { 8, 5, 3, 4, 3, 2, 3, true },     // odd width, stride 2, padding split 0/1
        { 9, 6, 2, 5, 2, 2, 1, false },
        { 5, 5, 4, 2, 5, 1, 2, true },     // kernel as large as the image
        { 6, 9, 3, 3, 4, 3, 2, true },     // even kernel, stride 3
        { 4, 4, 2, 2, 1, 1, 3, false },    // 1×1
        // Eight filters or more take the unrolled-window product (and, transposed, eight input channels or more):
        { 7, 7, 3, 8, 3, 1, 2, true },
        { 9, 8, 2, 16, 3, 2, 2, true },
        { 6, 6, 4, 9, 2, 1, 1, false },
        { 5, 5, 8, 3, 3, 2, 2, true },
        { 6, 5, 9, 12, 3, 1, 2, false },
        // 32 filters or more: strided, or rows not a multiple of four wide, through whole-sample products (several
        // samples per product); four-wide rows on the direct kernels; windows too many for one product, in chunks.
        { 9, 7, 3, 32, 3, 2, 3, true },
        { 6, 7, 5, 32, 3, 1, 2, true },
        { 8, 8, 4, 32, 3, 1, 2, true },
        { 30, 30, 32, 32, 3, 1, 2, true },
        // Fewer than 8 filters on rows of 8 or more: eight positions at a time, then the last few four at a time.
        { 10, 19, 3, 1, 3, 1, 2, true },
        { 9, 12, 4, 3, 3, 1, 2, false },
        { 6, 17, 16, 1, 3, 2, 2, true },
        // Eight filters on rows of 8 or more: blocks of eight positions, then four.
        { 9, 11, 5, 8, 3, 1, 2, true },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2DMatchesTheNaiveLoop(int h, int w, int c, int f, int k, int s, int batch, bool same)
    {
        foreach (bool relu in new[] { false, true }) CheckConv2D(h, w, c, f, k, s, batch, same, relu);
    }

    // A ReLU is applied in the convolution's own store (the layer owns it), so it is checked here, not only in the executor.
    private static void CheckConv2D(int h, int w, int c, int f, int k, int s, int batch, bool same, bool relu)
    {
        Randomness.SetSeed(h * 100 + w);
        var layer = new Conv2D(f, (k, k), strides: (s, s), padding: same ? "same" : "valid", activation: relu ? "relu" : null,
                               biasInitializer: new Latent.Initializers.RandomNormal(0, 1));
        var x = Synthetic.Uniform(batch * h * w * c, 3);
        var y = Run(layer, [h, w, c], batch, x);
        var kernel = layer.Kernel!.Values.ToArray();
        var bias = layer.Bias!.Values.ToArray();
        var (oh, pt) = KerasAxis(h, k, s, same);
        var (ow, pl) = KerasAxis(w, k, s, same);
        Assert.Equal(batch * oh * ow * f, y.Length);
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < oh; o++)
        for (int q = 0; q < ow; q++)
        for (int ff = 0; ff < f; ff++)
        {
            double sum = bias[ff];
            for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                int ih = o * s + i - pt, iw = q * s + j - pl;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                for (int cc = 0; cc < c; cc++)
                    sum += (double)x[((b * h + ih) * w + iw) * c + cc] * kernel[((i * k + j) * c + cc) * f + ff];
            }
            Close(relu ? Math.Max(sum, 0) : sum, y[((b * oh + o) * ow + q) * f + ff]);
        }
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2DTransposeMatchesTheNaiveLoop(int h, int w, int c, int f, int k, int s, int batch, bool same)
    {
        foreach (bool relu in new[] { false, true }) CheckConv2DTranspose(h, w, c, f, k, s, batch, same, relu);
    }

    private static void CheckConv2DTranspose(int h, int w, int c, int f, int k, int s, int batch, bool same, bool relu)
    {
        Randomness.SetSeed(h * 10 + w);
        var layer = new Conv2DTranspose(f, (k, k), strides: (s, s), padding: same ? "same" : "valid", activation: relu ? "relu" : null,
                                        biasInitializer: new Latent.Initializers.RandomNormal(0, 1));
        var x = Synthetic.Uniform(batch * h * w * c, 4);
        var y = Run(layer, [h, w, c], batch, x);
        var kernel = layer.Kernel!.Values.ToArray();                 // (k, k, f, c)
        var bias = ((Weight)layer.Weights[1]).Values.ToArray();
        // Keras: valid OH = H·s + max(k − s, 0); same OH = H·s, the forward convolution's padding before.
        int oh = same ? h * s : h * s + Math.Max(k - s, 0), ow = same ? w * s : w * s + Math.Max(k - s, 0);
        int pt = same ? Math.Max((h - 1) * s + k - oh, 0) / 2 : 0, pl = same ? Math.Max((w - 1) * s + k - ow, 0) / 2 : 0;
        var expected = new double[batch * oh * ow * f];
        for (int b = 0; b < batch; b++)
        for (int r = 0; r < oh * ow; r++)
        for (int ff = 0; ff < f; ff++) expected[(b * oh * ow + r) * f + ff] = bias[ff];
        for (int b = 0; b < batch; b++)
        for (int ih = 0; ih < h; ih++)
        for (int iw = 0; iw < w; iw++)
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
        {
            int o = ih * s + i - pt, q = iw * s + j - pl;
            if (o < 0 || o >= oh || q < 0 || q >= ow) continue;
            for (int ff = 0; ff < f; ff++)
            for (int cc = 0; cc < c; cc++)
                expected[((b * oh + o) * ow + q) * f + ff] += (double)x[((b * h + ih) * w + iw) * c + cc] * kernel[((i * k + j) * f + ff) * c + cc];
        }
        Assert.Equal(expected.Length, y.Length);
        for (int i = 0; i < y.Length; i++) Close(relu ? Math.Max(expected[i], 0) : expected[i], y[i]);
    }

    [Theory]
    [InlineData(6, 6, 2, 2, 2, false)]
    [InlineData(7, 5, 3, 2, 2, true)]    // odd sizes, "same": the last window hangs over the edge
    [InlineData(7, 7, 1, 3, 2, false)]   // overlapping windows
    [InlineData(5, 8, 2, 3, 1, true)]
    [InlineData(6, 6, 16, 2, 2, false)]  // whole 2×2 windows, channels in whole vectors
    [InlineData(7, 5, 19, 2, 2, true)]   // the same with a channel tail and edge windows
    public void MaxPooling2DMatchesTheNaiveLoop(int h, int w, int c, int p, int s, bool same)
    {
        int batch = 2;
        var x = Synthetic.Uniform(batch * h * w * c, 5);
        var y = Run(new MaxPooling2D((p, p), (s, s), same ? "same" : "valid"), [h, w, c], batch, x);
        var (oh, pt) = KerasAxis(h, p, s, same);
        var (ow, pl) = KerasAxis(w, p, s, same);
        Assert.Equal(batch * oh * ow * c, y.Length);
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < oh; o++)
        for (int q = 0; q < ow; q++)
        for (int cc = 0; cc < c; cc++)
        {
            float m = float.NegativeInfinity;
            for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++)
            {
                int ih = o * s + i - pt, iw = q * s + j - pl;
                if (ih >= 0 && ih < h && iw >= 0 && iw < w) m = Math.Max(m, x[((b * h + ih) * w + iw) * c + cc]);
            }
            Assert.Equal(m, y[((b * oh + o) * ow + q) * c + cc]);
        }
    }

    [Fact]
    public void UpSamplingRepeatsEachPixelAndPaddingCroppingMoveTheImage()
    {
        var x = Synthetic.Uniform(2 * 3 * 4 * 2, 6);
        var up = Run(new UpSampling2D((2, 3)), [3, 4, 2], 2, x);
        for (int b = 0; b < 2; b++)
        for (int r = 0; r < 6; r++)
        for (int q = 0; q < 12; q++)
        for (int c = 0; c < 2; c++)
            Assert.Equal(x[((b * 3 + r / 2) * 4 + q / 3) * 2 + c], up[((b * 6 + r) * 12 + q) * 2 + c]);

        var x16 = Synthetic.Uniform(2 * 3 * 4 * 16, 7);                        // channels in whole vectors
        var up16 = Run(new UpSampling2D((2, 3)), [3, 4, 16], 2, x16);
        for (int b = 0; b < 2; b++)
        for (int r = 0; r < 6; r++)
        for (int q = 0; q < 12; q++)
        for (int c = 0; c < 16; c++)
            Assert.Equal(x16[((b * 3 + r / 2) * 4 + q / 3) * 16 + c], up16[((b * 6 + r) * 12 + q) * 16 + c]);

        var padded = Run(new ZeroPadding2D(((1, 2), (0, 3))), [3, 4, 2], 2, x);   // → 6 × 7
        var cropped = Run(new Cropping2D(((1, 2), (0, 3))), [6, 7, 2], 2, padded);
        Assert.Equal(x, cropped);
        Assert.Equal(2 * 6 * 7 * 2, padded.Length);
        Assert.Equal(x.Sum(), padded.Sum(), 3);
    }

    public static TheoryData<string> LayerNames() => new(["conv", "conv-same-s2", "conv-wide", "conv-relu", "conv-relu-few", "transpose", "transpose-relu", "transpose-wide", "transpose-same-s2", "pool", "pool-same", "up", "pad", "crop", "flatten", "reshape", "noise"]);

    private static Layer Make(string name) => name switch
    {
        "conv" => new Conv2D(3, (3, 2), activation: "tanh"),
        "conv-same-s2" => new Conv2D(2, (3, 3), strides: (2, 2), padding: "same"),
        "conv-wide" => new Conv2D(9, (3, 3), strides: (2, 1), padding: "same", activation: "elu"),
        // ReLU is the layer's own: applied in its kernels' store, its derivative fused with the bias gradient.
        "conv-relu" => new Conv2D(16, (3, 3), padding: "same", activation: "relu", biasInitializer: new Latent.Initializers.Constant(0.1f)),
        "conv-relu-few" => new Conv2D(3, (2, 2), activation: "relu", biasInitializer: new Latent.Initializers.Constant(0.1f)),
        "transpose-relu" => new Conv2DTranspose(8, (3, 3), strides: (2, 2), padding: "same", activation: "relu", biasInitializer: new Latent.Initializers.Constant(0.5f)),
        "transpose-wide" => new Conv2DTranspose(9, (2, 3), strides: (1, 2), padding: "same"),
        "transpose" => new Conv2DTranspose(2, (3, 3), activation: "sigmoid"),
        "transpose-same-s2" => new Conv2DTranspose(3, (3, 2), strides: (2, 2), padding: "same"),
        "pool" => new MaxPooling2D((2, 2)),
        "pool-same" => new MaxPooling2D((2, 2), padding: "same"),
        "up" => new UpSampling2D((2, 3)),
        "pad" => new ZeroPadding2D(((1, 0), (2, 1))),
        "crop" => new Cropping2D(((1, 0), (0, 2))),
        "flatten" => new Flatten(),
        "reshape" => new Reshape([-1, 5]),
        _ => new GaussianNoise(0.3),
    };

    [Theory]
    [InlineData(false, 16, 1)]     // the direct 16-wide kernels
    [InlineData(false, 8, 1)]
    [InlineData(false, 12, 1)]     // the unrolled-window product; 12 does not divide 64
    [InlineData(false, 3, 2)]      // few filters, strided
    [InlineData(true, 8, 2)]
    [InlineData(true, 16, 1)]
    [InlineData(true, 3, 2)]
    [InlineData(false, 32, 2)]     // whole-sample products
    [InlineData(true, 32, 2)]
    public void AnOwnedReluEqualsAReluLayerAfterTheConvolution(bool transpose, int filters, int stride)
    {
        // The layer applies its ReLU in its kernels and fuses the derivative with the bias gradient; the executor
        // applies a separate Activation layer's. Away from the kink both are the same function.
        Layer Conv(string? activation) => transpose
            ? new Conv2DTranspose(filters, (3, 3), strides: (stride, stride), padding: "same", activation: activation, name: "c")
            : new Conv2D(filters, (3, 3), strides: (stride, stride), padding: "same", activation: activation, name: "c");
        Randomness.SetSeed(filters + stride);
        var fusedIn = Input.Create(7, 6, 3);
        var fused = new Model(fusedIn, Conv("relu").Apply(fusedIn));
        var plainIn = Input.Create(7, 6, 3);
        var plain = new Model(plainIn, new Latent.Layers.Activation("relu").Apply(Conv(null).Apply(plainIn)));
        var weights = fused.GetWeights();
        for (int i = 0; i < weights.Length; i++) weights[i] = weights[i].Select((v, j) => i == 1 ? 0.3f * MathF.Sin(j) : v).ToArray();
        fused.SetWeights(weights);
        plain.SetWeights(weights);
        fused.Compile(optimizer: "sgd", loss: "mse");
        plain.Compile(optimizer: "sgd", loss: "mse");
        var x = Tensor.FromArray(Synthetic.Uniform(4 * 7 * 6 * 3, 9), 4, 7, 6, 3);
        var yFused = fused.Predict(x);
        var target = Tensor.FromArray(Synthetic.Uniform(yFused.Length, 10), [.. yFused.Shape]);
        var yPlain = plain.Predict(x);
        Assert.Equal(yPlain.ToArray(), yFused.ToArray());
        Assert.Contains(yFused.ToArray(), v => v == 0);                 // the ReLU clips some outputs
        var gFused = fused.ComputeGradients(x, target);
        var gPlain = plain.ComputeGradients(x, target);
        Assert.Equal(gPlain.Loss, gFused.Loss, 10);
        foreach (var (wf, wp) in fused.Weights.Zip(plain.Weights))
        {
            var (a, b) = (gFused.Of(wf).ToArray(), gPlain.Of(wp).ToArray());
            for (int i = 0; i < a.Length; i++) Close(b[i], a[i]);
        }
    }

    [Theory]
    [MemberData(nameof(LayerNames))]
    public void GradientsMatchFiniteDifferences(string name)
    {
        Randomness.SetSeed(name.Length);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(Make(name), [5, 5, 2], batch: 2, seed: 41, training: true));
    }

    [Fact]
    public void GradientsMatchWithManyInputChannels()
    {
        // Eight input channels or more: a transposed convolution's products run as GEMMs, not directly.
        Randomness.SetSeed(5);
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Conv2DTranspose(3, (3, 3), strides: (2, 2), padding: "same"), [3, 4, 8], batch: 2, seed: 42));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Conv2D(2, (3, 3), padding: "same"), [4, 3, 9], batch: 2, seed: 43));
        // Multiples of eight channels and filters: the register-blocked forward kernels.
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Conv2D(3, (3, 3), padding: "same"), [5, 4, 8], batch: 2, seed: 44));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Conv2D(16, (3, 2)), [6, 5, 16], batch: 2, seed: 45));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new Conv2D(8, (2, 3), padding: "same"), [4, 5, 8], batch: 1, seed: 46));
        // Up-sampling and pooling over whole vectors of channels.
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new UpSampling2D((2, 2)), [3, 2, 16], batch: 2, seed: 47));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new MaxPooling2D((2, 2), padding: "same"), [5, 4, 8], batch: 2, seed: 48));
        GradientChecker.AssertAll(GradientChecker.CheckLayer(new MaxPooling2D((2, 2)), [6, 5, 19], batch: 2, seed: 49));
        // Even sizes and whole vectors: the windows tile the image and the gradient is written, not added.
        foreach (bool write in new[] { false, true })
        {
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new MaxPooling2D((2, 2), padding: "same"), [4, 6, 16], batch: 2, seed: 50, writeInputGrads: write));
            GradientChecker.AssertAll(GradientChecker.CheckLayer(new MaxPooling2D((2, 2), padding: "same"), [5, 6, 16], batch: 2, seed: 51, writeInputGrads: write));
        }
    }

    [Fact]
    public void OutputShapesFollowKeras()
    {
        SymbolicTensor Through(Layer l, params int[] shape) => l.Apply(Input.Create(shape));
        Assert.Equal([26, 26, 16], Through(new Conv2D(16, (3, 3)), 28, 28, 1).Shape);
        Assert.Equal([28, 28, 16], Through(new Conv2D(16, (3, 3), padding: "same"), 28, 28, 1).Shape);
        Assert.Equal([14, 14, 32], Through(new Conv2D(32, (3, 3), strides: (2, 2), padding: "same"), 28, 28, 1).Shape);
        Assert.Equal([13, 13, 32], Through(new Conv2D(32, (3, 3), strides: (2, 2)), 28, 28, 1).Shape);
        Assert.Equal([4, 4, 8], Through(new MaxPooling2D((2, 2), padding: "same"), 7, 7, 8).Shape);
        Assert.Equal([3, 3, 8], Through(new MaxPooling2D((2, 2)), 7, 7, 8).Shape);
        Assert.Equal([14, 14, 64], Through(new Conv2DTranspose(64, (3, 3), strides: (2, 2), padding: "same"), 7, 7, 64).Shape);
        Assert.Equal([15, 15, 64], Through(new Conv2DTranspose(64, (3, 3), strides: (2, 2)), 7, 7, 64).Shape);
        Assert.Equal([9, 9, 4], Through(new Conv2DTranspose(4, (3, 3)), 7, 7, 2).Shape);
        Assert.Equal([16, 16, 8], Through(new UpSampling2D((2, 2)), 8, 8, 8).Shape);
        Assert.Equal([392], Through(new Flatten(), 7, 7, 8).Shape);
        Assert.Equal([7, 7, 64], Through(new Reshape([7, 7, -1]), 3136).Shape);
    }

    [Fact]
    public void BadShapesAndSettingsAreClearErrors()
    {
        var rank = Assert.Throws<ArgumentException>(() => new Conv2D(8, (3, 3), name: "c1").Apply(Input.Create(784)));
        Assert.Contains("Conv2D 'c1' expects inputs of shape (batch, height, width, channels), received (None, 784)", rank.Message);
        var big = Assert.Throws<ArgumentException>(() => new Conv2D(8, (5, 5), name: "c2").Apply(Input.Create(3, 3, 1)));
        Assert.Contains("larger than its 3×3 input", big.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D(8, (3, 3), strides: (0, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D(0, (3, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPooling2D((2, -2)));
        Assert.Throws<ArgumentException>(() => new Conv2D(8, (3, 3), padding: "full"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianNoise(double.NaN));
        var channels = new Conv2D(4, (3, 3), name: "c3");
        channels.Apply(Input.Create(8, 8, 3));
        Assert.Contains("expects 3 input channels, received 1", Assert.Throws<ArgumentException>(() => channels.Apply(Input.Create(8, 8, 1))).Message);
        Assert.Contains("cannot turn", Assert.Throws<ArgumentException>(() => new Reshape([7, 7]).Apply(Input.Create(50))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Noise.AddGaussian(new Tensor(2, 2), -0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Noise.AddGaussian(new Tensor(2, 2), double.NaN));
    }

    [Fact]
    public void GaussianNoiseIsOnlyForTrainingAndNoiseHelperClips()
    {
        var x = Synthetic.Uniform(4 * 5 * 5 * 2, 8);
        Assert.Equal(x, Run(new GaussianNoise(0.5), [5, 5, 2], 4, x));        // Predict: identity
        var clean = Tensor.FromArray(Synthetic.Uniform(10000, 9, 0, 1), 100, 100);
        var noisy = Noise.AddGaussian(clean, noiseFactor: 0.5, seed: 1);
        Assert.Equal(noisy.Span.ToArray(), Noise.AddGaussian(clean, 0.5, seed: 1).Span.ToArray());
        Assert.NotEqual(noisy.Span.ToArray(), Noise.AddGaussian(clean, 0.5, seed: 2).Span.ToArray());
        Assert.All(noisy.Span.ToArray(), v => Assert.InRange(v, 0f, 1f));
        double diff = 0;
        for (int i = 0; i < clean.Length; i++) diff += noisy.Span[i] - clean.Span[i];
        Assert.InRange(diff / clean.Length, -0.05, 0.05);
    }
}
