using System.Numerics;
using System.Runtime.CompilerServices;

namespace Latent;

/// <summary>
/// xoshiro128** pseudo-random generator seeded through SplitMix64 (Blackman &amp; Vigna, 2018).
/// A value type with no allocation: the same seed gives the same stream on every machine and .NET version,
/// which <see cref="System.Random"/> does not promise.
/// </summary>
internal struct Rng
{
    private uint _s0, _s1, _s2, _s3;

    public Rng(ulong seed)
    {
        ulong z = seed;
        ulong a = SplitMix(ref z), b = SplitMix(ref z);
        _s0 = (uint)a; _s1 = (uint)(a >> 32); _s2 = (uint)b; _s3 = (uint)(b >> 32);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // drawn in the per-step methods, which the runtime does not tier
    public uint NextUInt()
    {
        uint result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        uint t = _s1 << 9;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 11);
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // as NextUInt
    public ulong NextULong() => ((ulong)NextUInt() << 32) | NextUInt();

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt() >> 8) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // as NextUInt
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n) without modulo bias (Lemire's method).</summary>
    public int NextInt(int n)
    {
        ulong m = (ulong)NextUInt() * (uint)n;
        uint low = (uint)m;
        if (low < (uint)n)
        {
            uint threshold = (uint)(-n) % (uint)n;
            while (low < threshold) { m = (ulong)NextUInt() * (uint)n; low = (uint)m; }
        }
        return (int)(m >> 32);
    }

    /// <summary>Standard normal by Box-Muller.</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Two independent standard normals by Box-Muller (both of the pair).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // as NextUInt
    public (double A, double B) NextGaussianPair()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
        return (r * cos, r * sin);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
