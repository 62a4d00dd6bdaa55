using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Latent.Kernels;

/// <summary>
/// A vector of floats as a type parameter, so that an element-wise loop (an optimizer's update) is written once and
/// compiled for each width: <see cref="Floats512"/> where the CPU has 512-bit vectors, <see cref="FloatsN"/>
/// (<see cref="System.Numerics.Vector{T}"/>, 256 bits on AVX2 and on AVX-512 alike, 128 on Arm) otherwise. Each
/// operation is the lane-wise IEEE one, so a loop gives the same bits at every width.
/// </summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
internal interface IFloatVector<TSelf> where TSelf : struct, IFloatVector<TSelf>
{
    /// <summary>Lanes.</summary>
    static abstract int Count { get; }

    /// <summary>Lanes [i, i + Count) from <paramref name="at"/>; the caller keeps them inside the array.</summary>
    static abstract TSelf Load(ref float at, nuint i);

    /// <summary>Writes <paramref name="v"/> to lanes [i, i + Count) of <paramref name="at"/>.</summary>
    static abstract void Store(TSelf v, ref float at, nuint i);

    /// <summary>x in every lane.</summary>
    static abstract TSelf Splat(float x);

    /// <summary>√x lane by lane.</summary>
    static abstract TSelf Sqrt(TSelf x);

    /// <summary>x, or 0 where |x| is below the smallest normal float (<see cref="Simd.FlushSubnormal(float)"/>).</summary>
    static abstract TSelf FlushSubnormal(TSelf x);

    /// <summary>Whether every lane is +0 (all bits zero; −0 is not).</summary>
    static abstract bool IsPositiveZero(TSelf x);

    /// <summary>a + b.</summary>
    static abstract TSelf operator +(TSelf a, TSelf b);

    /// <summary>a − b.</summary>
    static abstract TSelf operator -(TSelf a, TSelf b);

    /// <summary>a·b.</summary>
    static abstract TSelf operator *(TSelf a, TSelf b);

    /// <summary>a·b, a scalar.</summary>
    static abstract TSelf operator *(float a, TSelf b);

    /// <summary>a / b.</summary>
    static abstract TSelf operator /(TSelf a, TSelf b);
}

/// <summary>Sixteen floats (AVX-512).</summary>
internal readonly struct Floats512(Vector512<float> v) : IFloatVector<Floats512>
{
    private readonly Vector512<float> _v = v;

    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Load(ref float at, nuint i) => new(Vector512.LoadUnsafe(ref at, i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Floats512 v, ref float at, nuint i) => v._v.StoreUnsafe(ref at, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Splat(float x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Sqrt(Floats512 x) => new(Vector512.Sqrt(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Floats512 FlushSubnormal(Floats512 x) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(x._v), Vector512.Create(Simd.MinNormal)), x._v, Vector512<float>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsPositiveZero(Floats512 x) => x._v.AsInt32() == Vector512<int>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 operator +(Floats512 a, Floats512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 operator -(Floats512 a, Floats512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 operator *(Floats512 a, Floats512 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 operator *(float a, Floats512 b) => new(a * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 operator /(Floats512 a, Floats512 b) => new(a._v / b._v);
}

/// <summary><see cref="System.Numerics.Vector{T}"/>'s width of floats: 8 on x64 (with AVX2 or AVX-512), 4 on Arm.</summary>
internal readonly struct FloatsN(System.Numerics.Vector<float> v) : IFloatVector<FloatsN>
{
    private readonly System.Numerics.Vector<float> _v = v;

    public static int Count => System.Numerics.Vector<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN Load(ref float at, nuint i) => new(System.Numerics.Vector.LoadUnsafe(ref at, i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(FloatsN v, ref float at, nuint i) => System.Numerics.Vector.StoreUnsafe(v._v, ref at, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN Splat(float x) => new(new System.Numerics.Vector<float>(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN Sqrt(FloatsN x) => new(System.Numerics.Vector.SquareRoot(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN FlushSubnormal(FloatsN x) => new(Simd.FlushSubnormal(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsPositiveZero(FloatsN x) => System.Numerics.Vector.As<float, int>(x._v) == System.Numerics.Vector<int>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator +(FloatsN a, FloatsN b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator -(FloatsN a, FloatsN b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator *(FloatsN a, FloatsN b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator *(float a, FloatsN b) => new(a * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator /(FloatsN a, FloatsN b) => new(a._v / b._v);
}
