using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    /// <summary><c>dst[i] = op(x[i])</c>.</summary>
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

    /// <summary>Adds <paramref name="bias"/> (length F) to every row of <paramref name="x"/> (rows × F), in place.</summary>
    public static void AddRowVector(Span<float> x, ReadOnlySpan<float> bias, int rows)
    {
        int f = bias.Length;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * f, f);
            System.Numerics.Tensors.TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary><c>sum[j] += Σ_r x[r, j]</c> over a rows × F matrix, row by row so it vectorises along F.</summary>
    public static void AccumulateColumnSums(ReadOnlySpan<float> x, Span<float> sum, int rows)
    {
        int f = sum.Length;
        for (int r = 0; r < rows; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(sum, x.Slice(r * f, f), sum);
    }
}
