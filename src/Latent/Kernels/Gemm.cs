using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Latent.Kernels;

/// <summary>
/// Single-precision matrix multiply <c>C = op(A)·op(B)</c> or <c>C += op(A)·op(B)</c>, row-major, where
/// <c>op(X)</c> is X or Xᵀ read in place (no transposed copy): the three forms backprop needs are
/// A·B (forward), A·Bᵀ (input gradient) and Aᵀ·B (weight gradient).
/// </summary>
/// <remarks>
/// The BLIS structure (Van Zee &amp; van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS
/// Functionality", 2015): K is cut into KC-deep slabs and N into NC-wide blocks; each slab of B is packed
/// into NR-wide column panels and each MC×KC block of A into MR-tall row panels, both zero-padded, so the
/// micro-kernel streams two contiguous buffers and keeps an MR×NR tile of C in registers. The transposes are
/// absorbed by the packing routines. Edge tiles run the same micro-kernel into a scratch tile, so each
/// element of C is summed in the same order whatever the tile, the thread split or the thread count: results
/// are bit-identical run to run. Work is split across cores along M or N (never K) when it is large enough
/// to pay for the hand-off.
/// </remarks>
internal static unsafe partial class Gemm
{
    private const int KC = 256;
    /// <summary>The most rows of C for which B stored k×n is read in place (benchmarks vary it).</summary>
    internal static int DirectBRows = 128;

    /// <summary>Experiment knob: 0 never five-row panels, 1 whenever they compute fewer rows, 2 when at least ~4% fewer.</summary>
    internal static int FiveRowRule = 2;
    private const int MaxMR = 8, MaxNR = 32;

    /// <summary>Whether operands read in place down a column with a stride that aliases in L1 are packed instead (see <see cref="Aliases"/>; a benchmark knob).</summary>
    internal static bool AvoidAliasing = true;

    /// <summary>Whether the next column panel of a B read in place is prefetched into L2 while the current one is used (a benchmark knob).</summary>
    internal static bool PrefetchB = true;

    /// <summary>Whether the rows of the C tile two row panels ahead are prefetched before the kernel writes them (a benchmark knob).</summary>
    internal static bool PrefetchC = true;

    /// <summary>Prefetching each tile's rows of C just before its kernel: 0 never, 1 by <see cref="PrefetchesTileRows"/>'s rule, 2 always (a benchmark knob).</summary>
    internal static int PrefetchTileC = 1;

    /// <summary>
    /// Whether each tile's rows of C (<paramref name="ldc"/> floats apart) are prefetched just before its kernel runs, in a
    /// K slab <paramref name="kc"/> deep of an m×n product: when C is larger than L2 (its lines come from L3, and the
    /// kernel's last loads and stores waited on them), its rows are far enough apart that the hardware prefetchers do not
    /// follow them (<see cref="PrefetchMinStride"/>), and the kernel runs long enough (at least 128 steps) for the lines to
    /// arrive before it needs them. 1024³ −10 to −12%, 784³ −4 to −8%, 512³ −3 to −7%; the models' products keep C in
    /// L2 and are left alone (docs/PERFORMANCE.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal static bool PrefetchesTileRows(int m, int n, int kc, int ldc) =>
        System.Runtime.Intrinsics.X86.Sse.IsSupported &&
        (PrefetchTileC == 2 ||
         (PrefetchTileC == 1 && kc >= 128 && ldc >= PrefetchMinStride && (long)m * n * sizeof(float) > CacheSizes.L2Bytes));

    /// <summary>The shortest row stride, in floats, of a B or C that is prefetched.</summary>
    private const int PrefetchMinStride = 128;

    /// <summary>
    /// Whether <paramref name="depth"/> rows <paramref name="ld"/> floats apart, one cache line read from each, fall into
    /// too few sets of a 64-set, 8-way L1 to stay there together: a row stride of a whole number of lines L visits
    /// only 64 / gcd(64, L) sets (4 for rows 1 KB apart).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal static bool Aliases(int ld, int depth)
    {
        if (ld % 16 != 0) return false;   // not a whole number of lines apart: successive rows drift across the sets
        // gcd(64, L) is the largest power of two dividing L, capped at 64.
        int sets = 64 >> Math.Min(6, System.Numerics.BitOperations.TrailingZeroCount(ld / 16));
        return sets * 8 < depth;
    }

    /// <summary>Below this many flops (2·M·N·K) a multiply runs on one core: the split costs more than it saves.</summary>
    internal static long ParallelFlops = 1L << 20;

    /// <summary>Forces an instruction set (tests, benchmarks). <see cref="GemmIsa.Auto"/> picks the widest available.</summary>
    internal static GemmIsa ForcedIsa = GemmIsa.Auto;

    /// <summary>Caps the threads one multiply uses (tests, benchmarks).</summary>
    internal static int MaxThreads = int.MaxValue;

    /// <summary>Smallest multiply a replica posts on its <see cref="HelpBoard"/> (a knob; <see cref="long.MaxValue"/>: none).</summary>
    internal static long HelpFlops = 6L << 20;

    /// <summary>Parts a posted multiply is cut into.</summary>
    internal const int HelpParts = 2;

    /// <summary>
    /// How a job of <paramref name="flops"/> that can be cut into at most <paramref name="units"/> pieces runs: across
    /// the cores, a part per thread, from <paramref name="parallelFlops"/>; inside a data-parallel step's replica
    /// (one thread here) posted on its <see cref="HelpBoard"/> in <see cref="HelpParts"/> parts, as for that many
    /// threads whoever runs them, from <paramref name="helpFlops"/>; otherwise whole (one part, no board).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal static (int Parts, HelpBoard? Board) Split(long flops, int units, long parallelFlops, long helpFlops)
    {
        int threads = Math.Min(Math.Min(MaxThreads, ComputePool.Shared.ThreadsHere), units);
        if (threads > 1) return (flops >= parallelFlops ? threads : 1, null);
        return HelpBoard.Current is { } board && flops >= helpFlops && units >= HelpParts && MaxThreads > 1 ? (HelpParts, board) : (1, null);
    }

    [ThreadStatic] private static float[]? t_packA, t_packB;
    [ThreadStatic] private static GemmJob? t_job;

