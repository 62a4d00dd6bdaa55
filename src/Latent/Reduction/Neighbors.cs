using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Reduction;

/// <summary>Exact k-nearest neighbours by squared Euclidean distance, in blocks of rows against all rows through GEMM.</summary>
internal static class Neighbors
{
    /// <summary>
    /// For each row of x (N×D, row-major) its k nearest other rows (ascending distance, ties by index), with the
    /// squared distances <c>‖xᵢ‖² + ‖xⱼ‖² − 2xᵢ·xⱼ</c> clamped at 0 (duplicates are at distance 0).
    /// </summary>
    public static (int[] Index, float[] Dist2) Exact(float[] x, int n, int d, int k)
    {
        var norms = new float[n];
        for (int i = 0; i < n; i++) norms[i] = System.Numerics.Tensors.TensorPrimitives.Dot(x.AsSpan(i * d, d), x.AsSpan(i * d, d));
        var index = new int[(long)n * k];
        var dist = new float[(long)n * k];
        int block = Math.Clamp((int)(16_000_000L / Math.Max(n, 1)), 16, 1024);
        var g = new float[(long)block * n];
        for (int r0 = 0; r0 < n; r0 += block)
        {
            int rows = Math.Min(block, n - r0);
            Gemm.Multiply(false, true, rows, n, d, x.AsSpan(r0 * d, rows * d), d, x, d, g, n, accumulate: false);
            Parallel.For(0, rows, r =>
            {
                int i = r0 + r;
                var gi = g.AsSpan(r * n, n);
                SelectSmallest(gi, norms, i, k, index.AsSpan(i * k, k), dist.AsSpan(i * k, k));
            });
        }
        return (index, dist);
    }

    /// <summary>
    /// The k smallest of <c>nᵢ + nⱼ − 2gⱼ</c> over j ≠ i, by a bounded max-heap, then sorted ascending. Once the heap
    /// is full, eight candidates at a time are compared with its worst in one vector instruction: almost all of them
    /// lose (k of N are kept), and only the lanes that win go through the heap, in order.
    /// </summary>
    private static void SelectSmallest(ReadOnlySpan<float> gi, float[] norms, int i, int k, Span<int> outIndex, Span<float> outDist)
    {
        float ni = norms[i];
        int size = 0, j = 0, n = gi.Length;
        for (; j < n && size < k; j++)
        {
            if (j == i) continue;
            Push(Math.Max(ni + norms[j] - 2 * gi[j], 0f), j, size++, outIndex, outDist);
        }
        if (size == k && Vector256.IsHardwareAccelerated)
        {
            var vni = Vector256.Create(ni);
            var two = Vector256.Create(2f);
            ref float g0 = ref MemoryMarshal.GetReference(gi);
            ref float n0 = ref norms[0];
            for (; j + 8 <= n; j += 8)
            {
                var d = Vector256.Max(vni + Vector256.LoadUnsafe(ref n0, (nuint)j) - two * Vector256.LoadUnsafe(ref g0, (nuint)j), Vector256<float>.Zero);
                // A later index never beats an equal distance already kept, so only strictly smaller ones matter.
                uint wins = Vector256.LessThan(d, Vector256.Create(outDist[0])).ExtractMostSignificantBits();
                while (wins != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(wins);
                    wins &= wins - 1;
                    if (j + lane != i) Replace(d.GetElement(lane), j + lane, k, outIndex, outDist);
                }
            }
        }
        for (; j < n; j++)
        {
            if (j == i) continue;
            float dj = Math.Max(ni + norms[j] - 2 * gi[j], 0f);
            if (size < k) Push(dj, j, size++, outIndex, outDist);
            else Replace(dj, j, k, outIndex, outDist);
        }
        // heap → ascending order
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
