namespace Latent.Kernels;

/// <summary>
/// The reference matrix multiply: three loops, accumulated in double. Slow and obviously right; the test
/// oracle for <see cref="Gemm"/>.
/// </summary>
internal static class GemmNaive
{
    /// <summary>Same contract as <see cref="Gemm.Multiply"/>.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate,
        ReadOnlySpan<float> bias = default)
    {
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[p * lda + i] : a[i * lda + p];
                float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                s += (double)av * bv;
            }
            c[i * ldc + j] = accumulate ? (float)(c[i * ldc + j] + s) : (float)(s + (bias.IsEmpty ? 0 : bias[j]));
        }
    }
}