    /// <summary>The instruction set multiplies use now: <see cref="ForcedIsa"/>, or <see cref="BestIsa"/> when that is Auto.</summary>
    private static GemmIsa CurrentIsa
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // called from the per-step methods, which the runtime does not tier
        get => ForcedIsa == GemmIsa.Auto ? BestIsa : ForcedIsa;
    }

    /// <summary>The instruction set <see cref="GemmIsa.Auto"/> resolves to on this machine.</summary>
    public static GemmIsa BestIsa
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // as CurrentIsa
        get => Vector512.IsHardwareAccelerated ? GemmIsa.Vector512 :
               Vector256.IsHardwareAccelerated ? GemmIsa.Vector256 : GemmIsa.Scalar;
    }

    /// <summary>
    /// <c>C[m×n] (+)= op(A)[m×k] · op(B)[k×n]</c>. A is stored m×k (row stride <paramref name="lda"/>) or,
    /// when <paramref name="transA"/>, k×m; B is stored k×n or, when <paramref name="transB"/>, n×k.
    /// </summary>
    /// <param name="accumulate">Add into C instead of overwriting it.</param>
    /// <param name="bias">Optional row vector of length n added to every row of C (<c>C = op(A)·op(B) + 1·biasᵀ</c>) in the
    /// kernel's store, so a Dense layer's bias costs no extra pass over its output. Not with <paramref name="accumulate"/>.</param>
    /// <exception cref="ArgumentException">A span is too short for the sizes and strides given.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate,
        ReadOnlySpan<float> bias = default)
    {
        if (!bias.IsEmpty && (accumulate || bias.Length < n))
            throw new ArgumentException($"A bias needs accumulate = false and at least n = {n} values; received {bias.Length}, accumulate = {accumulate}.");
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Sizes must be non-negative, received m={m}, n={n}, k={k}.");
        if (m == 0 || n == 0) return;
        CheckOperand("C", c.Length, m, n, ldc);
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++)
                {
                    if (bias.IsEmpty) c.Slice(i * ldc, n).Clear();
                    else bias[..n].CopyTo(c.Slice(i * ldc, n));
                }
            return;
        }
        if (transA) CheckOperand("A", a.Length, k, m, lda); else CheckOperand("A", a.Length, m, k, lda);
        if (transB) CheckOperand("B", b.Length, n, k, ldb); else CheckOperand("B", b.Length, k, n, ldb);

        var isa = CurrentIsa;
        int mr = PanelRows(isa, m), nr = TileOf(isa).Nr;
        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            long flops = 2L * m * n * k;
            bool dot = UseDot(isa, transA, transB, m, n, k, !bias.IsEmpty); // decided once, so every split sums alike
            if (!dot && UseSkinnyForm(isa, transA, transB, m, n, k, flops))
            {
                Skinny(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias);
                return;
            }
            bool splitM = m >= n;
            int units = splitM ? (m + mr - 1) / mr : (n + nr - 1) / nr;
            var (parts, board) = Split(flops, units, ParallelFlops, HelpFlops);
            if (parts == 1)
            {
                Core(isa, mr, dot, transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias);
                return;
            }
            var job = t_job ??= new GemmJob();
            job.Set(isa, mr, dot, transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias, splitM,
                    (units + parts - 1) / parts * (splitM ? mr : nr));
            if (board is not null) board.Run(job, parts);
            else ComputePool.Shared.Run(job, parts);
        }
    }

    /// <summary>Floats <see cref="PackWhole"/> writes for a k×n op(B) on this machine's kernel.</summary>
    public static int PackedLength(int k, int n)
    {
        var (_, nr) = TileOf(CurrentIsa);
        return checked((n + nr - 1) / nr * nr * k);
    }

    /// <summary>
    /// Packs all of op(B) (k×n) once into the kernel's panel layout, for <see cref="MultiplyPacked"/>: a recurrent
    /// layer multiplies by the same U at every step, and packing it once per sequence instead of once per step saves
    /// a copy of U per step.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void PackWhole(bool transB, ReadOnlySpan<float> b, int ldb, int k, int n, Span<float> packed)
    {
        if (transB) CheckOperand("B", b.Length, n, k, ldb); else CheckOperand("B", b.Length, k, n, ldb);
        if (packed.Length < PackedLength(k, n)) throw new ArgumentException($"The packed buffer needs {PackedLength(k, n)} floats, received {packed.Length}.");
        var (_, nr) = TileOf(CurrentIsa);
        int nPad = (n + nr - 1) / nr * nr;
        fixed (float* pb = b, pp = packed)
            for (int pc = 0; pc < k; pc += KC)
                PackB(transB, pb, ldb, pc, 0, Math.Min(KC, k - pc), n, nr, pp + (long)pc * nPad);
    }

    /// <summary><c>C[m×n] (+)= op(A)·B</c> with B packed by <see cref="PackWhole"/> (same k, n and instruction set).</summary>
    /// <param name="serial">On the calling thread only (the caller runs its own parts in parallel).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void MultiplyPacked(bool transA, int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> packedB,
                                      Span<float> c, int ldc, bool accumulate, bool serial = false)
    {
        if (m < 0 || n < 0 || k <= 0) throw new ArgumentException($"Sizes must be positive, received m={m}, n={n}, k={k}.");
        if (m == 0 || n == 0) return;
        CheckOperand("C", c.Length, m, n, ldc);
        if (transA) CheckOperand("A", a.Length, k, m, lda); else CheckOperand("A", a.Length, m, k, lda);
        if (packedB.Length < PackedLength(k, n)) throw new ArgumentException($"The packed B needs {PackedLength(k, n)} floats, received {packedB.Length}.");
        var isa = CurrentIsa;
        int mr = PanelRows(isa, m);
        fixed (float* pa = a, pb = packedB, pc = c)
        {
            long flops = 2L * m * n * k;
            int units = (m + mr - 1) / mr;
            int threads = serial ? 1 : Math.Min(Math.Min(MaxThreads, ComputePool.Shared.ThreadsHere), units);
            if (threads <= 1 || flops < ParallelFlops)
            {
                Core(isa, mr, false, transA, false, m, n, k, pa, lda, null, 0, pc, ldc, accumulate, null, pb);
                return;
            }
            var job = t_job ??= new GemmJob();
            job.Set(isa, mr, false, transA, false, m, n, k, pa, lda, null, 0, pc, ldc, accumulate, null, splitM: true,
                    (units + threads - 1) / threads * mr, pb);
            ComputePool.Shared.Run(job, threads);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (ld < cols)
            throw new ArgumentException($"{name}: leading dimension {ld} is smaller than its {cols} columns.");
        long need = (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"{name}: a {rows}×{cols} matrix with stride {ld} needs {need} elements, the span has {length}.");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static (int Mr, int Nr) TileOf(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => (8, 32),
        GemmIsa.Vector256 => (6, 16),
        _ => (4, 8),
    };

    /// <summary>
    /// Rows per panel for an m-row product. The 256-bit kernel also comes five rows tall, and takes that height when
    /// it computes enough fewer rows in all: 50 rows (half a batch of 100) are ten panels of 5, where panels of 6 are
    /// nine with four rows computed and dropped. A five-row panel costs about 3.5% more a row than a six-row one (ten
    /// FMAs for seven loads a step instead of twelve for eight), so five rows must save more than that: 128 rows take
    /// 22 panels of 6 (132 rows) rather than 26 of 5 (130). Every element of C is summed in the same order whatever
    /// the height, so the choice never changes a result.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal static int PanelRows(GemmIsa isa, int m)
    {
        int mr = TileOf(isa).Mr;
        if (isa != GemmIsa.Vector256) return mr;
        int five = (m + 4) / 5 * 5, six = (m + 5) / 6 * 6;
        return FiveRowRule switch
        {
            0 => mr,
            1 => five < six ? 5 : mr,
            _ => 27 * five < 26 * six ? 5 : mr,
        };
    }

    /// <summary>One thread's multiply of a whole (sub)problem.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip tier-0/OSR code
    private static void Core(GemmIsa isa, int mr, bool dot, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias, float* packedB = null)
    {
        if (dot)
        {
            DotNT(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        int nr = TileOf(isa).Nr;
        int mc = mr * 16, nc = nr * 64;
        var packB = t_packB ??= GC.AllocateUninitializedArray<float>(MaxNR * 64 * KC, pinned: true);
        float* tile = stackalloc float[MaxMR * MaxNR];
        // With 256-bit vectors A is read in place: element (r, p) of op(A) sits at a[r·rs + p·ks], rows along lda for
        // A, along 1 for Aᵀ. The kernel broadcasts one value of each of its MR rows per k, so a row panel (MR × KC, at
        // most 8 KB) is read from L1 by every column panel after the first; packing it first was never faster on our
        // models' shapes on AVX2 and much slower on some (docs/PERFORMANCE.md). The 512-bit kernel was tuned on a
        // packed panel (one pointer walking it) and is kept so, packed as op(A)ᵀ's column panels by PackB (vector
        // copies and 8×8 transposes); in-place A there is unmeasured.
        // Read in place down a column, rows ld floats apart, a panel whose rows share few cache sets keeps evicting
        // itself (with rows 1 KB apart, all of them land in four of L1's 64 sets): such a panel is packed, per panel
        // for B (it is read by every row panel), per block for Aᵀ (read by every column panel).
        bool packA = isa == GemmIsa.Vector512 || (transA && AvoidAliasing && Aliases(lda, Math.Min(k, KC)));
        var packAPanels = packA ? t_packA ??= GC.AllocateUninitializedArray<float>(MaxMR * 16 * KC, pinned: true) : null;
        nint rs = packA ? 1 : transA ? 1 : lda, ks = packA ? mr : transA ? lda : 1;
        // Likewise B, when it is stored k×n and at most 128 rows reuse it (a weight gradient with a small fan-in, a
        // half batch of 50 or 128 rows on one core, an LSTM's 64 sequences): full NR-wide panels are read in place;
        // only a partial last panel is packed. A 32-wide panel of one KC slab is 32 KB and stays in L1 across the row
        // panels; packing streamed the whole weight matrix through memory on every call. (The bound was sixteen row
        // panels, 128 rows of the 512-bit kernel but 80–96 of the 256-bit one: simple-256's 128-row shares.)
        bool directB = !transB && m <= DirectBRows && packedB == null;
        bool panelB = directB && AvoidAliasing && Aliases(ldb, Math.Min(k, KC));
        int nPad = (n + nr - 1) / nr * nr;   // a whole packed B (PackWhole): slab pc starts at pc·nPad
        // Only where rows are at least 512 bytes apart (eight or fewer to a page): closer rows the hardware prefetchers follow.
        bool prefetchB = PrefetchB && directB && ldb >= PrefetchMinStride && System.Runtime.Intrinsics.X86.Sse.IsSupported;
        bool prefetchC = PrefetchC && ldc >= PrefetchMinStride && System.Runtime.Intrinsics.X86.Sse.IsSupported;
        fixed (float* bp = packB, ap = packAPanels)
        {
            for (int jc = 0; jc < n; jc += nc)
            {
                int ncur = Math.Min(nc, n - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    bool acc = accumulate || pc > 0;
                    bool prefetchTile = PrefetchesTileRows(m, n, kc, ldc);
                    int fullPanels = ncur / nr * nr;
                    if (packedB != null) { }
                    else if (!directB) PackB(transB, b, ldb, pc, jc, kc, ncur, nr, bp);
                    else if (panelB) { }   // packed below, one panel at a time
                    else if (fullPanels < ncur) PackB(transB, b, ldb, pc, jc + fullPanels, kc, ncur - fullPanels, nr, bp + fullPanels * kc);
                    var slab = new SlabB(directB ? b + (long)pc * ldb + jc : null, ldb, directB && !panelB, fullPanels,
                                         packedB != null ? packedB + (long)pc * nPad + (long)jc * kc : bp, panelB ? 0 : kc, nr);
                    for (int ic = 0; ic < m; ic += mc)
                    {
                        int mcur = Math.Min(mc, m - ic);
                        // Panels of six rows then of five that cover the block exactly (AVX2, A in place), else all mr tall:
                        // `tall` six-row panels first, or −1.
                        int tall = !packA && isa == GemmIsa.Vector256 && ExactPanels ? SixesThenFives(mcur) : -1;
                        int rowPanels = tall >= 0 ? tall + (mcur - 6 * tall) / 5 : (mcur + mr - 1) / mr;
                        // Each row panel prefetches its slice of the next column panel of B: `per` rows of it.
                        int per = (kc + rowPanels - 1) / rowPanels;
                        if (packA) PackB(!transA, a, lda, pc, ic, kc, mcur, mr, ap);   // A's MR-row panels are op(A)ᵀ's column panels
                        float* aBlock = packA ? ap : a + ic * rs + pc * ks;
                        nint aRow = packA ? kc : rs;   // a panel of h rows starts h·aRow after the last (packed panels are mr·kc apart)
                        // Measured with the 256-bit kernel only; the 512-bit one keeps the loop order it was tuned with.
                        if (RowPanelsOuter && isa == GemmIsa.Vector256 && !panelB && (long)kc * ncur <= RowOuterMaxFloats)
                        {
                            RowMajorTiles(isa, mr, tall, kc, mcur, ncur, aBlock, rs, ks, aRow, slab, prefetchB, c + (long)ic * ldc + jc, ldc,
                                          acc, !acc && bias != null ? bias + jc : null, tile, prefetchTile);
                            continue;
                        }
                        for (int jr = 0; jr < ncur; jr += nr)
                        {
                            int nrc = Math.Min(nr, ncur - jr);
                            if (panelB) PackB(transB, b, ldb, pc, jc + jr, kc, nrc, nr, bp);
                            float* bpanel = slab.Panel(jr, out nint bs);
                            float* tileBias = !acc && bias != null ? bias + jc + jr : null; // first K slab only
                            // The next column panel of B, read down rows ldb apart (a weight matrix: a page apart every few
                            // rows, which the hardware prefetchers do not follow), into L2, a slice per row panel; a panel
                            // row on one cache line (aligned rows) or across two.
                            float* nextB = prefetchB && jr + nr < ncur ? slab.Source + jr + nr : null;
                            nint last = nextB == null || (((nint)nextB & 63) == 0 && ldb % 16 == 0) ? 0 : Math.Min(nr, ncur - jr - nr) - 1;
                            float* cp = c + (long)ic * ldc + jc + jr, apanel = aBlock;
                            if (SweepRowPanels && tall >= 0 && nrc == nr && nr == 16)
                            {
                                // Exact six- and five-row panels against one whole column panel, each height in one call
                                // (the per-tile call, as in RowMajorTiles' sweep).
                                int fives = (mcur - 6 * tall) / 5;
                                var down = new SweepDown(kc, rs, ks, aRow, bpanel, bs, ldc, acc, tileBias, nextB, last, ldb, per, prefetchC, prefetchTile, mcur);
                                SweepDownRx16<SixRows>(down, tall, 0, 0, apanel, cp);
                                SweepDownRx16<FiveRows>(down, fives, tall, 6 * tall, apanel + 6 * tall * aRow, cp + (long)6 * tall * ldc);
                                continue;
                            }
                            for (int ir = 0, p0 = 0, idx = 0, h = PanelHeight(0, tall, mr); ir < mcur;
                                 ir += h, p0 += per, cp += (long)h * ldc, apanel += h * aRow, h = PanelHeight(++idx, tall, mr))
                            {
                                PrefetchAhead(nextB, last, ldb, p0, per, kc, prefetchC, cp, ldc, ir, h, mcur);
                                Tile(isa, h, Math.Min(h, mcur - ir), nrc, nr, kc, apanel, rs, ks, bpanel, bs, cp, ldc, acc, tileBias, tile, prefetchTile);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Whether the 256-bit kernel cuts a block of rows into panels of six then of five that cover it exactly
    /// (<see cref="SixesThenFives"/>) instead of panels of one height with the last one partly computed and dropped: 32
    /// rows as 6 + 6 + 5 + 5 + 5 + 5 instead of six panels of six (36 rows, the last through the edge path). Every element
    /// is summed in the same order whatever its panel's height, so results do not change (a benchmark knob).
    /// </summary>
    internal static bool ExactPanels = true;

    /// <summary>Height of row panel <paramref name="index"/> of a block: <paramref name="mr"/>, or six for the first <paramref name="tall"/> and five after (<see cref="SixesThenFives"/>; −1: none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PanelHeight(int index, int tall, int mr) => tall < 0 ? mr : index < tall ? 6 : 5;

    /// <summary>
    /// How many six-row panels, followed by five-row ones, make up exactly <paramref name="rows"/> rows with as many
    /// six-row panels as possible; −1 when no such cut exists (1–4, 7–9, 13, 14 and 19 rows).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal static int SixesThenFives(int rows)
    {
        int fives = (6 - rows % 6) % 6;   // 5 ≡ −1 (mod 6)
        return 5 * fives <= rows ? (rows - 5 * fives) / 6 : -1;
    }

    /// <summary>
    /// Whether a block whose slab of B is small (at most <see cref="RowOuterMaxFloats"/>) runs its tiles row panel by row
    /// panel, each sweeping all of B's column panels, instead of column panel by column panel: C is then written along its
    /// rows, a few lines at a time that the hardware prefetchers follow, instead of down its columns, a new line ldc
    /// floats away for every row of every tile (a benchmark knob; the tiles and their sums are the same). The 256-bit
    /// kernel only: the order was measured on AVX2, not with the 512-bit kernel's packed panels.
    /// </summary>
    internal static bool RowPanelsOuter = true;

    /// <summary>
    /// The largest slab of B (kc × n floats) that <see cref="RowPanelsOuter"/> re-reads for every row panel: a quarter of
    /// L2 (128 KB of 512 KB on the Zen 3 it was measured on) stays there between row panels; the 400 KB of a 128 × 784
    /// slab did not and ran up to 30% slower (docs/PERFORMANCE.md).
    /// </summary>
    internal static long RowOuterMaxFloats = CacheSizes.L2Bytes / 4 / sizeof(float);

    /// <summary>
    /// The tiles of one block (<paramref name="mcur"/> rows of A's slab at <paramref name="aBlock"/>, all
    /// <paramref name="ncur"/> columns of B's slab) row panel by row panel: the same tiles, kernels and edge handling as
    /// <see cref="Core"/>'s column-panel loop, in another order. On the first row panel each column panel of a B read in
    /// place prefetches the next one into L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowMajorTiles(GemmIsa isa, int mr, int tall, int kc, int mcur, int ncur, float* aBlock, nint rs, nint ks, nint aRow,
        SlabB slab, bool prefetchB, float* cBlock, int ldc, bool acc, float* bias, float* tile, bool prefetchTile)
    {
        int nr = slab.Nr;
        float* apanel = aBlock;
        for (int ir = 0, idx = 0, h = PanelHeight(0, tall, mr); ir < mcur;
             ir += h, cBlock += (long)h * ldc, apanel += h * aRow, h = PanelHeight(++idx, tall, mr))
        {
            int jr = 0;
            if (SweepPanels && isa == GemmIsa.Vector256 && h <= mcur - ir && nr == 16 && ncur >= nr)
            {
                // A whole row panel against every whole column panel in one call: the A rows' pointers, the call and its
                // arguments once a row panel instead of once a tile, which a 16- or 32-deep tile felt (docs/PERFORMANCE.md).
                int panels = ncur / nr;
                float* b0 = slab.Panel(0, out nint bs0);
                float* nextB = ir == 0 && prefetchB ? slab.Source : null;
                int prefetches = (ncur + nr - 1) / nr - 1;   // panels whose next one exists (whole or not)
                if (h == 6) SweepRx16<SixRows>(kc, apanel, rs, ks, panels, b0, slab.PanelStep, bs0, cBlock, ldc, acc, bias, nextB, slab.Ldb, prefetches, prefetchTile);
                else SweepRx16<FiveRows>(kc, apanel, rs, ks, panels, b0, slab.PanelStep, bs0, cBlock, ldc, acc, bias, nextB, slab.Ldb, prefetches, prefetchTile);
                jr = panels * nr;
            }
            for (; jr < ncur; jr += nr)
            {
                int nrc = Math.Min(nr, ncur - jr);
                float* bpanel = slab.Panel(jr, out nint bs);
                if (ir == 0 && prefetchB && jr + nr < ncur) PrefetchPanel(slab.Source + jr + nr, kc, slab.Ldb);
                Tile(isa, h, Math.Min(h, mcur - ir), nrc, nr, kc, apanel, rs, ks, bpanel, bs, cBlock + jr, ldc, acc,
                     bias != null ? bias + jr : null, tile, prefetchTile);
            }
        }
    }

    /// <summary>
    /// Where the NR-wide column panels of one KC slab of B, in one NC block, are read from: B itself for the block's whole
    /// panels when it is read in place (row p of the panel at column jr is <c>Source + p·Ldb + jr</c>), else a packed
    /// slab whose panel at column jr starts <c>jr·PanelStride</c> floats in (a whole B packed once, or the scratch packed
    /// per slab), or one scratch panel packed just before each use (PanelStride 0).
    /// </summary>
    private readonly struct SlabB(float* source, int ldb, bool inPlace, int fullPanels, float* packed, int panelStride, int nr)
    {
        /// <summary>B's slab at the block's first column when B is stored k×n and read (or packed) panel by panel; else null.</summary>
        public readonly float* Source = source;
        public readonly int Ldb = ldb;
        public readonly int Nr = nr;
        private readonly bool _inPlace = inPlace;
        private readonly int _fullPanels = fullPanels;
        private readonly float* _packed = packed;
        private readonly int _panelStride = panelStride;

        /// <summary>Floats from one whole column panel to the next (read in place: NR columns on; packed: a panel's length).</summary>
        public nint PanelStep => _inPlace ? Nr : (nint)Nr * _panelStride;

        /// <summary>The panel whose first column is <paramref name="jr"/> (a multiple of NR) and its row stride.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float* Panel(int jr, out nint stride)
        {
            if (_inPlace && jr < _fullPanels)
            {
                stride = Ldb;
                return Source + jr;
            }
            stride = Nr;
            return _packed + (long)jr * _panelStride;
        }
    }

    /// <summary>A tile's <paramref name="rows"/> rows of C (<paramref name="ldc"/> apart), into L1, just before its kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTileRows(float* c, int ldc, int rows)
    {
        for (int r = 0; r < rows; r++) System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + (long)r * ldc);
    }

    /// <summary>The <paramref name="kc"/> rows of a column panel of B read in place (<paramref name="ldb"/> apart), into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchPanel(float* nb, int kc, int ldb)
    {
        for (int p = 0; p < kc; p++, nb += ldb) System.Runtime.Intrinsics.X86.Sse.Prefetch0(nb);
    }

    /// <summary>
    /// What the column-panel loop asks for before the tile at row <paramref name="ir"/> (height <paramref name="h"/>) of a
    /// block of <paramref name="mcur"/> rows: its slice <c>[p0, p0 + per)</c> of the next column panel of B (rows
    /// <paramref name="ldb"/> apart, into L2; a second line per row when the panel row crosses one, at
    /// <paramref name="last"/>), and with <paramref name="prefetchC"/> the C tile two row panels down: its rows are ldc
    /// apart, a page or more for a weight gradient, where the hardware prefetchers stop, and each store would wait for
    /// its line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(float* nextB, nint last, int ldb, int p0, int per, int kc, bool prefetchC, float* c, int ldc, int ir, int h, int mcur)
    {
        if (nextB != null)
        {
            float* nb = nextB + (long)p0 * ldb;
            for (int p = p0, p1 = Math.Min(kc, p0 + per); p < p1; p++, nb += ldb)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch1(nb);
                if (last != 0) System.Runtime.Intrinsics.X86.Sse.Prefetch1(nb + last);
            }
        }
        if (prefetchC && ir + 2 * h < mcur)
        {
            float* ahead = c + (long)2 * h * ldc;
            int rows = Math.Min(h, mcur - ir - 2 * h);
            for (int r = 0; r < rows; r++) System.Runtime.Intrinsics.X86.Sse.Prefetch0(ahead + (long)r * ldc);
        }
    }

    /// <summary>
    /// One tile of C: an <paramref name="h"/>-row panel of A against an NR-wide panel of B, straight into C when whole
    /// (its rows prefetched first with <paramref name="prefetchTile"/>), else into the scratch <paramref name="tile"/> and
    /// its valid <paramref name="rows"/> × <paramref name="cols"/> corner into C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(GemmIsa isa, int h, int rows, int cols, int nr, int kc, float* apanel, nint rs, nint ks,
        float* bpanel, nint bs, float* c, int ldc, bool acc, float* bias, float* tile, bool prefetchTile)
    {
        if (rows == h && cols == nr)
        {
            if (prefetchTile) PrefetchTileRows(c, ldc, h);
            Kernel(isa, h, kc, apanel, rs, ks, h, bpanel, bs, c, ldc, acc, bias);
            return;
        }
        // Rows past the edge re-read the last valid row (never out of bounds); their results are dropped.
        Kernel(isa, h, kc, apanel, rs, ks, rows, bpanel, bs, tile, nr, false, null);
        StoreEdge(tile, nr, rows, cols, c, ldc, acc, bias);
    }

    /// <summary>
    /// The valid <paramref name="rows"/> × <paramref name="cols"/> corner of a tile computed into scratch, into C (added
    /// to C with <paramref name="acc"/>, else plus the bias row if given), eight columns at a time while they last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // a call per edge tile is felt in small products (docs/PERFORMANCE.md)
    private static void StoreEdge(float* tile, int nr, int rows, int cols, float* c, int ldc, bool acc, float* bias)
    {
        for (int i = 0; i < rows; i++, c += ldc, tile += nr)
        {
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; j + 8 <= cols; j += 8)
                {
                    var v = Vector256.Load(tile + j);
                    if (acc) v += Vector256.Load(c + j);
                    else if (bias != null) v += Vector256.Load(bias + j);
                    v.Store(c + j);
                }
            for (; j < cols; j++) c[j] = acc ? c[j] + tile[j] : bias != null ? tile[j] + bias[j] : tile[j];
        }
    }

    /// <summary>Packs rows [p0, p0+kc) × cols [j0, j0+nc) of op(B) into NR-column panels: dst[panel][p][j], zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip tier-0/OSR code
    private static void PackB(bool transB, float* b, int ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        if (!transB)
        {
            // B is stored k×n: row by row, each row read once along its length into every panel. Panel by panel, the
            // reads jumped a row of B (a page, for a weight matrix 1024 wide) every NR values: 512³ 14% slower,
            // 256×784 · 784×256 17% (docs/PERFORMANCE.md). NR 8, 16 or 32 (B) copies whole vectors, inline; the five to
            // eight rows of an Aᵀ packed as op(A)ᵀ's panels go one by one.
            int full = nc / nr * nr;
            bool vectors = nr % 8 == 0;
            for (int p = 0; p < kc; p++)
            {
                float* src = b + (long)(p0 + p) * ldb + j0;
                float* d = dst + p * nr;
                for (int jr = 0; jr < full; jr += nr, d += (long)nr * kc)
                {
                    if (vectors)
                        for (int j = 0; j < nr; j += 8) Vector256.Store(Vector256.Load(src + jr + j), d + j);
                    else
                        for (int j = 0; j < nr; j++) d[j] = src[jr + j];
                }
                if (full < nc)
                {
                    int j = 0;
                    for (; j < nc - full; j++) d[j] = src[full + j];
                    for (; j < nr; j++) d[j] = 0f;
                }
            }
            return;
        }
        // B stored n×k: column j of op(B) is row j of B. Full panels go eight rows by eight k at a time, transposed in
        // registers (the scalar scatter below cost 8% of a dense VAE's epoch).
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dst + jr * kc;
            int done = 0;
            if (Avx.IsSupported && cols == nr)
            {
                for (; done + 8 <= nr; done += 8)
                    PackTransposed8(b + (long)(j0 + jr + done) * ldb + p0, ldb, kc, panel + done, nr);
            }
            for (int j = done; j < nr; j++)
            {
                if (j < cols)
                {
                    float* src = b + (long)(j0 + jr + j) * ldb + p0;
                    for (int p = 0; p < kc; p++) panel[p * nr + j] = src[p];
                }
                else
                {
                    for (int p = 0; p < kc; p++) panel[p * nr + j] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Eight rows of B (at <paramref name="src"/>, stride <paramref name="ldb"/>, <paramref name="kc"/> values each) into
    /// eight columns of a packed panel: <c>dst[p·nr + i] = src[i·ldb + p]</c>, by 8×8 transposes in AVX registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposed8(float* src, int ldb, int kc, float* dst, int nr)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8) Simd.Transpose8x8(src + p, ldb, dst + (long)p * nr, nr);
        for (; p < kc; p++)
            for (int i = 0; i < 8; i++) dst[(long)p * nr + i] = src[(long)i * ldb + p];
    }

    /// <summary>
    /// Runs the micro-kernel: an MR×NR tile of C from kc steps, A's element (r, p) read at a[r·rs + p·ks]
    /// (rows ≥ <paramref name="rows"/> re-read row rows−1), B's row p at b + p·bs (NR contiguous values: a packed panel, bs = NR,
    /// or B itself, bs = ldb); C = tile (+ C if acc, else + bias row if given).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(GemmIsa isa, int mr, int kc, float* a, nint rs, nint ks, int rows, float* b, nint bs, float* c, int ldc, bool acc, float* bias)
    {
        switch (isa)
        {
            // The packed panel is contiguous (rs = 1, ks = MR): one pointer walking it beats eight. Only for a full
            // tile: an A read in place with that layout (Aᵀ with lda = 8) and fewer rows needs the row clamp.
            case GemmIsa.Vector512 when rs == 1 && ks == 8 && rows == 8: Kernel8x32(kc, a, b, bs, c, ldc, acc, bias); break;
            case GemmIsa.Vector512: Kernel8x32Strided(kc, a, rs, ks, rows, b, bs, c, ldc, acc, bias); break;
            case GemmIsa.Vector256 when mr == 5: KernelRx16<FiveRows>(kc, a, rs, ks, rows, b, bs, c, ldc, acc, bias); break;
            case GemmIsa.Vector256: KernelRx16<SixRows>(kc, a, rs, ks, rows, b, bs, c, ldc, acc, bias); break;
            default: KernelScalar4x8(kc, a, rs, ks, rows, b, bs, c, ldc, acc, bias); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Row(float* a, nint rs, int r, int rows) => a + (r < rows ? r : rows - 1) * rs;

    /// <summary>8×32 tile in 16 zmm accumulators from a packed A panel: per k, two loads of B, eight broadcasts of A, sixteen FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // own register allocation; no tier-0 code
    private static void Kernel8x32(int kc, float* a, float* b, nint bs, float* c, int ldc, bool acc, float* bias)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default,
                         c20 = default, c21 = default, c30 = default, c31 = default,
                         c40 = default, c41 = default, c50 = default, c51 = default,
                         c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            a += 8;
            b += bs;
        }
        Store2(c, c00, c01, acc, bias); c += ldc;
        Store2(c, c10, c11, acc, bias); c += ldc;
        Store2(c, c20, c21, acc, bias); c += ldc;
        Store2(c, c30, c31, acc, bias); c += ldc;
        Store2(c, c40, c41, acc, bias); c += ldc;
        Store2(c, c50, c51, acc, bias); c += ldc;
        Store2(c, c60, c61, acc, bias); c += ldc;
        Store2(c, c70, c71, acc, bias);
    }

    /// <summary>The 8×32 tile reading A in place through eight row pointers (see <see cref="Kernel"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // own register allocation; no tier-0 code
    private static void Kernel8x32Strided(int kc, float* a, nint rs, nint ks, int rows, float* b, nint bs, float* c, int ldc, bool acc, float* bias)
    {
        float* a0 = Row(a, rs, 0, rows), a1 = Row(a, rs, 1, rows), a2 = Row(a, rs, 2, rows), a3 = Row(a, rs, 3, rows),
               a4 = Row(a, rs, 4, rows), a5 = Row(a, rs, 5, rows), a6 = Row(a, rs, 6, rows), a7 = Row(a, rs, 7, rows);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default,
                         c20 = default, c21 = default, c30 = default, c31 = default,
                         c40 = default, c41 = default, c50 = default, c51 = default,
                         c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            nint o = p * ks;
            var av = Vector512.Create(a0[o]); c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a1[o]); c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a2[o]); c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a3[o]); c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a4[o]); c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a5[o]); c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a6[o]); c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a7[o]); c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            b += bs;
        }
        Store2(c, c00, c01, acc, bias); c += ldc;
        Store2(c, c10, c11, acc, bias); c += ldc;
        Store2(c, c20, c21, acc, bias); c += ldc;
        Store2(c, c30, c31, acc, bias); c += ldc;
        Store2(c, c40, c41, acc, bias); c += ldc;
        Store2(c, c50, c51, acc, bias); c += ldc;
        Store2(c, c60, c61, acc, bias); c += ldc;
        Store2(c, c70, c71, acc, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(float* c, Vector512<float> v0, Vector512<float> v1, bool acc, float* bias)
    {
        if (acc) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); }
        else if (bias != null) { v0 += Vector512.Load(bias); v1 += Vector512.Load(bias + 16); }
        v0.Store(c);
        v1.Store(c + 16);
    }

    /// <summary>The height of a 256-bit kernel's tile, a constant the JIT folds into each instantiation.</summary>
    private interface IPanelRows { static abstract int Rows { get; } }
    private struct FiveRows : IPanelRows { public static int Rows => 5; }
    private struct SixRows : IPanelRows { public static int Rows => 6; }

    /// <summary>R×16 tile (R = 5 or 6) in 2R ymm accumulators (<see cref="TileRx16"/>); rows past <paramref name="rows"/> re-read the last valid one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // own register allocation; no tier-0 code
    private static void KernelRx16<TRows>(int kc, float* a, nint rs, nint ks, int rows, float* b, nint bs, float* c, int ldc, bool acc, float* bias)
        where TRows : struct, IPanelRows
    {
        // A full tile's rows are rs apart: six adds, where the clamped form (for edge tiles) costs five compares, moves
        // and multiplies, a tenth of a tile's instructions when the slab is 16 deep (the simple model's shares).
        float* a0 = a, a1, a2, a3, a4, a5;
        if (rows >= TRows.Rows)
        {
            a1 = a0 + rs; a2 = a1 + rs; a3 = a2 + rs; a4 = a3 + rs; a5 = TRows.Rows > 5 ? a4 + rs : a4;
        }
        else
        {
            a1 = Row(a, rs, 1, rows); a2 = Row(a, rs, 2, rows); a3 = Row(a, rs, 3, rows); a4 = Row(a, rs, 4, rows);
            a5 = TRows.Rows > 5 ? Row(a, rs, 5, rows) : a4;
        }
        TileRx16<TRows>(kc, a0, a1, a2, a3, a4, a5, ks, b, bs, c, ldc, acc, bias);
    }

    /// <summary>
    /// The R×16 tile's depth loop and stores: the k loop unrolled four times (the loop's index arithmetic and branch
    /// were a fifth of its instructions and kept the FMA pipes from filling, docs/PERFORMANCE.md), then each
    /// accumulator into its place in C. Each accumulator sums its k terms in order, whatever R.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // inlined into both kernels, the accumulators stay in registers
    private static void TileRx16<TRows>(int kc, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, nint ks,
                                        float* b, nint bs, float* c, int ldc, bool acc, float* bias)
        where TRows : struct, IPanelRows
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                         c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint o = 0;
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            StepRx16<TRows>(b, a0, a1, a2, a3, a4, a5, o, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            StepRx16<TRows>(b + bs, a0, a1, a2, a3, a4, a5, o + ks, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            StepRx16<TRows>(b + 2 * bs, a0, a1, a2, a3, a4, a5, o + 2 * ks, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            StepRx16<TRows>(b + 3 * bs, a0, a1, a2, a3, a4, a5, o + 3 * ks, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            b += 4 * bs;
            o += 4 * ks;
        }
        for (; p < kc; p++)
        {
            StepRx16<TRows>(b, a0, a1, a2, a3, a4, a5, o, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            b += bs;
            o += ks;
        }
        Store2(c, c00, c01, acc, bias); c += ldc;
        Store2(c, c10, c11, acc, bias); c += ldc;
        Store2(c, c20, c21, acc, bias); c += ldc;
        Store2(c, c30, c31, acc, bias); c += ldc;
        Store2(c, c40, c41, acc, bias);
        if (TRows.Rows > 5) Store2(c + ldc, c50, c51, acc, bias);
    }

    /// <summary>Whether <see cref="RowMajorTiles"/> runs a whole row panel's whole column panels in one call (<see cref="SweepRx16"/>; a knob).</summary>
    internal static bool SweepPanels = true;

    /// <summary>
    /// <see cref="KernelRx16"/>'s tile for each of <paramref name="panels"/> whole column panels in turn, all R rows valid:
    /// panel t reads B from <c>b + t·bStep</c> (rows <paramref name="bs"/> apart) and writes C's columns 16t to 16t + 15,
    /// with the same sums in the same order as one call a tile. With <paramref name="nextB"/>, before panel t (for t below
    /// <paramref name="prefetches"/>) the next panel of a B read in place is prefetched into L1 (kc rows
    /// <paramref name="ldb"/> apart); with <paramref name="prefetchTile"/>, the tile's rows of C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // own register allocation; no tier-0 code
    private static void SweepRx16<TRows>(int kc, float* a, nint rs, nint ks, int panels, float* b, nint bStep, nint bs, float* c, int ldc,
                                         bool acc, float* bias, float* nextB, int ldb, int prefetches, bool prefetchTile)
        where TRows : struct, IPanelRows
    {
        float* a0 = a, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs, a4 = a3 + rs, a5 = TRows.Rows > 5 ? a4 + rs : a4;
        for (int t = 0; t < panels; t++, b += bStep, c += 16)
        {
            if (nextB != null && t < prefetches) PrefetchPanel(nextB + (t + 1) * 16, kc, ldb);
            if (prefetchTile) PrefetchTileRows(c, ldc, TRows.Rows);
            TileRx16<TRows>(kc, a0, a1, a2, a3, a4, a5, ks, b, bs, c, ldc, acc, bias != null ? bias + 16 * t : null);
        }
    }

    /// <summary>Whether <see cref="Core"/>'s column-panel loop runs a column panel's exact row panels in one call per height (<see cref="SweepDownRx16"/>; a knob).</summary>
    internal static bool SweepRowPanels = true;

    /// <summary>What every row panel of <see cref="SweepDownRx16"/> shares: the depth, A's strides, the column panel of B, C's stride, the prefetches.</summary>
    private readonly struct SweepDown(int kc, nint rs, nint ks, nint aRow, float* b, nint bs, int ldc, bool acc, float* bias,
                                      float* nextB, nint last, int ldb, int per, bool prefetchC, bool prefetchTile, int mcur)
    {
        public readonly int Kc = kc, Ldc = ldc, Ldb = ldb, Per = per, Mcur = mcur;
        public readonly nint Rs = rs, Ks = ks, ARow = aRow, Bs = bs, Last = last;
        public readonly float* B = b, Bias = bias, NextB = nextB;
        public readonly bool Acc = acc, PrefetchC = prefetchC, PrefetchTile = prefetchTile;
    }

    /// <summary>
    /// <paramref name="count"/> whole R-row panels, the first at row <paramref name="ir0"/> of the block (panel index
    /// <paramref name="idx0"/>), against one whole column panel of B, a tile each as <see cref="KernelRx16"/> computes it:
    /// before each, its slice of the next column panel of B and the C rows two panels down are prefetched as the
    /// column-panel loop of <see cref="Core"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // own register allocation; no tier-0 code
    private static void SweepDownRx16<TRows>(in SweepDown d, int count, int idx0, int ir0, float* a, float* c)
        where TRows : struct, IPanelRows
    {
        int h = TRows.Rows, kc = d.Kc, ldc = d.Ldc;
        nint rs = d.Rs, ks = d.Ks, bs = d.Bs;
        float* b = d.B, bias = d.Bias;
        bool acc = d.Acc;
        for (int t = 0, ir = ir0, p0 = idx0 * d.Per; t < count; t++, ir += h, p0 += d.Per, a += h * d.ARow, c += (long)h * ldc)
        {
            PrefetchAhead(d.NextB, d.Last, d.Ldb, p0, d.Per, kc, d.PrefetchC, c, ldc, ir, h, d.Mcur);
            if (d.PrefetchTile) PrefetchTileRows(c, ldc, h);
            float* a0 = a, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs, a4 = a3 + rs, a5 = TRows.Rows > 5 ? a4 + rs : a4;
            TileRx16<TRows>(kc, a0, a1, a2, a3, a4, a5, ks, b, bs, c, ldc, acc, bias);
        }
    }

    /// <summary>One k of the R×16 tile: two vectors of B's row, each times R broadcast values of A's column (offset q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // inlined, the accumulators stay in registers
    private static void StepRx16<TRows>(float* b, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, nint q,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
        where TRows : struct, IPanelRows
    {
        var b0 = Vector256.Load(b);
        var b1 = Vector256.Load(b + 8);
        var av = Vector256.Create(a0[q]); c00 = Vector256.FusedMultiplyAdd(av, b0, c00); c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
        av = Vector256.Create(a1[q]); c10 = Vector256.FusedMultiplyAdd(av, b0, c10); c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
        av = Vector256.Create(a2[q]); c20 = Vector256.FusedMultiplyAdd(av, b0, c20); c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
        av = Vector256.Create(a3[q]); c30 = Vector256.FusedMultiplyAdd(av, b0, c30); c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
        av = Vector256.Create(a4[q]); c40 = Vector256.FusedMultiplyAdd(av, b0, c40); c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
        if (TRows.Rows > 5)
        {
            av = Vector256.Create(a5[q]); c50 = Vector256.FusedMultiplyAdd(av, b0, c50); c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(float* c, Vector256<float> v0, Vector256<float> v1, bool acc, float* bias)
    {
        if (acc) { v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); }
        else if (bias != null) { v0 += Vector256.Load(bias); v1 += Vector256.Load(bias + 8); }
        v0.Store(c);
        v1.Store(c + 8);
    }

    /// <summary>4×8 tile in scalar registers, for processors without 256-bit SIMD.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // own register allocation; no tier-0 code
    private static void KernelScalar4x8(int kc, float* a, nint rs, nint ks, int rows, float* b, nint bs, float* c, int ldc, bool acc, float* bias)
    {
        float* t = stackalloc float[32];
        for (int i = 0; i < 32; i++) t[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                float av = Row(a, rs, i, rows)[p * ks];
                float* row = t + i * 8;
                for (int j = 0; j < 8; j++) row[j] = MathF.FusedMultiplyAdd(av, b[j], row[j]);
            }
            b += bs;
        }
        for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            c[(long)i * ldc + j] = acc ? c[(long)i * ldc + j] + t[i * 8 + j] : bias != null ? t[i * 8 + j] + bias[j] : t[i * 8 + j];
    }

    /// <summary>A multiply cut along M or N into per-thread sub-multiplies. Reused per calling thread, so a call allocates nothing.</summary>
    private sealed class GemmJob : IParallelWork
    {
        private GemmIsa _isa;
        private bool _dot, _transA, _transB, _acc, _splitM;
        private int _mr, _m, _n, _k, _lda, _ldb, _ldc, _chunk;
        private float* _a, _b, _c, _bias, _packedB;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
        public void Set(GemmIsa isa, int mr, bool dot, bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb,
                        float* c, int ldc, bool acc, float* bias, bool splitM, int chunk, float* packedB = null)
        {
            _packedB = packedB;
            _isa = isa; _mr = mr; _dot = dot; _transA = transA; _transB = transB; _acc = acc; _splitM = splitM;
            _m = m; _n = n; _k = k; _lda = lda; _ldb = ldb; _ldc = ldc; _chunk = chunk;
            _a = a; _b = b; _c = c; _bias = bias;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
        public void Execute(int part)
        {
            int start = part * _chunk;
            if (_splitM)
            {
                int rows = Math.Min(_chunk, _m - start);
                if (rows <= 0) return;
                float* a = _transA ? _a + start : _a + (long)start * _lda;
                Core(_isa, _mr, _dot, _transA, _transB, rows, _n, _k, a, _lda, _b, _ldb, _c + (long)start * _ldc, _ldc, _acc, _bias, _packedB);
            }
            else
            {
                int cols = Math.Min(_chunk, _n - start);
                if (cols <= 0) return;
                float* b = _transB ? _b + (long)start * _ldb : _b + start;
                Core(_isa, _mr, _dot, _transA, _transB, _m, cols, _k, _a, _lda, b, _ldb, _c + start, _ldc, _acc, _bias == null ? null : _bias + start);
            }
        }
    }
}
