using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

internal static unsafe partial class Gemm
{
    /// <summary>Longest B (rows of Bᵀ) the dot-product form takes: all of B stays in a core's L2 (128 × 784 floats = 400 KB).</summary>
    private const int DotMaxN = 128;

    /// <summary>Most rows of A the dot-product form takes: from 256 rows on, packed panels of B are reused enough to win (measured).</summary>
    private const int DotMaxM = 128;

    /// <summary>Shortest K the dot-product form takes: below it the 16 horizontal sums per tile outweigh the FMAs.</summary>
    private const int DotMinK = 128;

    /// <summary>
    /// Whether <c>A·Bᵀ</c> runs as dot products of rows instead of through packing. A Dense layer's input
    /// gradient <c>dZ·Wᵀ</c> with a wide output and a narrow input (the decoder's 32×784 · (32×784)ᵀ) has both
    /// operands with K contiguous and only N = 32 rows of B: packing Bᵀ into panels copies 100 KB per call
    /// to be read by 32 rows of A, which cost more than the multiply (61 GFLOPS on one core; 143 this way). Rows
    /// dotted in place need no copy. The deep model's 100×784 · (128×784)ᵀ goes from 88 to 200 GFLOPS on two cores.
    /// </summary>
    private static bool UseDot(GemmIsa isa, bool transA, bool transB, int m, int n, int k, bool hasBias) =>
        isa == GemmIsa.Vector512 && transB && !transA && !hasBias && m <= DotMaxM && n <= DotMaxN && k >= DotMinK;

    /// <summary><c>C[m×n] (+)= A[m×k] · B[n×k]ᵀ</c> in 4×4 tiles of dot products.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotNT(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i += 4)
        for (int j = 0; j < n; j += 4)
            Dot4x4(k, a + (long)i * lda, lda, Math.Min(4, m - i), b + (long)j * ldb, ldb, Math.Min(4, n - j),
                   c + (long)i * ldc + j, ldc, accumulate);
    }

    /// <summary>
    /// A tile of up to 4×4 outputs, <c>c[r, s] (+)= Σ_p a[r, p]·b[s, p]</c>: sixteen Vector512 accumulators over K,
    /// then one horizontal sum each and a scalar tail. Missing rows/columns of an edge tile repeat the last
    /// one and are not stored, so every output is summed in the same order whatever the tile or thread split.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // compiled once, fully: inlined, the JIT spills accumulators
    private static void Dot4x4(int k, float* a, nint lda, int rows, float* b, nint ldb, int cols, float* c, int ldc, bool acc)
    {
        float* a0 = a, a1 = a + Math.Min(1, rows - 1) * lda, a2 = a + Math.Min(2, rows - 1) * lda, a3 = a + Math.Min(3, rows - 1) * lda;
        float* b0 = b, b1 = b + Math.Min(1, cols - 1) * ldb, b2 = b + Math.Min(2, cols - 1) * ldb, b3 = b + Math.Min(3, cols - 1) * ldb;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int p = 0;
        for (; p <= k - 16; p += 16)
        {
            var y0 = Vector512.Load(b0 + p); var y1 = Vector512.Load(b1 + p);
            var y2 = Vector512.Load(b2 + p); var y3 = Vector512.Load(b3 + p);
            var x = Vector512.Load(a0 + p);
            c00 = Vector512.FusedMultiplyAdd(x, y0, c00); c01 = Vector512.FusedMultiplyAdd(x, y1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, y2, c02); c03 = Vector512.FusedMultiplyAdd(x, y3, c03);
            x = Vector512.Load(a1 + p);
            c10 = Vector512.FusedMultiplyAdd(x, y0, c10); c11 = Vector512.FusedMultiplyAdd(x, y1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, y2, c12); c13 = Vector512.FusedMultiplyAdd(x, y3, c13);
            x = Vector512.Load(a2 + p);
            c20 = Vector512.FusedMultiplyAdd(x, y0, c20); c21 = Vector512.FusedMultiplyAdd(x, y1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, y2, c22); c23 = Vector512.FusedMultiplyAdd(x, y3, c23);
            x = Vector512.Load(a3 + p);
            c30 = Vector512.FusedMultiplyAdd(x, y0, c30); c31 = Vector512.FusedMultiplyAdd(x, y1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, y2, c32); c33 = Vector512.FusedMultiplyAdd(x, y3, c33);
        }
        float* s = stackalloc float[16];
        s[0] = Vector512.Sum(c00); s[1] = Vector512.Sum(c01); s[2] = Vector512.Sum(c02); s[3] = Vector512.Sum(c03);
        s[4] = Vector512.Sum(c10); s[5] = Vector512.Sum(c11); s[6] = Vector512.Sum(c12); s[7] = Vector512.Sum(c13);
        s[8] = Vector512.Sum(c20); s[9] = Vector512.Sum(c21); s[10] = Vector512.Sum(c22); s[11] = Vector512.Sum(c23);
        s[12] = Vector512.Sum(c30); s[13] = Vector512.Sum(c31); s[14] = Vector512.Sum(c32); s[15] = Vector512.Sum(c33);
        float** ar = stackalloc float*[4] { a0, a1, a2, a3 };
        float** br = stackalloc float*[4] { b0, b1, b2, b3 };
        for (; p < k; p++)
            for (int r = 0; r < 4; r++)
            for (int q = 0; q < 4; q++) s[r * 4 + q] += ar[r][p] * br[q][p];
        for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++)
        {
            float* dst = c + (long)r * ldc + q;
            *dst = acc ? *dst + s[r * 4 + q] : s[r * 4 + q];
        }
    }
}
