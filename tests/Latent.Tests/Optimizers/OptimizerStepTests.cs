using Latent.Layers;
using Latent.Optimizers;

namespace Latent.Tests.Optimizers;

/// <summary>
/// Two steps of each optimizer on one parameter θ₀ = 1 with gradients 0.5 then −0.25, against values worked
/// out from the formulas in each class's documentation (Keras 2 defaults).
/// </summary>
public class OptimizerStepTests
{
    private static float TwoSteps(Optimizer optimizer, float g1 = 0.5f, float g2 = -0.25f)
    {
        var layer = new Dense(1, useBias: false);
        layer.Apply(Input.Create(1));
        var w = layer.Kernel!;
        w.Values[0] = 1f;
        optimizer.Build(w.Store.Length);
        foreach (float g in new[] { g1, g2 })
        {
            w.Grads[0] = g;
            optimizer.Apply(w.Store, [w]);
        }
        Assert.Equal(2, optimizer.Iterations);
        return w.Values[0];
    }

    [Fact]
    public void SgdPlain() => Assert.Equal(1 - 0.01f * 0.5f + 0.01f * 0.25f, TwoSteps(new Sgd()), 6);

    [Fact]
    public void SgdMomentum() =>
        // v₁ = −0.05, θ₁ = 0.95; v₂ = 0.9·(−0.05) + 0.025 = −0.02, θ₂ = 0.93
        Assert.Equal(0.93f, TwoSteps(new Sgd(0.1, momentum: 0.9)), 6);

    [Fact]
    public void SgdNesterov() =>
        // θ₁ = 1 + 0.9·(−0.05) − 0.05 = 0.905; v₂ = −0.02, θ₂ = 0.905 + 0.9·(−0.02) + 0.025 = 0.912
        Assert.Equal(0.912f, TwoSteps(new Sgd(0.1, momentum: 0.9, nesterov: true)), 6);

    [Fact]
    public void Adagrad() =>
        // a₁ = 0.25, θ₁ = 1 − 0.01·0.5/0.5 = 0.99; a₂ = 0.3125, θ₂ = 0.99 + 0.01·0.25/√0.3125 = 0.9944721
        Assert.Equal(0.99447214f, TwoSteps(new Adagrad()), 6);

    [Fact]
    public void AdagradWithTfKerasInitialAccumulator() =>
        // a₁ = 0.1 + 0.25, θ₁ = 1 − 0.01·0.5/√0.35; a₂ = 0.4125, θ₂ = θ₁ + 0.01·0.25/√0.4125
        Assert.Equal((float)(1 - 0.005 / Math.Sqrt(0.35) + 0.0025 / Math.Sqrt(0.4125)), TwoSteps(new Adagrad(initialAccumulator: 0.1)), 6);

    [Fact]
    public void Adadelta() =>
        // a₁ = 0.0125, Δ₁ = 0.5·√1e-7/√(0.0125 + 1e-7) = 1.41421e-3, d₁ = 0.05·Δ₁²; then the same with g = −0.25
        Assert.Equal(0.99949866f, TwoSteps(new Adadelta()), 6);

    [Fact]
    public void RmsProp() =>
        // a₁ = 0.025, θ₁ = 1 − 0.001·0.5/√0.025 = 0.99683772; a₂ = 0.02875, θ₂ = θ₁ + 0.001·0.25/√0.02875
        Assert.Equal(0.99831214f, TwoSteps(new RmsProp()), 6);

    [Fact]
    public void Adam() =>
        // t = 1: η₁ = 0.001·√0.001/0.1, m = 0.05, v = 2.5e-4, θ₁ = 1 − η₁·0.05/√2.5e-4 ≈ 0.999; t = 2 likewise
        Assert.Equal(0.99873367f, TwoSteps(new Adam()), 6);

    public static TheoryData<string> Names() => new(["sgd", "adagrad", "adadelta", "rmsprop", "adam"]);

    [Theory]
    [MemberData(nameof(Names))]
    public void VectorPathMatchesTheScalarFormulaOnEveryElement(string name)
    {
        // 37 parameters: full vectors plus a scalar tail; each must follow the same formula as a lone parameter.
        var grads = TestSupport.Synthetic.Uniform(37 * 3, 5);
        Optimizer Make() => Optimizer.Get(name) is Sgd ? new Sgd(0.1, momentum: 0.9, nesterov: true) : Optimizer.Get(name);
        var (vector, scalar) = TogetherAndAlone(Make, i => 0.1f * i - 1, grads, 37, 3);
        for (int i = 0; i < 37; i++) Assert.Equal(scalar[i], vector[i], 5);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void SixteenLaneAndNarrowVectorsGiveTheSameBits(string name)
    {
        // Where the CPU has 512-bit vectors the updates take them; Vector<float> (8 lanes there) is the other path.
        // Lane-wise IEEE operations either way: bit for bit the same, zeros and tails included. Elsewhere both runs take
        // the narrow path and agree trivially. (Flipping the knob cannot change another test's results, for this reason.)
        const int n = 101, steps = 5;
        var grads = TestSupport.Synthetic.Uniform(n * steps, 6, -1, 1);
        for (int i = 0; i < grads.Length; i += 5) grads[i] = 0f;
        Optimizer Make() => Optimizer.Get(name) is Sgd ? new Sgd(0.1, momentum: 0.9, nesterov: true) : Optimizer.Get(name);
        float[] Run(bool wide)
        {
            bool saved = Optimizer.Vector512Updates;
            Optimizer.Vector512Updates = wide;
            try { return TogetherAndAlone(Make, i => 0.02f * i - 1, grads, n, steps).Together; }
            finally { Optimizer.Vector512Updates = saved; }
        }
        var narrow = Run(false);
        var wide = Run(true);
        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.SingleToInt32Bits(narrow[i]) == BitConverter.SingleToInt32Bits(wide[i]),
                $"{name}, element {i}: {wide[i]:R} with 16 lanes, {narrow[i]:R} with {System.Numerics.Vector<float>.Count}");
    }

