using Latent.Kernels;

namespace Latent.Tests.Kernels;

/// <summary>The fast multiply against the naive one, on shapes that hit every edge of the tiling.</summary>
[Collection(GemmSettingsCollection.Name)]
public class GemmTests
{
    private static readonly int[] Awkward = [1, 7, 15, 16, 17, 33, 257];

    public static TheoryData<GemmIsa> Isas()
    {
        var data = new TheoryData<GemmIsa> { GemmIsa.Scalar };
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) data.Add(GemmIsa.Vector256);
        // The 512-bit path also where .NET emulates its vectors (slowly, same results to rounding), so that its
        // blocking and packing are tested on every machine, not only on those with AVX-512.
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) data.Add(GemmIsa.Vector512);
        return data;
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void AllFormsMatchNaiveOnAwkwardShapes(GemmIsa isa)
    {
        var rng = new Rng(7);
        using var _ = GemmSettings.Force(isa, threads: int.MaxValue, parallelFlops: 1);
        foreach (int m in Awkward)
        foreach (int n in Awkward)
        foreach (int k in new[] { 1, 17, 257, 300 })
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        {
            if (ta && tb) continue; // backprop needs NN, NT and TN
            CheckAgainstNaive(ref rng, ta, tb, m, n, k, accumulate: (m + n + k) % 2 == 0, withBias: (m + k) % 3 == 0);
        }
    }

    [Theory]
    [InlineData(256, 32, 784)]
    [InlineData(256, 784, 32)]
    [InlineData(784, 32, 256)]
    [InlineData(100, 128, 784)]
    [InlineData(50, 256, 784)]    // half a batch of 100: five-row panels on AVX2
    [InlineData(300, 600, 513)]
    public void ModelShapesMatchNaiveInEveryForm(int m, int n, int k)
    {
        var rng = new Rng(11);
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
            CheckAgainstNaive(ref rng, ta, tb, m, n, k, accumulate: true);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void APackedBMatchesNaive(GemmIsa isa)
    {
        // A recurrent layer's products: B packed once (either orientation), A strided, one core or split by rows.
        var rng = new Rng(9);
        foreach (int threads in new[] { 1, int.MaxValue })
        {
            using var _ = GemmSettings.Force(isa, threads, parallelFlops: 1);
            foreach (int m in new[] { 1, 7, 64, 129 })
            foreach (int n in new[] { 3, 28, 112, 256 })
            foreach (int k in new[] { 1, 28, 64, 300 })
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 5;
                var a = Random(ref rng, (ta ? k : m) * lda);
                var b = Random(ref rng, (tb ? n : k) * ldb);
                var c = Random(ref rng, m * ldc);
                var expected = (float[])c.Clone();
                bool acc = (m + n + k) % 2 == 0;
                var packed = new float[Gemm.PackedLength(k, n)];
                Gemm.PackWhole(tb, b, ldb, k, n, packed);
                Gemm.MultiplyPacked(ta, m, n, k, a, lda, packed, c, ldc, acc);
                GemmNaive.Multiply(ta, tb, m, n, k, a, lda, b, ldb, expected, ldc, acc);
                AssertClose(expected, c, k, $" (packed m={m} n={n} k={k} ta={ta} tb={tb} threads={threads})");
            }
        }
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked(false, 2, 3, 4, new float[8], 4, new float[1], new float[6], 3, false));
    }

    [Fact]
    public void StridedOperandsUseOnlyTheirColumns()
    {
        // A 5×3 view inside a 5×8 buffer, etc.: the padding must be neither read into C nor written.
        var rng = new Rng(3);
        int m = 5, n = 6, k = 3, lda = 8, ldb = 9, ldc = 10;
        var a = Random(ref rng, m * lda); var b = Random(ref rng, k * ldb);
        var c = Random(ref rng, m * ldc); var expected = (float[])c.Clone();
        Gemm.Multiply(false, false, m, n, k, a, lda, b, ldb, c, ldc, accumulate: false);
        GemmNaive.Multiply(false, false, m, n, k, a, lda, b, ldb, expected, ldc, accumulate: false);
        AssertClose(expected, c, k);
    }

    [Theory]
    [InlineData(50, 5)]     // ten panels of 5 instead of nine of 6 (four rows dropped)
    [InlineData(45, 5)]     // 45 against 48 rows
    [InlineData(128, 6)]    // 132 rows against 130: under the five-row kernel's extra cost a row
    [InlineData(32, 6)]     // 36 against 35
    [InlineData(48, 6)]     // exact in sixes
    public void PanelHeightOnAvx2SavesRowsOnlyWhenItPays(int m, int rows)
    {
        Assert.Equal(rows, Gemm.PanelRows(GemmIsa.Vector256, m));
        Assert.Equal(8, Gemm.PanelRows(GemmIsa.Vector512, m));
    }

    [Fact]
    public void ResultsDoNotDependOnThePanelHeight()
    {
        // 50 rows run in five-row panels on AVX2, 48 in six-row ones: the rows they share must agree bit for bit,
        // in every form and with a K tail, so a batch's split across cores never changes a sum.
        var rng = new Rng(6);
        int n = 37, k = 261;
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        {
            if (ta && tb) continue;
            var a = Random(ref rng, 50 * k); var b = Random(ref rng, k * n);
            int lda = ta ? 50 : k, ldb = tb ? k : n;
            var fifty = new float[50 * n]; var fortyEight = new float[48 * n];
            using (GemmSettings.Force(GemmIsa.Auto, threads: 1, parallelFlops: 1))
            {
                Gemm.Multiply(ta, tb, 50, n, k, a, lda, b, ldb, fifty, n, false);
                Gemm.Multiply(ta, tb, 48, n, k, a, lda, b, ldb, fortyEight, n, false);
            }
            Assert.Equal(fortyEight, fifty[..(48 * n)]);
        }
    }

    [Fact]
    public void SixesThenFivesCoverEveryRowCountThatHasSuchACut()
    {
        int[] none = [1, 2, 3, 4, 7, 8, 9, 13, 14, 19];
        for (int rows = 1; rows <= 400; rows++)
        {
            int sixes = Gemm.SixesThenFives(rows);
            if (none.Contains(rows)) { Assert.Equal(-1, sixes); continue; }
            Assert.True(sixes >= 0, $"{rows} rows: no cut");
            int rest = rows - 6 * sixes;
            Assert.True(rest >= 0 && rest % 5 == 0 && rest / 5 < 6, $"{rows} rows: {sixes} sixes leave {rest}");   // six fives would be five sixes
        }
    }

    [Fact]
    public void ResultsDoNotDependOnThePanelCutOrTheLoopOrder()
    {
        // Exact six-and-five panels, row-panel-outer loops and whole panels swept in one call (along a row panel, or down
        // a column panel) against uniform panels, column-panel-outer loops and a call a tile: the same tiles' sums in another arrangement, so the bits must
        // match, with a bias, accumulation, edge tiles, a K tail, B read in place and packed (257 rows).
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) return;   // all three are the 256-bit kernel's
        var rng = new Rng(14);
        var (exact, rowOuter, sweep, sweepDown) = (Gemm.ExactPanels, Gemm.RowPanelsOuter, Gemm.SweepPanels, Gemm.SweepRowPanels);
        try
        {
            using var _ = GemmSettings.Force(GemmIsa.Vector256, threads: 1, parallelFlops: long.MaxValue);
            foreach (var (m, n, k) in new[] { (32, 784, 32), (16, 784, 16), (128, 100, 50), (50, 37, 261), (17, 45, 9), (7, 33, 40), (6, 48, 5), (257, 20, 3) })
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            foreach (bool acc in new[] { false, true })
            {
                if (ta && tb) continue;
                var a = Random(ref rng, m * k); var b = Random(ref rng, k * n); var c0 = Random(ref rng, m * n);
                var bias = acc ? [] : Random(ref rng, n);
                int lda = ta ? m : k, ldb = tb ? k : n;
                float[]? first = null;
                foreach (bool e in new[] { false, true })
                foreach (bool r in new[] { false, true })
                foreach (bool w in new[] { false, true })
                {
                    (Gemm.ExactPanels, Gemm.RowPanelsOuter, Gemm.SweepPanels, Gemm.SweepRowPanels) = (e, r, w, w);
                    var c = (float[])c0.Clone();
                    Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, acc, bias);
                    if (first is null) first = c;
                    else Assert.True(first.AsSpan().SequenceEqual(c), $"m={m} n={n} k={k} ta={ta} tb={tb} acc={acc}: exact={e} rowOuter={r} sweep={w} changed the bits");
                }
            }
        }
        finally
        {
            (Gemm.ExactPanels, Gemm.RowPanelsOuter, Gemm.SweepPanels, Gemm.SweepRowPanels) = (exact, rowOuter, sweep, sweepDown);
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void OperandsWithAliasingStridesArePackedWithTheSameResults(GemmIsa isa)
    {
        // Rows 256 floats (1 KB) apart read down a column share four of L1's sets: B read in place and Aᵀ are then
        // packed (panel by panel, block by block). Every element must be summed exactly as when read in place.
        var rng = new Rng(13);
        foreach (var (ta, m, n, k, ld) in new[] { (false, 50, 200, 300, 256), (false, 17, 33, 784, 128), (true, 60, 40, 70, 256), (true, 7, 50, 300, 512) })
        {
            Assert.True(Gemm.Aliases(ld, Math.Min(k, 256)), $"stride {ld} at depth {k} should alias");
            var a = Random(ref rng, ta ? k * ld : m * k);
            var b = Random(ref rng, ta ? k * n : k * ld);
            int lda = ta ? ld : k, ldb = ta ? n : ld;
            var expected = new float[m * n];
            GemmNaive.Multiply(ta, false, m, n, k, a, lda, b, ldb, expected, n, false, default);
            var packed = new float[m * n]; var inPlace = new float[m * n];
            bool saved = Gemm.AvoidAliasing;
            try
            {
                using var _ = GemmSettings.Force(isa, threads: 1, parallelFlops: long.MaxValue);
                Gemm.AvoidAliasing = true;
                Gemm.Multiply(ta, false, m, n, k, a, lda, b, ldb, packed, n, false);
                Gemm.AvoidAliasing = false;
                Gemm.Multiply(ta, false, m, n, k, a, lda, b, ldb, inPlace, n, false);
            }
            finally
            {
                Gemm.AvoidAliasing = saved;
            }
            AssertClose(expected, packed, k, $"ta={ta} m={m} n={n} k={k} ld={ld}");
            Assert.Equal(inPlace, packed);
        }
        Assert.False(Gemm.Aliases(784, 256));   // 49 lines apart: every set
        Assert.False(Gemm.Aliases(264, 256));   // not whole lines apart
        Assert.False(Gemm.Aliases(32, 256));    // 32 sets × 8 ways hold 256 rows
        Assert.True(Gemm.Aliases(64, 256));
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void PrefetchingTheTilesOfCChangesNoResult(GemmIsa isa)
    {
        // A C beyond L2 in slabs at least 128 deep has each tile's rows prefetched before its kernel (the rule below);
        // forced on for every tile and off, every shape here (edges, a K tail, bias, accumulation) must give the same bits.
        var rng = new Rng(17);
        foreach (var (ta, tb, m, n, k) in new[] { (false, false, 61, 83, 300), (true, false, 40, 130, 257), (false, true, 150, 47, 140) })
        {
            var a = Random(ref rng, m * k); var b = Random(ref rng, k * n); var bias = Random(ref rng, n);
            int lda = ta ? m : k, ldb = tb ? k : n;
            var expected = new float[m * n];
            GemmNaive.Multiply(ta, tb, m, n, k, a, lda, b, ldb, expected, n, false, bias);
            float[] Run(int setting, bool accumulate)
            {
                var c = accumulate ? (float[])expected.Clone() : new float[m * n];
                int saved = Gemm.PrefetchTileC;
                try
                {
                    using var _ = GemmSettings.Force(isa, threads: 1, parallelFlops: long.MaxValue);
                    Gemm.PrefetchTileC = setting;
                    Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, accumulate, accumulate ? default : bias);
                }
                finally { Gemm.PrefetchTileC = saved; }
                return c;
            }
            var on = Run(2, false);
            AssertClose(expected, on, k, $"ta={ta} tb={tb} m={m} n={n} k={k}");
            Assert.Equal(Run(0, false), on);
            Assert.Equal(Run(0, true), Run(2, true));
        }
        int rule = Gemm.PrefetchTileC;
        try
        {
            Gemm.PrefetchTileC = 1;
            long l2Floats = CacheSizes.L2Bytes / sizeof(float);
            int wide = (int)(l2Floats / 1024) + 1;   // 1024 rows this wide: a C just beyond L2
            Assert.Equal(System.Runtime.Intrinsics.X86.Sse.IsSupported, Gemm.PrefetchesTileRows(1024, wide, 256, Math.Max(wide, 128)));
            Assert.False(Gemm.PrefetchesTileRows(1024, wide, 64, Math.Max(wide, 128)));            // too short a kernel for the lines to arrive
            Assert.False(Gemm.PrefetchesTileRows(1 << 20, 32, 256, 32));                           // rows the hardware prefetchers follow
            if (128L * 784 <= l2Floats) Assert.False(Gemm.PrefetchesTileRows(128, 784, 256, 784));  // C in L2: a model's product
        }
        finally { Gemm.PrefetchTileC = rule; }
    }

    [Fact]
    public void ResultsDoNotDependOnThreadCount()
    {
        var rng = new Rng(5);
        int m = 257, n = 129, k = 300;
        var a = Random(ref rng, m * k); var b = Random(ref rng, k * n);
        var one = new float[m * n]; var many = new float[m * n];
        using (GemmSettings.Force(GemmIsa.Auto, threads: 1, parallelFlops: 1))
            Gemm.Multiply(false, false, m, n, k, a, k, b, n, one, n, false);
        using (GemmSettings.Force(GemmIsa.Auto, threads: int.MaxValue, parallelFlops: 1))
            Gemm.Multiply(false, false, m, n, k, a, k, b, n, many, n, false);
        Assert.Equal(one, many);
    }

    [Theory]
    [InlineData(32, 32, 784)]     // the decoder's input gradient at batch 32
    [InlineData(100, 128, 784)]   // the deep model's last layer, batch 100
    [InlineData(13, 6, 141)]      // edge tiles in both directions and a K tail
    public void DotProductFormMatchesNaiveWithStridesAndIsSplitInvariant(int m, int n, int k)
    {
        // A·Bᵀ with few rows of B runs as row dot products (Vector512 only); views inside wider buffers.
        var rng = new Rng(9);
        int lda = k + 5, ldb = k + 3, ldc = n + 2;
        var a = Random(ref rng, m * lda); var b = Random(ref rng, n * ldb);
        var c0 = Random(ref rng, m * ldc);
        var expected = (float[])c0.Clone();
        GemmNaive.Multiply(false, true, m, n, k, a, lda, b, ldb, expected, ldc, accumulate: true);
        var one = (float[])c0.Clone(); var many = (float[])c0.Clone();
        using (GemmSettings.Force(GemmIsa.Auto, threads: 1, parallelFlops: 1))
            Gemm.Multiply(false, true, m, n, k, a, lda, b, ldb, one, ldc, accumulate: true);
        using (GemmSettings.Force(GemmIsa.Auto, threads: int.MaxValue, parallelFlops: 1))
            Gemm.Multiply(false, true, m, n, k, a, lda, b, ldb, many, ldc, accumulate: true);
        AssertClose(expected, one, k);
        Assert.Equal(one, many);
        for (int i = 0; i < m; i++)   // the padding columns of C are untouched
            for (int j = n; j < ldc && i * ldc + j < c0.Length; j++) Assert.Equal(c0[i * ldc + j], many[i * ldc + j]);
    }

    [Fact]
    public void ZeroDepthOverwritesOrKeeps()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.Multiply(false, false, 2, 2, 0, [], 0, [], 2, c, 2, accumulate: true);
        Assert.Equal([1, 2, 3, 4], c);
        Gemm.Multiply(false, false, 2, 2, 0, [], 0, [], 2, c, 2, accumulate: false);
        Assert.Equal([0, 0, 0, 0], c);
    }

    [Fact]
    public void ShortSpanIsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(false, false, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4, false));
        Assert.Contains("A:", ex.Message);
        Assert.Contains("15", ex.Message);
    }

    private static void CheckAgainstNaive(ref Rng rng, bool ta, bool tb, int m, int n, int k, bool accumulate, bool withBias = false)
    {
        var a = Random(ref rng, m * k);
        var b = Random(ref rng, k * n);
        var c = Random(ref rng, m * n);
        var bias = withBias && !accumulate ? Random(ref rng, n) : [];
        var expected = (float[])c.Clone();
        int lda = ta ? m : k, ldb = tb ? k : n;
        Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, accumulate, bias);
        GemmNaive.Multiply(ta, tb, m, n, k, a, lda, b, ldb, expected, n, accumulate, bias);
        AssertClose(expected, c, k, $"ta={ta} tb={tb} m={m} n={n} k={k} acc={accumulate} bias={bias.Length}");
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void SkinnyProductsMatchNaive(GemmIsa isa)
    {
        // Two rows, two columns or depth two (a VAE's 256 → 2 layer and its gradients), small enough for one core: the
        // dot-product and row-update forms, in every orientation, with accumulation and bias, against the naive multiply.
        var rng = new Rng(12);
        using var _ = GemmSettings.Force(isa, threads: int.MaxValue, parallelFlops: 1L << 20);
        foreach (var (m, n, k) in new[] { (50, 2, 256), (256, 2, 50), (50, 256, 2), (2, 256, 50), (50, 2, 2), (1, 1, 1),
                                            (3, 37, 300), (37, 3, 300), (37, 300, 3), (4, 4, 4), (5, 4, 33), (100, 1, 7),
                                            (1, 70000, 3), (2, 2, 70000) })   // the last two gather too much: the blocked path
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        foreach (bool acc in new[] { false, true })
            CheckAgainstNaive(ref rng, ta, tb, m, n, k, accumulate: acc, withBias: !acc && (m + n) % 2 == 0);
    }

    [Fact]
    public void SkinnyProductsAgreeWithTheBlockedKernel()
    {
        // The same skinny products through the blocked kernel (the form they took before) and the skinny one: equal to
        // rounding, and the skinny one repeatable bit for bit.
        var rng = new Rng(13);
        foreach (var (m, n, k) in new[] { (50, 2, 256), (256, 2, 50), (50, 256, 2), (2, 256, 50) })
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        {
            var a = Random(ref rng, m * k); var b = Random(ref rng, k * n);
            int lda = ta ? m : k, ldb = tb ? k : n;
            var blocked = new float[m * n]; var skinny = new float[m * n]; var again = new float[m * n];
            Gemm.UseSkinny = false;
            try { Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, blocked, n, false); }
            finally { Gemm.UseSkinny = true; }
            Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, skinny, n, false);
            Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, again, n, false);
            AssertClose(blocked, skinny, k, $"ta={ta} tb={tb} m={m} n={n} k={k}");
            Assert.Equal(skinny, again);
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void EdgeTilesMatchNaiveInEveryStoreMode(GemmIsa isa)
    {
        // Rows past the last full panel (16 = 6 + 6 + 4, 130 = 21·6 + 4) go through a scratch tile and back into C, by
        // whole vectors where the tile's columns are all valid (n = 784) and element by element past the last (n = 40):
        // written, added to C, and with the bias.
        var rng = new Rng(12);
        using var _ = GemmSettings.Force(isa, threads: 1, parallelFlops: long.MaxValue);
        foreach (int m in new[] { 16, 130 })
        foreach (int n in new[] { 784, 40 })
        foreach (bool ta in new[] { false, true })
        {
            CheckAgainstNaive(ref rng, ta, false, m, n, 32, accumulate: false);
            CheckAgainstNaive(ref rng, ta, false, m, n, 32, accumulate: true);
            CheckAgainstNaive(ref rng, ta, false, m, n, 32, accumulate: false, withBias: true);
        }
    }

    [Fact]
    public void BiasIsAddedOnceEvenAcrossDepthSlabs()
    {
        // k = 600 spans three 256-deep slabs: the bias must be added in the first only.
        var rng = new Rng(8);
        CheckAgainstNaive(ref rng, false, false, 40, 70, 600, accumulate: false, withBias: true);
        CheckAgainstNaive(ref rng, true, false, 40, 20, 600, accumulate: false, withBias: true);
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(false, false, 2, 2, 2, new float[4], 2, new float[4], 2, new float[4], 2, accumulate: true, bias: new float[2]));
        Assert.Contains("accumulate", ex.Message);
    }

    private static float[] Random(ref Rng rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.NextFloat() * 2 - 1;
        return x;
    }

    private static void AssertClose(float[] expected, float[] actual, int k, string context = "")
    {
        // float32 sums of k products of values in [-1, 1]: error grows like sqrt(k)·eps.
        float tol = 1e-5f * MathF.Sqrt(k) + 1e-6f;
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(expected[i] - actual[i]) <= tol * (1 + MathF.Abs(expected[i]))))
                Assert.Fail($"{context}: element {i} expected {expected[i]}, got {actual[i]}");
    }
}
