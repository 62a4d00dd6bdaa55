using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

internal static unsafe partial class Gemm
{
    /// <summary>Products with at most this many rows, columns or depth take <see cref="Skinny"/> (when small enough for one core).</summary>
    private const int SkinnyMax = 4;

    /// <summary>Whether the skinny forms are used at all (tests and benchmarks compare them with the blocked path).</summary>
    internal static bool UseSkinny = true;

    [ThreadStatic] private static float[]? t_skinny;

    /// <summary>
    /// Whether <c>C = op(A)·op(B)</c> runs as plain dot products or row updates instead of through the blocked kernel: a VAE's
    /// 256 → 2 mean layer, its 2 → 256 decoder input, their gradients. The micro-kernel computes tiles of 5–8 rows by 16–32
    /// columns and pads a 2-wide product to its full width (eight times the work), packs its operands and calls itself
    /// once per tile; a product with two columns, two rows or depth two is a few thousand FMAs either way. Decided from
    /// the shape alone (never the thread count), so a given product always sums in the same order.
    /// </summary>
    private static bool UseSkinnyForm(GemmIsa isa, bool transA, bool transB, int m, int n, int k, long flops) =>
        UseSkinny && isa != GemmIsa.Scalar && Vector256.IsHardwareAccelerated && flops < ParallelFlops && Math.Min(m, Math.Min(n, k)) <= SkinnyMax &&
        ScratchNeeded(transA, transB, m, n, k) <= MaxSkinnyScratch;

    /// <summary>The most floats <see cref="Skinny"/> gathers (a long, thin operand the wrong way round goes through the blocked path instead).</summary>
    private const int MaxSkinnyScratch = 1 << 16;

    /// <summary>The three ways <see cref="Skinny"/> computes a product (<see cref="FormOf"/>).</summary>
    private enum SkinnyForm
    {
        /// <summary><c>C[i, :] = Σₚ op(A)(i, p)·op(B)(p, :)</c>: k small, or m small with B's rows contiguous.</summary>
        RowUpdates,
        /// <summary><c>Cᵀ[j, :] = Σₚ op(B)(p, j)·A[p, :]</c> into a scratch: n small with A stored k×m (its rows contiguous).</summary>
        TransposedRowUpdates,
        /// <summary><c>C[i, j] = Σₚ xᵢ[p]·yⱼ[p]</c>: n small with A stored m×k, or m small with B stored n×k.</summary>
        Dots,
    }

    /// <summary>The form a skinny product takes: the one whose long operand is read along its contiguous rows.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static SkinnyForm FormOf(bool transA, bool transB, int m, int n, int k) =>
        k <= SkinnyMax || (m <= SkinnyMax && !transB) ? SkinnyForm.RowUpdates
        : n <= SkinnyMax && transA ? SkinnyForm.TransposedRowUpdates
        : SkinnyForm.Dots;

    /// <summary>Floats <see cref="Skinny"/> gathers into its scratch for this product.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static long ScratchNeeded(bool transA, bool transB, int m, int n, int k) => FormOf(transA, transB, m, n, k) switch
    {
        SkinnyForm.RowUpdates => transB ? (long)k * n : 0,
        SkinnyForm.TransposedRowUpdates => (long)n * m,
        _ => transA ? (long)m * k : transB ? 0 : (long)n * k,
    };

