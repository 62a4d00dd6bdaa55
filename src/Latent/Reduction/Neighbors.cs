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

    /// <summary>The k smallest of <c>nᵢ + nⱼ − 2gⱼ</c> over j ≠ i, by a bounded max-heap, then sorted ascending.</summary>
    private static void SelectSmallest(ReadOnlySpan<float> gi, float[] norms, int i, int k, Span<int> outIndex, Span<float> outDist)
    {
        float ni = norms[i];
        int size = 0;
        for (int j = 0; j < gi.Length; j++)
        {
            if (j == i) continue;
            float dj = Math.Max(ni + norms[j] - 2 * gi[j], 0f);
            if (size < k)
            {
                // sift up
                int c = size++;
                while (c > 0)
                {
                    int p = (c - 1) >> 1;
                    if (!Worse(dj, j, outDist[p], outIndex[p])) break;
                    outDist[c] = outDist[p]; outIndex[c] = outIndex[p]; c = p;
                }
                outDist[c] = dj; outIndex[c] = j;
            }
            else if (Worse(outDist[0], outIndex[0], dj, j))
            {
                // replace the root (the worst kept) and sift down
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
        }
        // heap → ascending order
        var pairs = new (float D, int J)[size];
        for (int t = 0; t < size; t++) pairs[t] = (outDist[t], outIndex[t]);
        Array.Sort(pairs);
        for (int t = 0; t < size; t++) { outDist[t] = pairs[t].D; outIndex[t] = pairs[t].J; }
    }

    /// <summary>Whether (da, ja) ranks after (db, jb): farther, or as far with a larger index.</summary>
    private static bool Worse(float da, int ja, float db, int jb) => da > db || (da == db && ja > jb);
}
