using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Reduction;

/// <summary>Exact k-nearest neighbours by squared Euclidean distance, in blocks of rows against all rows through GEMM.</summary>
internal static class Neighbors
{
    /// <summary>Rows a worker takes together, and columns a tile of their distances spans (the tile stays in L2).</summary>
    private const int BlockRows = 64, BlockColumns = 512;

    /// <summary>
    /// For each row of x (N×D, row-major) its k nearest other rows (ascending distance, ties by index), with the
    /// squared distances <c>‖xᵢ‖² + ‖xⱼ‖² − 2xᵢ·xⱼ</c> clamped at 0 (duplicates are at distance 0).
    /// </summary>
    /// <remarks>
    /// Cache-blocked: xᵀ is packed once for the GEMM in blocks of 512 columns; each worker takes 64 rows at a time
    /// and, block by block, computes their 64 × 512 dot products into a tile of its own (in L2) and folds the tile into
    /// the rows' bounded heaps. Writing all N dot products of a row block to memory and reading them back made the
    /// search memory-bound.
    /// </remarks>
    public static (int[] Index, float[] Dist2) Exact(float[] x, int n, int d, int k) => Exact(Pack(x, n, d), k);

    /// <inheritdoc cref="Exact(float[], int, int, int)"/>
    public static (int[] Index, float[] Dist2) Exact(PackedPoints points, int k)
    {
        var (x, n, d, norms) = (points.X, points.N, points.D, points.Norms);
        var index = new int[(long)n * k];
        var dist = new float[(long)n * k];
        int rowBlocks = (n + BlockRows - 1) / BlockRows;
        Parallel.For(0, rowBlocks, () => new float[BlockRows * BlockColumns], (rb, _, tile) =>
        {
            int r0 = rb * BlockRows, rows = Math.Min(BlockRows, n - r0);
            Span<int> sizes = stackalloc int[BlockRows];
            sizes.Clear();
            for (int cb = 0; cb < points.ColumnBlocks; cb++)
            {
                int c0 = cb * BlockColumns, cols = points.Products(cb, x.AsSpan(r0 * d, rows * d), rows, tile);
                for (int r = 0; r < rows; r++)
                {
                    int i = r0 + r;
                    Scan(tile.AsSpan(r * BlockColumns, cols), c0, norms, i, k, ref sizes[r], index.AsSpan(i * k, k), dist.AsSpan(i * k, k));
                }
            }
            for (int r = 0; r < rows; r++)
            {
                int i = r0 + r;
                Sort(sizes[r], index.AsSpan(i * k, k), dist.AsSpan(i * k, k));
            }
            return tile;
        }, _ => { });
        return (index, dist);
    }

    /// <summary>
    /// Points (N×D, row-major) made ready for the cache-blocked searches: their squared norms, and xᵀ packed for the GEMM
    /// in blocks of <see cref="BlockColumns"/> columns, each block on its own.
    /// </summary>
    internal sealed class PackedPoints
    {
        public required float[] X { get; init; }
        public required int N { get; init; }
        public required int D { get; init; }
        public required float[] Norms { get; init; }
        public required float[] Packed { get; init; }
        public required int PackedBlock { get; init; }
        public int ColumnBlocks => (N + BlockColumns - 1) / BlockColumns;

        /// <summary>
        /// The dot products of <paramref name="rows"/> points a (rows×D) with column block cb into tile (rows of
        /// <see cref="BlockColumns"/>), on the calling thread; returns the block's column count.
        /// </summary>
        public int Products(int cb, ReadOnlySpan<float> a, int rows, float[] tile)
        {
            int cols = Math.Min(BlockColumns, N - cb * BlockColumns);
            Gemm.MultiplyPacked(false, rows, cols, D, a, D, Packed.AsSpan(cb * PackedBlock, PackedBlock), tile, BlockColumns,
                                accumulate: false, serial: true);
            return cols;
        }
    }

