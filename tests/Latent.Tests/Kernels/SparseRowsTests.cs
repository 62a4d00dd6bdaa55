using Latent.Kernels;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Kernels;

/// <summary>
/// <see cref="SparseRows"/> against the naive multiply on shapes that hit every column block and tail, and its
/// promises: the same bits on any thread count and at any vector width, dense batches turned away, zeros skipped.
/// </summary>
[Collection(GemmSettingsCollection.Name)] // forces Gemm's instruction set and thread knobs
public class SparseRowsTests
{
    /// <summary>rows × width values, each nonzero with probability <paramref name="density"/>.</summary>
    private static float[] SparseBatch(int rows, int width, double density, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * width];
        for (int i = 0; i < x.Length; i++)
            if (rng.NextDouble() < density) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    public static TheoryData<GemmIsa> Isas()
    {
        var data = new TheoryData<GemmIsa> { GemmIsa.Scalar };
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported) data.Add(GemmIsa.Auto);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) data.Add(GemmIsa.Vector256);   // Auto is 512-bit there
        return data;
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void ProductsMatchTheNaiveMultiplyOnAwkwardShapes(GemmIsa isa)
    {
        using var _ = GemmSettings.Force(isa, threads: int.MaxValue, parallelFlops: 1);
        var sparse = new SparseRows();
        int seed = 0;
        foreach (int rows in new[] { 0, 1, 5, 33 })
        foreach (int width in new[] { 1, 7, 8, 37 })
        foreach (int n in new[] { 1, 7, 8, 9, 40, 64, 72, 99, 131, 200 })   // every block: 128, 64, 32, 8 (lines by one, two, four), scalar
        foreach (double density in new[] { 0.0, 0.1, 0.25 })
        {
            seed++;
            var x = SparseBatch(rows, width, density, seed);
            Assert.True(sparse.TryLoad(x, rows, width, maxDensity: 1.0));
            Assert.Equal(x.Count(v => v != 0), sparse.NonZeros);
            var w = Synthetic.Uniform(width * n, seed + 1);
            var bias = Synthetic.Uniform(n, seed + 2);
            var dz = Synthetic.Uniform(rows * n, seed + 3);
            bool withBias = seed % 2 == 0, accumulate = seed % 3 == 0;
            string shape = $"rows {rows}, width {width}, n {n}, density {density}, bias {withBias}, accumulate {accumulate}";

            var z = new float[rows * n];
            var expected = new float[rows * n];
            sparse.Multiply(w, n, z, withBias ? bias : default);
            GemmNaive.Multiply(false, false, rows, n, width, x, width, w, n, expected, n, false, withBias ? bias : default);
            AssertClose(expected, z, shape + ", x·W");

            var dw = Synthetic.Uniform(width * n, seed + 4);
            var expectedDw = (float[])dw.Clone();
            sparse.MultiplyTransposed(dz, n, dw, accumulate);
            GemmNaive.Multiply(true, false, width, n, rows, x, width, dz, n, expectedDw, n, accumulate);
            AssertClose(expectedDw, dw, shape + ", xᵀ·dz");
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void TheGradientByRowsHasTheSortedColumnsBits(GemmIsa isa)
    {
        // Every element is one chain of FMAs from zero over its nonzeros in ascending rows either way, so the bits are
        // equal; dW's old contents (written over) and blocks of dW's rows down to one row a block do not matter.
        using var _ = GemmSettings.Force(isa, threads: 1, parallelFlops: long.MaxValue);
        int savedBlock = SparseRows.ByRowsBlock;
        try
        {
            var sparse = new SparseRows();
            int seed = 100;
            foreach (int block in new[] { 1, 7, 64, 256 })
            foreach (int rows in new[] { 0, 1, 5, 33 })
            foreach (int width in new[] { 1, 9, 300 })
            foreach (int n in new[] { 1, 7, 8, 13, 32, 40, 67 })   // 32-wide blocks, 8-wide, scalar tails
            {
                SparseRows.ByRowsBlock = block;
                seed++;
                var x = SparseBatch(rows, width, 0.2, seed);
                Assert.True(sparse.TryLoad(x, rows, width, maxDensity: 1.0));
                var dz = Synthetic.Uniform(rows * n, seed + 1);
                var sorted = new float[width * n];
                sparse.MultiplyTransposed(dz, n, sorted, accumulate: false);
                var byRows = Synthetic.Uniform(width * n, seed + 2);   // garbage to be written over
                sparse.MultiplyTransposedByRows(dz, n, byRows);
                Assert.True(sorted.AsSpan().SequenceEqual(byRows), $"block {block}, rows {rows}, width {width}, n {n}");
                var naive = new float[width * n];
                GemmNaive.Multiply(true, false, width, n, rows, x, width, dz, n, naive, n, false);
                AssertClose(naive, byRows, $"block {block}, rows {rows}, width {width}, n {n}, against the naive multiply");
            }
        }
        finally
        {
            SparseRows.ByRowsBlock = savedBlock;
        }
    }

    [Fact]
    public void TheGradientByRowsSkipsZerosAsTheSortedColumnsDo()
    {
        // x = [[0, 2], [0, 0]], dz = [[NaN], [∞]]: dW's first row meets only zeros and stays 0; the second is 2·NaN.
        float[] x = [0, 2, 0, 0];
        var sparse = new SparseRows();
        Assert.True(sparse.TryLoad(x, 2, 2, 1.0));
        var dw = new[] { 5f, 5f };
        sparse.MultiplyTransposedByRows([float.NaN, float.PositiveInfinity], 1, dw);
        Assert.Equal(0f, dw[0]);
        Assert.True(float.IsNaN(dw[1]));
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])),
                        $"{what}: element {i} is {actual[i]}, expected {expected[i]}.");
    }

    [Fact]
    public void TheBitsDoNotDependOnThreadsOrVectorWidth()
    {
        const int rows = 41, width = 300, n = 249;   // 128 + 64 + 32 + 3·8 + 1 columns; rows not a multiple of 2 or 4
        var x = SparseBatch(rows, width, 0.2, 5);
        var w = Synthetic.Uniform(width * n, 6);
        var bias = Synthetic.Uniform(n, 7);
        var dz = Synthetic.Uniform(rows * n, 8);
        (float[] Z, float[] Dw) Run(GemmIsa isa, int threads)
        {
            using var _ = GemmSettings.Force(isa, threads, parallelFlops: 1);
            long saved = SparseRows.ParallelFlops;
            SparseRows.ParallelFlops = 1;   // split whenever there are two threads
            try
            {
                return Products();
            }
            finally
            {
                SparseRows.ParallelFlops = saved;
            }
        }
        (float[] Z, float[] Dw) Products()
        {
            var sparse = new SparseRows();
            Assert.True(sparse.TryLoad(x, rows, width, 0.25));
            var z = new float[rows * n];
            var dw = new float[width * n];
            sparse.Multiply(w, n, z, bias);
            sparse.MultiplyTransposed(dz, n, dw, accumulate: false);
            return (z, dw);
        }
        var one = Run(GemmIsa.Scalar, 1);
        foreach (var (isa, threads) in new[] { (GemmIsa.Scalar, 2), (GemmIsa.Vector256, 1), (GemmIsa.Auto, 1), (GemmIsa.Auto, 2) })
        {
            var other = Run(isa, threads);
            Assert.Equal(one.Z, other.Z);
            Assert.Equal(one.Dw, other.Dw);
        }
    }

    [Fact]
    public void ADenseBatchIsTurnedAwayAndNothingIsLoaded()
    {
        var sparse = new SparseRows();
        var x = SparseBatch(10, 50, 0.1, 1);
        Assert.True(sparse.TryLoad(x, 10, 50, 0.25));
        var dense = SparseBatch(10, 50, 0.6, 2);
        Assert.False(sparse.TryLoad(dense, 10, 50, 0.25));
        Assert.False(sparse.Loaded);
        var e = Assert.Throws<InvalidOperationException>(() => sparse.Multiply(new float[50 * 3], 3, new float[30]));
        Assert.Contains("too dense", e.Message);
        // Exactly at the limit is taken; one more nonzero is not.
        var edge = new float[100];
        for (int i = 0; i < 25; i++) edge[i * 4] = 1;
        Assert.True(sparse.TryLoad(edge, 4, 25, 0.25));
        edge[1] = 1;
        Assert.False(sparse.TryLoad(edge, 4, 25, 0.25));
    }

    [Fact]
    public void ZerosAreSkippedButNaNAndNegativeZeroAreNot()
    {
        // x = [[0, NaN, −0], [2, 0, 0]]: −0 is a zero, NaN is not.
        float[] x = [0, float.NaN, -0f, 2, 0, 0];
        var sparse = new SparseRows();
        Assert.True(sparse.TryLoad(x, 2, 3, 1.0));
        Assert.Equal(2, sparse.NonZeros);
        // W's first row is infinite: only the second sample's 2 meets it; W's last row meets only zeros.
        float[] w = [float.PositiveInfinity, 1, 3, 4, float.NaN, float.NaN];
        var z = new float[4];
        sparse.Multiply(w, 2, z);
        Assert.True(float.IsNaN(z[0]) && float.IsNaN(z[1]), "a NaN input reaches its outputs");
        Assert.Equal([float.PositiveInfinity, 2f], z[2..]);
    }

    [Fact]
    public void BadOperandsAreClearErrors()
    {
        var sparse = new SparseRows();
        var e = Assert.Throws<ArgumentException>(() => sparse.TryLoad(new float[10], 3, 4, 0.5));
        Assert.Contains("received 10", e.Message);
        Assert.True(sparse.TryLoad(new float[12], 3, 4, 0.5));
        var w = Assert.Throws<ArgumentException>(() => sparse.Multiply(new float[7], 2, new float[6]));
        Assert.Contains("W needs 8 values; received 7", w.Message);
        var d = Assert.Throws<ArgumentException>(() => sparse.MultiplyTransposed(new float[6], 2, new float[5], accumulate: false));
        Assert.Contains("dW needs 8 values; received 5", d.Message);
        var r = Assert.Throws<ArgumentException>(() => sparse.MultiplyTransposedByRows(new float[6], 2, new float[5]));
        Assert.Contains("dW needs 8 values; received 5", r.Message);
        sparse.Unload();
        Assert.Throws<InvalidOperationException>(() => sparse.MultiplyTransposedByRows(new float[6], 2, new float[8]));
    }
}
