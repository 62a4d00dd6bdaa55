using FsCheck;
using FsCheck.Fluent;
using Latent.Kernels;
using Latent.Layers;

namespace Latent.Tests.Tensors;

public class ByteTensorTests
{
    [Fact]
    public void EveryByteReadsAsTheCorrectlyRoundedQuotient()
    {
        // numpy's x.astype('float32') / 255. is a correctly rounded float32 division; multiplying by 1/255 is not.
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        foreach (float divisor in new[] { 255f, 1f, 127.5f, 3f })
        {
            var got = new float[256];
            Simd.DivideBytes(all, divisor, got);
            for (int i = 0; i < 256; i++) Assert.Equal((float)i / divisor, got[i]);
        }
        int differs = Enumerable.Range(0, 256).Count(i => i / 255f != i * (1f / 255f));
        Assert.True(differs > 0, "the test would not tell division from multiplication by the reciprocal");
    }

    [Fact]
    public void VectorBodyAndTailAgreeWithScalarAtEveryLength()
    {
        Prop.ForAll(Gen.Choose(0, 300).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), (n, seed) =>
        {
            var rng = new Random(seed);
            var src = new byte[n];
            rng.NextBytes(src);
            var dst = new float[n + 3];
            Array.Fill(dst, -1f);
            Simd.DivideBytes(src, 255f, dst);
            for (int i = 0; i < n; i++) if (dst[i] != src[i] / 255f) return false;
            return dst[n] == -1f && dst[n + 2] == -1f;   // nothing written past the source's length
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void CopyRowsGathersAndConverts()
    {
        var data = Enumerable.Range(0, 12).Select(i => (byte)(i * 20)).ToArray();
        var b = new ByteTensor(data, 255f, 4, 3);
        var dst = new float[6];
        b.CopyRows([3, 1], dst);
        Assert.Equal([180 / 255f, 200 / 255f, 220 / 255f, 60 / 255f, 80 / 255f, 100 / 255f], dst);
        b.CopyRows(1, 2, dst);
        Assert.Equal(b.ToTensor().SliceRows(1, 2).Span.ToArray(), dst);
        Assert.Equal([2, 3], b.SliceRows(2, 2).Shape);
        Assert.Equal((byte)120, b.SliceRows(2, 2).Span[0]);
    }

    [Fact]
    public void BadArgumentsNameTheValue()
    {
        var e = Assert.Throws<ArgumentException>(() => new ByteTensor(new byte[10], 255f, 3, 3));
        Assert.Contains("(3, 3)", e.Message);
        Assert.Contains("10", e.Message);
        Assert.Contains("divisor=0", Assert.Throws<ArgumentException>(() => new ByteTensor(new byte[9], 0f, 3, 3)).Message);
        Assert.Contains("divisor=NaN", Assert.Throws<ArgumentException>(() => new ByteTensor(new byte[9], float.NaN, 3, 3)).Message);
        var b = new ByteTensor(new byte[9], 255f, 3, 3);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => b.CopyRows([0, 3], new float[6]));
        Assert.Contains("3", r.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.CopyRows(2, 2, new float[6]));
        Assert.Contains("need 9", Assert.Throws<ArgumentException>(() => b.CopyRows([0, 1, 2], new float[8])).Message);
    }

    [Fact]
    public void FitOnBytesMatchesFitOnTheirFloatsExactly()
    {
        var rng = new Random(5);
        var bytes = new byte[200 * 16];
        rng.NextBytes(bytes);
        var asBytes = new ByteTensor(bytes, 255f, 200, 16);
        var asFloats = asBytes.ToTensor();
        float[][] Train(SampleSet x)
        {
            Randomness.SetSeed(3);
            var input = Input.Create(16);
            var model = new Model(input, new Dense(16, "sigmoid").Apply(new Dense(4, "relu").Apply(input)));
            model.Compile("adagrad", "binary_crossentropy");
            var h = model.Fit(x, x, epochs: 2, batchSize: 32, verbose: 0, seed: 9, validationData: (x, x));
            Assert.Equal(2, h.ValLoss.Count);
            Assert.Equal(model.Evaluate(asFloats, asFloats), model.Evaluate(x, x));
            Assert.Equal(model.Predict(asFloats).Span.ToArray(), model.Predict(x).Span.ToArray());
            return model.GetWeights();
        }
        var fromBytes = Train(asBytes);
        var fromFloats = Train(asFloats);
        for (int i = 0; i < fromBytes.Length; i++) Assert.Equal(fromFloats[i], fromBytes[i]);
    }

    /// <summary>A user's own source: rows computed on demand.</summary>
    private sealed class Computed(int rows, int size, Func<int, int, float> value) : SampleSet
    {
        public override IReadOnlyList<int> Shape => [rows, size];
        public override int Rows => rows;
        public override int RowSize => size;
        protected override void ReadRow(int row, Span<float> destination)
        {
            for (int j = 0; j < size; j++) destination[j] = value(row, j);
        }
    }

    [Fact]
    public void ACustomSourceTrainsAndItsNonFiniteValuesAreFound()
    {
        var input = Input.Create(8);
        var model = new Model(input, new Dense(8, "sigmoid").Apply(new Dense(2, "relu").Apply(input)));
        model.Compile("adam", "mse");
        var good = new Computed(50, 8, (r, j) => ((r * 7 + j) % 10) / 10f);
        var h = model.Fit(good, good, epochs: 3, batchSize: 16, verbose: 0, seed: 1);
        Assert.True(h.Loss[2] < h.Loss[0]);
        var bad = new Computed(50, 8, (r, j) => r == 41 && j == 5 ? float.NaN : 0.5f);
        var e = Assert.Throws<ArgumentException>(() => model.Fit(bad, bad, verbose: 0));
        Assert.Contains("sample 41, element 5", e.Message);
    }
}