    /// <summary>
    /// <paramref name="n"/> parameters (starting at <paramref name="start"/>(i)) updated together for <paramref name="steps"/>
    /// steps with gradients <paramref name="grads"/>[step·n + i], on the vector path; and each parameter alone, on the
    /// scalar one: the final values of both.
    /// </summary>
    private static (float[] Together, float[] Alone) TogetherAndAlone(Func<Optimizer> make, Func<int, float> start, float[] grads, int n, int steps)
    {
        var layer = new Dense(n, useBias: false);
        layer.Apply(Input.Create(1));
        var w = layer.Kernel!;
        for (int i = 0; i < n; i++) w.Values[i] = start(i);
        var opt = make();
        opt.Build(w.Store.Length);
        for (int step = 0; step < steps; step++)
        {
            grads.AsSpan(step * n, n).CopyTo(w.Grads);
            opt.Apply(w.Store, [w]);
        }
        var alone = new float[n];
        for (int i = 0; i < n; i++)
        {
            var one = new Dense(1, useBias: false);
            one.Apply(Input.Create(1));
            var u = one.Kernel!;
            u.Values[0] = start(i);
            var single = make();
            single.Build(u.Store.Length);
            for (int step = 0; step < steps; step++)
            {
                u.Grads[0] = grads[step * n + i];
                single.Apply(u.Store, [u]);
            }
            alone[i] = u.Values[0];
        }
        return (w.Values.ToArray(), alone);
    }

    public static TheoryData<string, double> DividerOptimizers() => new()
    {
        { "adagrad", 1e-7 }, { "adagrad", 0 }, { "adadelta", 1e-7 }, { "adadelta", 0 }, { "rmsprop", 1e-7 }, { "rmsprop", 0 },
    };

