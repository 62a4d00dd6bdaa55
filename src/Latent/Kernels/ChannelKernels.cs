using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

/// <summary>
/// Per-channel sums and affine maps over a channels-last array x (R rows × C channels, value <c>x[r·C + k]</c>), for
/// batch normalization. The array is walked in runs of L = lcm(C, 8) values (C itself when that is large): a run
/// holds whole rows, so the vector at offset j of every run sees the same channels, <c>(j + lane) mod C</c>, and
/// the per-channel factors become L-long patterns read with the same vector loads. With C = 8 a run is one
/// vector; with C = 3 it is three.
/// </summary>
/// <remarks>
/// Sums are taken in float over at most <see cref="BlockRuns"/> runs and then added in double, so rounding grows
/// with that block, not with R.
/// </remarks>
internal static class ChannelKernels
{
    private const int MaxPeriod = 256;
    private const int BlockRuns = 64;

    /// <summary>L: lcm(C, 8) when at most 256, else C.</summary>
    public static int Period(int c)
    {
        int l = c / Gcd(c, 8) * 8;
        return l <= MaxPeriod ? l : c;
    }

    /// <summary><c>sum[k] += Σ_r x[r, k]</c>.</summary>
    public static void Sum(ReadOnlySpan<float> x, int c, Span<double> sum) => Sums(x, default, c, sum, default, product: false);

    /// <summary><c>sumA[k] += Σ_r a[r, k]</c> and <c>sumAB[k] += Σ_r a[r, k]·b[r, k]</c>.</summary>
    public static void SumAndProducts(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int c, Span<double> sumA, Span<double> sumAB) =>
        Sums(a, b, c, sumA, sumAB, product: true);

    /// <summary><c>sq[k] += Σ_r (x[r, k] − mean[k])²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumSquaredDeviations(ReadOnlySpan<float> x, int c, ReadOnlySpan<float> mean, Span<double> sq)
    {
        int l = Period(c);
        var rented = ArrayPool<float>.Shared.Rent(2 * l);
        var m = Pattern(mean, c, rented.AsSpan(0, l));
        var acc = rented.AsSpan(l, l);
        for (int start = 0; start < x.Length; start += BlockRuns * l)
        {
            acc.Clear();
            int end = Math.Min(x.Length, start + BlockRuns * l);
            for (int run = start; run < end; run += l)
            {
                int len = Math.Min(l, end - run);
                var xr = x.Slice(run, len);
                int j = 0;
                for (; j + Width <= len; j += Width)
                {
                    var d = Load(xr, j) - Load(m, j);
                    Store(Load(acc, j) + d * d, acc, j);
                }
                for (; j < len; j++) { float d = xr[j] - m[j]; acc[j] += d * d; }
            }
            Fold(acc, c, sq);
        }
        ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary><c>y[r, k] = x[r, k]·scale[k] + shift[k]</c>; y may be x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<float> x, int c, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y)
    {
        int l = Period(c);
        var rented = ArrayPool<float>.Shared.Rent(2 * l);
        var s = Pattern(scale, c, rented.AsSpan(0, l));
        var t = Pattern(shift, c, rented.AsSpan(l, l));
        for (int run = 0; run < x.Length; run += l)
        {
            int len = Math.Min(l, x.Length - run);
            var xr = x.Slice(run, len);
            var yr = y.Slice(run, len);
            int j = 0;
            for (; j + Width <= len; j += Width) Store(Load(xr, j) * Load(s, j) + Load(t, j), yr, j);
            for (; j < len; j++) yr[j] = xr[j] * s[j] + t[j];
        }
        ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary><c>y[r, k] += a[r, k]·sa[k] + b[r, k]·sb[k] + t[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateAffine2(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int c, ReadOnlySpan<float> sa, ReadOnlySpan<float> sb,
                                         ReadOnlySpan<float> t, Span<float> y)
    {
        int l = Period(c);
        var rented = ArrayPool<float>.Shared.Rent(3 * l);
        var pa = Pattern(sa, c, rented.AsSpan(0, l));
        var pb = Pattern(sb, c, rented.AsSpan(l, l));
        var pt = Pattern(t, c, rented.AsSpan(2 * l, l));
        for (int run = 0; run < y.Length; run += l)
        {
            int len = Math.Min(l, y.Length - run);
            var ar = a.Slice(run, len);
            var br = b.Slice(run, len);
            var yr = y.Slice(run, len);
            int j = 0;
            for (; j + Width <= len; j += Width)
                Store(Load(ar, j) * Load(pa, j) + Load(br, j) * Load(pb, j) + Load(pt, j) + Load(yr, j), yr, j);
            for (; j < len; j++) yr[j] += ar[j] * pa[j] + br[j] * pb[j] + pt[j];
        }
        ArrayPool<float>.Shared.Return(rented);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sums(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int c, Span<double> sumA, Span<double> sumAB, bool product)
    {
        int l = Period(c);
        var rented = ArrayPool<float>.Shared.Rent(2 * l);
        var accA = rented.AsSpan(0, l);
        var accAB = rented.AsSpan(l, l);
        for (int start = 0; start < a.Length; start += BlockRuns * l)
        {
            accA.Clear();
            if (product) accAB.Clear();
            int end = Math.Min(a.Length, start + BlockRuns * l);
            for (int run = start; run < end; run += l)
            {
                int len = Math.Min(l, end - run);
                var ar = a.Slice(run, len);
                int j = 0;
                if (product)
                {
                    var br = b.Slice(run, len);
                    for (; j + Width <= len; j += Width)
                    {
                        var v = Load(ar, j);
                        Store(Load(accA, j) + v, accA, j);
                        Store(Load(accAB, j) + v * Load(br, j), accAB, j);
                    }
                    for (; j < len; j++) { accA[j] += ar[j]; accAB[j] += ar[j] * br[j]; }
                }
                else
                {
                    for (; j + Width <= len; j += Width) Store(Load(accA, j) + Load(ar, j), accA, j);
                    for (; j < len; j++) accA[j] += ar[j];
                }
            }
            Fold(accA, c, sumA);
            if (product) Fold(accAB, c, sumAB);
        }
        ArrayPool<float>.Shared.Return(rented);
    }

    // Vectors where the machine has them; else Width is never reached and the scalar tails do everything.
    private static readonly int Width = Vector256.IsHardwareAccelerated ? Vector256<float>.Count : int.MaxValue;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(ReadOnlySpan<float> s, int j) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)j);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> v, Span<float> s, int j) => v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)j);

    /// <summary><c>dst[j] = values[j mod C]</c> for j &lt; L.</summary>
    private static Span<float> Pattern(ReadOnlySpan<float> values, int c, Span<float> dst)
    {
        for (int j = 0; j < dst.Length; j += c) values[..Math.Min(c, dst.Length - j)].CopyTo(dst[j..]);
        return dst;
    }

    private static void Fold(ReadOnlySpan<float> acc, int c, Span<double> sum)
    {
        for (int j = 0; j < acc.Length; j++) sum[j % c] += acc[j];
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