    /// <summary>Norms and packed blocks of x, for <see cref="Exact(PackedPoints, int)"/> and <see cref="Ranks"/>.</summary>
    public static PackedPoints Pack(float[] x, int n, int d)
    {
        var norms = new float[n];
        for (int i = 0; i < n; i++) norms[i] = System.Numerics.Tensors.TensorPrimitives.Dot(x.AsSpan(i * d, d), x.AsSpan(i * d, d));
        int columnBlocks = (n + BlockColumns - 1) / BlockColumns;
        int packedBlock = Gemm.PackedLength(d, BlockColumns);
        var packed = new float[(long)columnBlocks * packedBlock];
        Parallel.For(0, columnBlocks, cb =>
        {
            int c0 = cb * BlockColumns, cols = Math.Min(BlockColumns, n - c0);
            Gemm.PackWhole(true, x.AsSpan(c0 * d, cols * d), d, d, cols, packed.AsSpan(cb * packedBlock, packedBlock));
        });
        return new PackedPoints { X = x, N = n, D = d, Norms = norms, Packed = packed, PackedBlock = packedBlock };
    }

    /// <summary>
    /// For rows[r] = i and each target j in targets[starts[r]..starts[r + 1]), j's rank among i's neighbours: 1 + the
    /// points m ≠ i nearer than j, or as near with m &lt; j (the order of <see cref="Exact(PackedPoints, int)"/>). Two passes over the
    /// same cache-blocked tiles as <see cref="Exact(PackedPoints, int)"/>: the first reads the targets' distances, the second counts.
    /// </summary>
    public static int[] Ranks(PackedPoints points, int[] rows, int[] starts, int[] targets)
    {
        var (x, d, norms) = (points.X, points.D, points.Norms);
        var ranks = new int[targets.Length];
        if (rows.Length == 0) return ranks;
        var targetDist = new float[targets.Length];
        int rowBlocks = (rows.Length + BlockRows - 1) / BlockRows;
        Parallel.For(0, rowBlocks, () => (Tile: new float[BlockRows * BlockColumns], A: new float[BlockRows * d], Row: new float[BlockColumns]), (rb, _, buffers) =>
        {
            int r0 = rb * BlockRows, count = Math.Min(BlockRows, rows.Length - r0);
            for (int r = 0; r < count; r++) x.AsSpan(rows[r0 + r] * d, d).CopyTo(buffers.A.AsSpan(r * d, d));
            for (int pass = 0; pass < 2; pass++)
                for (int cb = 0; cb < points.ColumnBlocks; cb++)
                {
                    int c0 = cb * BlockColumns, cols = points.Products(cb, buffers.A, count, buffers.Tile);
                    for (int r = 0; r < count; r++)
                    {
                        int i = rows[r0 + r];
                        float ni = norms[i];
                        var g = buffers.Tile.AsSpan(r * BlockColumns, cols);
                        if (pass == 0)
                        {
                            for (int t = starts[r0 + r]; t < starts[r0 + r + 1]; t++)
                            {
                                int j = targets[t];
                                if (j >= c0 && j < c0 + cols) targetDist[t] = Math.Max(ni + norms[j] - 2 * g[j - c0], 0f);
                            }
                            continue;
                        }
                        var dist = buffers.Row.AsSpan(0, cols);
                        for (int m = 0; m < cols; m++) dist[m] = Math.Max(ni + norms[c0 + m] - 2 * g[m], 0f);
                        if (i >= c0 && i < c0 + cols) dist[i - c0] = float.PositiveInfinity;   // i is not its own neighbour
                        for (int t = starts[r0 + r]; t < starts[r0 + r + 1]; t++)
                        {
                            int j = targets[t];
                            float dj = targetDist[t];
                            int nearer = 0, m0 = 0;
                            if (Vector256.IsHardwareAccelerated)
                            {
                                var vj = Vector256.Create(dj);
                                ref float d0 = ref MemoryMarshal.GetReference(dist);
                                for (; m0 + 8 <= cols; m0 += 8)
                                {
                                    var dm = Vector256.LoadUnsafe(ref d0, (nuint)m0);
                                    nearer += System.Numerics.BitOperations.PopCount(Vector256.LessThan(dm, vj).ExtractMostSignificantBits());
                                    uint ties = Vector256.Equals(dm, vj).ExtractMostSignificantBits();
                                    while (ties != 0)   // as near: before j in index order
                                    {
                                        int lane = System.Numerics.BitOperations.TrailingZeroCount(ties);
                                        ties &= ties - 1;
                                        if (c0 + m0 + lane < j) nearer++;
                                    }
                                }
                            }
                            for (int m = m0; m < cols; m++)
                                if (dist[m] < dj || (dist[m] == dj && c0 + m < j)) nearer++;
                            ranks[t] += nearer;
                        }
                    }
                }
            for (int r = 0; r < count; r++)
                for (int t = starts[r0 + r]; t < starts[r0 + r + 1]; t++) ranks[t] += 1;
            return buffers;
        }, _ => { });
        return ranks;
    }