    [Theory]
    [MemberData(nameof(DividerOptimizers))]
    public void ZeroGradientsEndWhereTheScalarFormulaDoesBitForBit(string name, double epsilon)
    {
        // Whole vectors of zero gradients (±0, an input never lit in a batch), on weights of either signed zero: each
        // element must end bit for bit where the scalar formula puts a lone parameter, including the 0/0 NaN of ε = 0 on
        // a state that is still 0 (Adagrad skips whole vectors of +0 gradients, and must keep all of these).
        // Blocks of 16 elements: zero at every step; zero, then not; not, then zero (a state that is no longer 0); never.
        // The first four blocks' zeros are +0, whole vectors of which Adagrad skips; the next four's alternate ±0.
        const int n = 128, steps = 4;
        var grads = new float[steps * n];
        var rng = new Random(3);
        for (int step = 0; step < steps; step++)
            for (int i = 0; i < n; i++)
            {
                int block = i / 16 % 4;
                bool zero = block == 0 || (block == 1 && step < 2) || (block == 2 && step >= 2);
                grads[step * n + i] = zero ? (i < 64 || i % 2 == 0 ? 0f : -0f) : (float)(rng.NextDouble() - 0.5);
            }
        Optimizer Make() => name switch
        {
            "adagrad" => new Adagrad(epsilon: epsilon),
            "adadelta" => new Adadelta(epsilon: epsilon),
            _ => new RmsProp(epsilon: epsilon),
        };
        var (vector, scalar) = TogetherAndAlone(Make, i => i % 3 == 0 ? -0f : 0.05f * i - 1, grads, n, steps);
        for (int i = 0; i < n; i++)
        {
            float expected = scalar[i], actual = vector[i];
            Assert.True(float.IsNaN(expected) ? float.IsNaN(actual) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                $"{name}, ε = {epsilon}, element {i}: {actual:R} where the scalar formula gives {expected:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void WholeStoreUpdateOnTwoCoresEqualsThePerWeightUpdate(string name)
    {
        // 3 weights, 100k+ parameters: the flat path splits the store across cores; a (never binding) clip norm
        // forces the per-weight path. Both must give the same bits. Both start from the first run's weights: the
        // global seed is shared with tests running in parallel, which may draw from it between SetSeed and the build.
        float[][]? start = null;
        float[][] Run(bool flat)
        {
            Randomness.SetSeed(3);
            var input = Input.Create(300);
            var model = new Model(input, new Dense(7).Apply(new Dense(333, "relu").Apply(input)));
            if (start is null) start = model.GetWeights();
            else model.SetWeights(start);
            var opt = Optimizer.Get(name);
            if (!flat) opt = name switch
            {
                "sgd" => new Sgd { ClipNorm = 1e30 },
                "adagrad" => new Adagrad { ClipNorm = 1e30 },
                "adadelta" => new Adadelta { ClipNorm = 1e30 },
                "rmsprop" => new RmsProp { ClipNorm = 1e30 },
                _ => new Adam { ClipNorm = 1e30 },
            };
            model.Compile(opt, "mean_squared_error");
            var x = Tensor.FromArray(TestSupport.Synthetic.Uniform(40 * 300, 1), 40, 300);
            var y = Tensor.FromArray(TestSupport.Synthetic.Uniform(40 * 7, 2), 40, 7);
            for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
            return model.GetWeights();
        }
        var a = Run(true);
        var b = Run(false);
        Assert.True(a.Sum(w => w.Length) > 1 << 15);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
        // The flat update adds a data-parallel step's partial gradients block by block: a block that is no multiple of
        // the vector width (scalar tails inside the part) changes nothing either. Other tests may run meanwhile: any
        // block gives the same bits, so the setting cannot disturb them.
        int saved = Optimizer.SumBlock;
        try
        {
            Optimizer.SumBlock = 100;
            var c = Run(true);
            for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], c[i]);
        }
        finally { Optimizer.SumBlock = saved; }
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adadelta")]
    [InlineData("rmsprop")]
    [InlineData("adam")]
    public void StateDecayingUnderZeroGradientsEndsAtZeroNotSubnormal(string name)
    {
        // A weight whose gradient stays 0 (a dead ReLU unit's) has its moving averages decay geometrically; in float
        // they would stop in the subnormal range (0.9 × the smallest subnormal rounds back to it), where each multiply
        // costs a microcode assist. They must reach 0 instead, on the vector lanes and on the scalar tail alike.
        var layer = new Dense(37, useBias: false);
        layer.Apply(Input.Create(1));
        var w = layer.Kernel!;
        var opt = name == "sgd" ? new Sgd(0.1, momentum: 0.9) : Optimizer.Get(name);
        opt.Build(w.Store.Length);
        for (int i = 0; i < 37; i++) w.Grads[i] = (i + 1) * 1e-4f;
        opt.Apply(w.Store, [w]);
        w.Grads.Clear();
        for (int step = 0; step < 1500; step++) opt.Apply(w.Store, [w]);
        int decayed = 0;
        foreach (var slot in opt.Slots)
            foreach (float v in slot)
            {
                Assert.False(float.IsSubnormal(v), $"{name}: a state value is subnormal ({v:R})");
                if (v == 0) decayed++;
            }
        Assert.True(decayed >= 37, $"{name}: only {decayed} state values reached 0");   // the fast-decaying slot did
    }

    [Fact]
    public void ClipValueClampsEachElement() =>
        Assert.Equal(1 - 0.1f * 0.2f + 0.1f * 0.2f, TwoSteps(new Sgd(0.1) { ClipValue = 0.2 }), 6);

    [Fact]
    public void ClipNormRescalesTheWeightsGradient()
    {
        var layer = new Dense(2, useBias: false);
        layer.Apply(Input.Create(1));
        var w = layer.Kernel!;
        w.Values.Clear();
        var sgd = new Sgd(1.0) { ClipNorm = 1.0 };
        sgd.Build(w.Store.Length);
        w.Grads[0] = 3; w.Grads[1] = 4; // norm 5 -> scaled to (0.6, 0.8)
        sgd.Apply(w.Store, [w]);
        Assert.Equal(-0.6f, w.Values[0], 6);
        Assert.Equal(-0.8f, w.Values[1], 6);
    }

    [Fact]
    public void NamesGiveKeras2Defaults()
    {
        Assert.Equal(0.01, ((Adagrad)Optimizer.Get("adagrad")).LearningRate);
        Assert.Equal(1e-7, ((Adagrad)Optimizer.Get("adagrad")).Epsilon);
        var ad = (Adadelta)Optimizer.Get("adadelta");
        Assert.Equal((1.0, 0.95, 1e-7), (ad.LearningRate, ad.Rho, ad.Epsilon));
        Assert.Equal(0.001, Optimizer.Get("rmsprop").LearningRate);
        var adam = (Adam)Optimizer.Get("adam");
        Assert.Equal((0.001, 0.9, 0.999, 1e-7), (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon));
        Assert.Equal(0.01, Optimizer.Get("sgd").LearningRate);
        Assert.Equal(0.5, new Adadelta(learningRate: 0.5).LearningRate);
    }

    [Fact]
    public void BadHyperParametersAreClearErrors()
    {
        Assert.Contains("learning_rate=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(-1)).Message);
        Assert.Contains("rho=1", Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(rho: 1)).Message);
        Assert.Contains("'adamw2'", Assert.Throws<ArgumentException>(() => Optimizer.Get("adamw2")).Message);
    }
}
