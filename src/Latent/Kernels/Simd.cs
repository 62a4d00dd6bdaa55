using Latent.Activations;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Latent.Kernels;

/// <summary>An element-wise operation f(x) at every vector width; a struct, so each use is a JIT specialisation with no delegate call.</summary>
internal interface IUnaryOp
{
    float Invoke(float x);
    Vector256<float> Invoke(Vector256<float> x);
    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>An element-wise operation f(x, y) at every vector width.</summary>
internal interface IBinaryOp
{
    float Invoke(float x, float y);
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>
/// Drivers that apply an operator struct over spans with the widest vectors the machine has, then a scalar
/// tail. Destination may alias a source exactly (in place); each element is read before it is written.
/// </summary>
internal static class Simd
{
    /// <summary>
    /// <c>dst[j·dstStride + i] = src[i·srcStride + j]</c> for i, j &lt; 8: an 8 × 8 block turned over in registers (AVX:
    /// unpack pairs, shuffle quads, swap 128-bit halves). Callers check <see cref="System.Runtime.Intrinsics.X86.Avx.IsSupported"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static unsafe void Transpose8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        var v0 = Vector256.Load(src); var v1 = Vector256.Load(src + srcStride);
        var v2 = Vector256.Load(src + 2 * srcStride); var v3 = Vector256.Load(src + 3 * srcStride);
        var v4 = Vector256.Load(src + 4 * srcStride); var v5 = Vector256.Load(src + 5 * srcStride);
        var v6 = Vector256.Load(src + 6 * srcStride); var v7 = Vector256.Load(src + 7 * srcStride);
        var t0 = Avx.UnpackLow(v0, v1); var t1 = Avx.UnpackHigh(v0, v1);
        var t2 = Avx.UnpackLow(v2, v3); var t3 = Avx.UnpackHigh(v2, v3);
        var t4 = Avx.UnpackLow(v4, v5); var t5 = Avx.UnpackHigh(v4, v5);
        var t6 = Avx.UnpackLow(v6, v7); var t7 = Avx.UnpackHigh(v6, v7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + dstStride);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2 * dstStride);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3 * dstStride);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4 * dstStride);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5 * dstStride);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6 * dstStride);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7 * dstStride);
    }

    /// <summary><c>dst[i] = op(x[i])</c>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void Map<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> dst) where TOp : struct, IUnaryOp
    {
        if (dst.Length < x.Length) throw new ArgumentException($"Destination has {dst.Length} elements, source {x.Length}.");
        int n = x.Length, i = 0;
        ref float xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float ds = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                op.Invoke(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                op.Invoke(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ds, i) = op.Invoke(Unsafe.Add(ref xs, i));
    }

    /// <summary><c>dst[i] = op(x[i], y[i])</c>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static void Map<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst) where TOp : struct, IBinaryOp
    {
        if (y.Length < x.Length || dst.Length < x.Length)
            throw new ArgumentException($"Spans differ in length: x {x.Length}, y {y.Length}, destination {dst.Length}.");
        int n = x.Length, i = 0;
        ref float xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float ys = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        ref float ds = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                op.Invoke(Vector512.LoadUnsafe(ref xs, (nuint)i), Vector512.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                op.Invoke(Vector256.LoadUnsafe(ref xs, (nuint)i), Vector256.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ds, i) = op.Invoke(Unsafe.Add(ref xs, i), Unsafe.Add(ref ys, i));
    }

    /// <summary>
    /// <c>y[r, j] = f(y[r, j] + bias[j])</c> in place over a rows × F matrix, f the ReLU when <paramref name="relu"/> else
    /// the identity; an empty bias adds nothing. When F divides 64 the matrix streams as a flat array 64 values at a
    /// time against eight bias vectors laid out with that period.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    public static unsafe void AddBiasRelu(Span<float> y, ReadOnlySpan<float> bias, int f, bool relu)
    {
        if (!bias.IsEmpty && bias.Length != f) throw new ArgumentException($"bias has {bias.Length} elements for {f} columns.");
        if (y.Length % f != 0) throw new ArgumentException($"y has {y.Length} elements, not a multiple of {f} columns.");
        if (bias.IsEmpty && !relu) return;
        int n = y.Length;
        float lower = relu ? 0f : float.NegativeInfinity;
        fixed (float* py = y, pb = bias)
        {
            int i = 0;
            if (64 % f == 0 && Vector256.IsHardwareAccelerated)
            {
                var period = stackalloc float[64];
                for (int k = 0; k < 64; k++) period[k] = pb == null ? 0f : pb[k % f];
                var lo = Vector256.Create(lower);
                for (; i + 64 <= n; i += 64)
                    for (int k = 0; k < 64; k += 8)
                        Vector256.Max(Vector256.Load(py + i + k) + Vector256.Load(period + k), lo).Store(py + i + k);
            }
            for (; i < n; i++) py[i] = MathF.Max(py[i] + (pb == null ? 0f : pb[i % f]), lower);
        }
    }

    /// <summary>
    /// ReLU's backward fused with the bias gradient, one pass over a rows × F matrix: <c>dz[r, j] = y[r, j] &gt; 0 ? dz[r, j] : 0</c>
    /// in place, and unless <paramref name="sum"/> is empty <c>sum[j] += Σ_r dz[r, j]</c>. When F divides 64 the
    /// matrix streams as a flat array 64 values at a time, eight accumulators each owning fixed columns; otherwise the
    /// two passes run one after the other.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    public static unsafe void ReluBackwardColumnSums(ReadOnlySpan<float> y, Span<float> dz, Span<float> sum, int rows, int f)
    {
        long n = (long)rows * f;
        if (y.Length < n || dz.Length < n || (!sum.IsEmpty && sum.Length != f))
            throw new ArgumentException($"y has {y.Length}, dz {dz.Length} and sum {sum.Length} elements for {rows}×{f}.");
        if (sum.IsEmpty || 64 % f != 0 || !Vector256.IsHardwareAccelerated)
        {
            Relu.Instance.Backward(y[..(int)n], dz[..(int)n], dz[..(int)n], f);
            if (!sum.IsEmpty) AccumulateColumnSums(dz, sum, rows);
            return;
        }
        fixed (float* py = y, pd = dz, ps = sum)
        {
            var zero = Vector256<float>.Zero;
            Vector256<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
            long i = 0;
            for (; i + 64 <= n; i += 64)
            {
                float* yy = py + i, d = pd + i;
                var v0 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy), zero), Vector256.Load(d), zero);
                var v1 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy + 8), zero), Vector256.Load(d + 8), zero);
                var v2 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy + 16), zero), Vector256.Load(d + 16), zero);
                var v3 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy + 24), zero), Vector256.Load(d + 24), zero);
                var v4 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy + 32), zero), Vector256.Load(d + 32), zero);
                var v5 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy + 40), zero), Vector256.Load(d + 40), zero);
                var v6 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy + 48), zero), Vector256.Load(d + 48), zero);
                var v7 = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(yy + 56), zero), Vector256.Load(d + 56), zero);
                v0.Store(d); v1.Store(d + 8); v2.Store(d + 16); v3.Store(d + 24);
                v4.Store(d + 32); v5.Store(d + 40); v6.Store(d + 48); v7.Store(d + 56);
                a0 += v0; a1 += v1; a2 += v2; a3 += v3; a4 += v4; a5 += v5; a6 += v6; a7 += v7;
            }
            // Accumulator k holds columns (8k mod F) … +7 (F divides 64, hence also every block's start).
            Span<Vector256<float>> acc = [a0, a1, a2, a3, a4, a5, a6, a7];
            for (int k = 0; k < 8; k++)
                for (int lane = 0; lane < 8; lane++)
                    ps[(8 * k + lane) % f] += acc[k].GetElement(lane);
            for (; i < n; i++)
            {
                float v = py[i] > 0 ? pd[i] : 0f;
                pd[i] = v;
                ps[i % f] += v;
            }
        }
    }

    /// <summary>
    /// <c>sum[j] += Σ_r x[r, j]</c> over a rows × F matrix: column blocks of 64 stay in four registers while
    /// the rows stream past (32 in four on AVX2), so x is read once and sum written once per block.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public static unsafe void AccumulateColumnSums(ReadOnlySpan<float> x, Span<float> sum, int rows)
    {
        int f = sum.Length, j = 0;
        if (x.Length < (long)rows * f) throw new ArgumentException($"x has {x.Length} elements, not {rows}×{f}.");
        fixed (float* px = x, ps = sum)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= f - 64; j += 64)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    float* p = px + j;
                    for (int r = 0; r < rows; r++, p += f)
                    {
                        a0 += Vector512.Load(p); a1 += Vector512.Load(p + 16);
                        a2 += Vector512.Load(p + 32); a3 += Vector512.Load(p + 48);
                    }
                    (Vector512.Load(ps + j) + a0).Store(ps + j);
                    (Vector512.Load(ps + j + 16) + a1).Store(ps + j + 16);
                    (Vector512.Load(ps + j + 32) + a2).Store(ps + j + 32);
                    (Vector512.Load(ps + j + 48) + a3).Store(ps + j + 48);
                }
                for (; j <= f - 16; j += 16)
                {
                    var a = Vector512<float>.Zero;
                    for (int r = 0; r < rows; r++) a += Vector512.Load(px + (long)r * f + j);
                    (Vector512.Load(ps + j) + a).Store(ps + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= f - 32; j += 32)
                {
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    float* p = px + j;
                    for (int r = 0; r < rows; r++, p += f)
                    {
                        a0 += Vector256.Load(p); a1 += Vector256.Load(p + 8);
                        a2 += Vector256.Load(p + 16); a3 += Vector256.Load(p + 24);
                    }
                    (Vector256.Load(ps + j) + a0).Store(ps + j);
                    (Vector256.Load(ps + j + 8) + a1).Store(ps + j + 8);
                    (Vector256.Load(ps + j + 16) + a2).Store(ps + j + 16);
                    (Vector256.Load(ps + j + 24) + a3).Store(ps + j + 24);
                }
                for (; j <= f - 8; j += 8)
                {
                    var a = Vector256<float>.Zero;
                    for (int r = 0; r < rows; r++) a += Vector256.Load(px + (long)r * f + j);
                    (Vector256.Load(ps + j) + a).Store(ps + j);
                }
            }
            for (; j < f; j++)
            {
                float a = 0;
                for (int r = 0; r < rows; r++) a += px[(long)r * f + j];
                ps[j] += a;
            }
        }
    }

    /// <summary>
    /// <c>dst[i] = src[i] / divisor</c>: bytes to float32, 64 at a time (widened 8 → 16 → 32 bits, converted exactly,
    /// then divided, so the result is the correctly rounded quotient numpy's <c>x.astype('float32') / 255.</c> gives).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: Fit's gather
    public static void DivideBytes(ReadOnlySpan<byte> src, float divisor, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException($"Destination has {dst.Length} elements, source {src.Length}.");
        int n = src.Length, i = 0;
        ref byte s = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(src);
        ref float d = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated)
        {
            var k = Vector512.Create(divisor);
            for (; i <= n - 64; i += 64)
            {
                var b = Vector512.LoadUnsafe(ref s, (nuint)i);
                var (lo, hi) = Vector512.Widen(b);
                var (w0, w1) = Vector512.Widen(lo);
                var (w2, w3) = Vector512.Widen(hi);
                (Vector512.ConvertToSingle(w0.AsInt32()) / k).StoreUnsafe(ref d, (nuint)i);
                (Vector512.ConvertToSingle(w1.AsInt32()) / k).StoreUnsafe(ref d, (nuint)(i + 16));
                (Vector512.ConvertToSingle(w2.AsInt32()) / k).StoreUnsafe(ref d, (nuint)(i + 32));
                (Vector512.ConvertToSingle(w3.AsInt32()) / k).StoreUnsafe(ref d, (nuint)(i + 48));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var k = Vector256.Create(divisor);
            for (; i <= n - 32; i += 32)
            {
                var b = Vector256.LoadUnsafe(ref s, (nuint)i);
                var (lo, hi) = Vector256.Widen(b);
                var (w0, w1) = Vector256.Widen(lo);
                var (w2, w3) = Vector256.Widen(hi);
                (Vector256.ConvertToSingle(w0.AsInt32()) / k).StoreUnsafe(ref d, (nuint)i);
                (Vector256.ConvertToSingle(w1.AsInt32()) / k).StoreUnsafe(ref d, (nuint)(i + 8));
                (Vector256.ConvertToSingle(w2.AsInt32()) / k).StoreUnsafe(ref d, (nuint)(i + 16));
                (Vector256.ConvertToSingle(w3.AsInt32()) / k).StoreUnsafe(ref d, (nuint)(i + 24));
            }
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i) / divisor;
    }

    /// <summary>
    /// Asks the cache for every line of row <paramref name="row"/> (of <paramref name="size"/> elements). A shuffled
    /// gather reads rows at random: no hardware prefetcher predicts them, and each row's first touch waits on DRAM
    /// (a batch of 256 MNIST rows: 43 µs without, measured). Out-of-range rows are ignored (checked when read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchRow<T>(T[] data, int row, int size) where T : unmanaged
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || (uint)row >= (uint)(data.Length / Math.Max(1, size))) return;
        int bytes = size * sizeof(T);
        fixed (T* p = &data[(long)row * size])
        {
            byte* b = (byte*)p;
            for (int o = 0; o < bytes; o += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(b + o);
        }
    }

    /// <summary><see cref="PrefetchRow{T}(T[], int, int)"/> for rows held in a span (a 2-D array's storage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchRow(Span<float> data, int row, int size)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || (uint)row >= (uint)(data.Length / Math.Max(1, size))) return;
        fixed (float* p = &data[row * size])
        {
            byte* b = (byte*)p;
            for (int o = 0; o < size * sizeof(float); o += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(b + o);
        }
    }

    /// <summary>
    /// Asks for every line of <paramref name="span"/> into L2 (not L1: callers fetch a whole step ahead, more than
    /// L1 holds). For data laid out so that the next use jumps between rows, which no hardware prefetcher follows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchL2(ReadOnlySpan<float> span)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || span.IsEmpty) return;
        fixed (float* p = span)
        {
            byte* b = (byte*)p;
            for (int o = 0; o < span.Length * sizeof(float); o += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch1(b + o);
        }
    }

    /// <summary>The smallest positive normal float, 2⁻¹²⁶.</summary>
    public const float MinNormal = 1.17549435e-38f;

    /// <summary>
    /// x, or 0 where |x| is below <see cref="MinNormal"/>. Optimizer state that decays geometrically (a moving average of
    /// g² or of g where the gradient stays 0, as for the weights of a dead ReLU unit) sinks into the subnormal range and,
    /// in float's rounding, stays there (0.9 × the smallest subnormal rounds back to it); every multiply on it then costs
    /// a microcode assist. A state value that small changes no update: it is added to, or square-rooted beside, an ε
    /// many orders larger.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static System.Numerics.Vector<float> FlushSubnormal(System.Numerics.Vector<float> x) =>
        System.Numerics.Vector.ConditionalSelect(
            System.Numerics.Vector.GreaterThanOrEqual(System.Numerics.Vector.Abs(x), new System.Numerics.Vector<float>(MinNormal)),
            x, System.Numerics.Vector<float>.Zero);

    /// <summary>The scalar <see cref="FlushSubnormal(System.Numerics.Vector{float})"/>, for the tails of vector loops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FlushSubnormal(float x) => MathF.Abs(x) >= MinNormal ? x : 0f;

    /// <summary><c>dst[i] = x[i] + y[i]</c>, compiled with the rest of the step (TensorPrimitives' copy would start at tier 0).</summary>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst) => Map(default(AddOp), x, y, dst);

    private readonly struct AddOp : IBinaryOp
    {
        public float Invoke(float x, float y) => x + y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
    }
}