    /// <summary>
    /// Folds candidates j = c0 + t (t &lt; gi.Length), at <c>nᵢ + nⱼ − 2gₜ</c>, j ≠ i, into row i's bounded max-heap of
    /// <paramref name="size"/> entries (at most k). Once the heap is full, eight candidates at a time are compared with
    /// its worst in one vector instruction: almost all of them lose (k of N are kept), and only the lanes that win go
    /// through the heap, in order.
    /// </summary>
    private static void Scan(ReadOnlySpan<float> gi, int c0, float[] norms, int i, int k, ref int size, Span<int> outIndex, Span<float> outDist)
    {
        float ni = norms[i];
        int t = 0, count = gi.Length;
        for (; t < count && size < k; t++)
        {
            int j = c0 + t;
            if (j == i) continue;
            Push(Math.Max(ni + norms[j] - 2 * gi[t], 0f), j, size++, outIndex, outDist);
        }
        if (size == k && Vector256.IsHardwareAccelerated)
        {
            var vni = Vector256.Create(ni);
            var two = Vector256.Create(2f);
            ref float g0 = ref MemoryMarshal.GetReference(gi);
            ref float n0 = ref norms[c0];
            for (; t + 8 <= count; t += 8)
            {
                var d = Vector256.Max(vni + Vector256.LoadUnsafe(ref n0, (nuint)t) - two * Vector256.LoadUnsafe(ref g0, (nuint)t), Vector256<float>.Zero);
                // A later index never beats an equal distance already kept, so only strictly smaller ones matter.
                uint wins = Vector256.LessThan(d, Vector256.Create(outDist[0])).ExtractMostSignificantBits();
                while (wins != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(wins);
                    wins &= wins - 1;
                    if (c0 + t + lane != i) Replace(d.GetElement(lane), c0 + t + lane, k, outIndex, outDist);
                }
            }
        }
        for (; t < count; t++)
        {
            int j = c0 + t;
            if (j == i) continue;
            float dj = Math.Max(ni + norms[j] - 2 * gi[t], 0f);
            if (size < k) Push(dj, j, size++, outIndex, outDist);
            else Replace(dj, j, k, outIndex, outDist);
        }
    }

    /// <summary>A heap of <paramref name="size"/> entries into ascending order (distance, then index).</summary>
    private static void Sort(int size, Span<int> outIndex, Span<float> outDist)
    {
        var pairs = new (float D, int J)[size];
        for (int t = 0; t < size; t++) pairs[t] = (outDist[t], outIndex[t]);
        Array.Sort(pairs);
        for (int t = 0; t < size; t++) { outDist[t] = pairs[t].D; outIndex[t] = pairs[t].J; }
    }

    /// <summary>Adds (dj, j) to a heap of <paramref name="size"/> entries and sifts it up.</summary>
    private static void Push(float dj, int j, int size, Span<int> outIndex, Span<float> outDist)
    {
        int c = size;
        while (c > 0)
        {
            int p = (c - 1) >> 1;
            if (!Worse(dj, j, outDist[p], outIndex[p])) break;
            outDist[c] = outDist[p]; outIndex[c] = outIndex[p]; c = p;
        }
        outDist[c] = dj; outIndex[c] = j;
    }

    /// <summary>If (dj, j) ranks before the heap's worst, replaces it and sifts down.</summary>
    private static void Replace(float dj, int j, int k, Span<int> outIndex, Span<float> outDist)
    {
        if (!Worse(outDist[0], outIndex[0], dj, j)) return;
        int c = 0;
        while (true)
        {
            int l = 2 * c + 1;
            if (l >= k) break;
            int w = l + 1 < k && Worse(outDist[l + 1], outIndex[l + 1], outDist[l], outIndex[l]) ? l + 1 : l;
            if (!Worse(outDist[w], outIndex[w], dj, j)) break;
            outDist[c] = outDist[w]; outIndex[c] = outIndex[w]; c = w;
        }
        outDist[c] = dj; outIndex[c] = j;
    }

    /// <summary>Whether (da, ja) ranks after (db, jb): farther, or as far with a larger index.</summary>
    private static bool Worse(float da, int ja, float db, int jb) => da > db || (da == db && ja > jb);
}