    /// <summary>
    /// <c>C[m×n] (+)= op(A)·op(B) (+ bias)</c> for a product with m, n or k at most <see cref="SkinnyMax"/>, in one of the
    /// <see cref="SkinnyForm"/>s: dot products of contiguous vectors when the long dimension is K, row updates of contiguous
    /// rows otherwise. An operand strided the wrong way is gathered into a per-thread scratch first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Skinny(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb,
                               float* c, int ldc, bool acc, float* bias)
    {
        var form = FormOf(transA, transB, m, n, k);
        if (form == SkinnyForm.RowUpdates)
        {
            // Row updates along n: C[i, :] = init + Σₚ opA(i, p)·opB(p, :); opB's rows are contiguous unless transB.
            float* rows = b;
            nint rowStride = ldb;
            if (transB)
            {
                rows = Transposed(b, ldb, n, k);
                rowStride = n;
            }
            if (k <= SkinnyMax)
            {
                // Depth 1–4: each output vector takes its k terms in registers and is stored once.
                float* al = stackalloc float[SkinnyMax];
                for (int i = 0; i < m; i++)
                {
                    for (int p = 0; p < k; p++) al[p] = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    RowUpdate(al, k, rows, rowStride, c + (long)i * ldc, n, acc, bias);
                }
                return;
            }
            for (int i = 0; i < m; i++)
            {
                float* ci = c + (long)i * ldc;
                if (!acc)
                {
                    if (bias != null) Buffer.MemoryCopy(bias, ci, n * sizeof(float), n * sizeof(float));
                    else new Span<float>(ci, n).Clear();
                }
                for (int p = 0; p < k; p++)
                    Axpy(transA ? a[(long)p * lda + i] : a[(long)i * lda + p], rows + p * rowStride, ci, n);
            }
            return;
        }
        if (form == SkinnyForm.TransposedRowUpdates)
        {
            // Cᵀ[j, :] = Σₚ opB(p, j)·A[p, :]: A's rows are op(A)'s columns, contiguous; summed in a scratch, then written.
            float* ct = Scratch((long)n * m);
            new Span<float>(ct, n * m).Clear();
            for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
                Axpy(transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j], a + (long)p * lda, ct + (long)j * m, m);
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float* dst = c + (long)i * ldc + j;
                *dst = acc ? *dst + ct[(long)j * m + i] : bias != null ? ct[(long)j * m + i] + bias[j] : ct[(long)j * m + i];
            }
            return;
        }
        // Dot products over k. Reaching here, transA implies transB (m small, A's few columns gathered, B's rows in
        // place) and !transB implies !transA (n small, B's few columns gathered, A's rows in place): one gather at most.
        float* xs = a, ys = b;
        nint xStride = lda, yStride = ldb;
        if (transA)
        {
            xs = Transposed(a, lda, k, m);
            xStride = k;
        }
        else if (!transB)
        {
            ys = Transposed(b, ldb, k, n);
            yStride = k;
        }
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float s = Dot(xs + i * xStride, ys + j * yStride, k);
            float* dst = c + (long)i * ldc + j;
            *dst = acc ? *dst + s : bias != null ? s + bias[j] : s;
        }
    }

    /// <summary>The <paramref name="rows"/> × <paramref name="cols"/> matrix at <paramref name="src"/> (row stride <paramref name="ld"/>), transposed into the scratch (cols × rows, dense).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static float* Transposed(float* src, int ld, int rows, int cols)
    {
        float* dst = Scratch((long)rows * cols);
        for (int c = 0; c < cols; c++)
        for (int r = 0; r < rows; r++) dst[(long)c * rows + r] = src[(long)r * ld + c];
        return dst;
    }

    /// <summary>A per-thread scratch of at least <paramref name="length"/> floats (grown, never shrunk).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static float* Scratch(long length)
    {
        var s = t_skinny;
        if (s is null || s.Length < length) t_skinny = s = GC.AllocateUninitializedArray<float>((int)Math.Max(length, 4096), pinned: true);
        return (float*)Unsafe.AsPointer(ref s[0]);
    }

    /// <summary><c>c[j] = init[j] + Σₚ α[p]·rows[p·stride + j]</c> for j &lt; n, k ≤ 4 terms, init C itself, the bias or 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowUpdate(float* alpha, int k, float* rows, nint stride, float* c, int n, bool acc, float* bias)
    {
        int j = 0;
        for (; j <= n - 8; j += 8)
        {
            var v = acc ? Vector256.Load(c + j) : bias != null ? Vector256.Load(bias + j) : Vector256<float>.Zero;
            for (int p = 0; p < k; p++) v = Vector256.FusedMultiplyAdd(Vector256.Create(alpha[p]), Vector256.Load(rows + p * stride + j), v);
            Vector256.Store(v, c + j);
        }
        for (; j < n; j++)
        {
            float v = acc ? c[j] : bias != null ? bias[j] : 0f;
            for (int p = 0; p < k; p++) v = MathF.FusedMultiplyAdd(alpha[p], rows[p * stride + j], v);
            c[j] = v;
        }
    }

    /// <summary><c>y[0..n) += α·x[0..n)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float alpha, float* x, float* y, int n)
    {
        int j = 0;
        var av = Vector256.Create(alpha);
        for (; j <= n - 8; j += 8) Vector256.Store(Vector256.FusedMultiplyAdd(av, Vector256.Load(x + j), Vector256.Load(y + j)), y + j);
        for (; j < n; j++) y[j] = MathF.FusedMultiplyAdd(alpha, x[j], y[j]);
    }

    /// <summary><c>Σₚ x[p]·y[p]</c> with four 8-lane accumulators, then their sum and a scalar tail: a fixed order for a given length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* x, float* y, int k)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p <= k - 32; p += 32)
        {
            s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 8), Vector256.Load(y + p + 8), s1);
            s2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 16), Vector256.Load(y + p + 16), s2);
            s3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 24), Vector256.Load(y + p + 24), s3);
        }
        for (; p <= k - 8; p += 8) s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), s0);
        float s = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; p < k; p++) s = MathF.FusedMultiplyAdd(x[p], y[p], s);
        return s;
    }
}
