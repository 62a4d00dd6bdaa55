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
internal unsafe interface IFloatVector<TSelf> where TSelf : struct, IFloatVector<TSelf>
{
    /// <summary>Lanes.</summary>
    static abstract int Count { get; }

    /// <summary>Lanes [i, i + Count) from <paramref name="at"/>; the caller keeps them inside the array.</summary>
    static abstract TSelf Load(ref float at, nuint i);

    /// <summary>Writes <paramref name="v"/> to lanes [i, i + Count) of <paramref name="at"/>.</summary>
    static abstract void Store(TSelf v, ref float at, nuint i);

    /// <summary>x in every lane.</summary>
    static abstract TSelf Splat(float x);

    /// <summary>Lanes [0, Count) from <paramref name="p"/>.</summary>
    static abstract TSelf Load(float* p);

    /// <summary>Writes <paramref name="v"/> to lanes [0, Count) of <paramref name="p"/>.</summary>
    static abstract void Store(float* p, TSelf v);

    /// <summary>a·b + c with one rounding (a fused multiply-add).</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

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
internal readonly unsafe struct Floats512(Vector512<float> v) : IFloatVector<Floats512>
{
    private readonly Vector512<float> _v = v;

    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Load(ref float at, nuint i) => new(Vector512.LoadUnsafe(ref at, i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Floats512 v, ref float at, nuint i) => v._v.StoreUnsafe(ref at, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Splat(float x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Floats512 v) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats512 MultiplyAdd(Floats512 a, Floats512 b, Floats512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
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
internal readonly unsafe struct FloatsN(System.Numerics.Vector<float> v) : IFloatVector<FloatsN>
{
    private readonly System.Numerics.Vector<float> _v = v;

    public static int Count => System.Numerics.Vector<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN Load(ref float at, nuint i) => new(System.Numerics.Vector.LoadUnsafe(ref at, i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(FloatsN v, ref float at, nuint i) => System.Numerics.Vector.StoreUnsafe(v._v, ref at, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN Splat(float x) => new(new System.Numerics.Vector<float>(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN Load(float* p) => new(System.Numerics.Vector.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, FloatsN v) => System.Numerics.Vector.Store(v._v, p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN MultiplyAdd(FloatsN a, FloatsN b, FloatsN c) => new(System.Numerics.Vector.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN Sqrt(FloatsN x) => new(System.Numerics.Vector.SquareRoot(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN FlushSubnormal(FloatsN x) => new(Simd.FlushSubnormal(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsPositiveZero(FloatsN x) => System.Numerics.Vector.As<float, int>(x._v) == System.Numerics.Vector<int>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator +(FloatsN a, FloatsN b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator -(FloatsN a, FloatsN b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator *(FloatsN a, FloatsN b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator *(float a, FloatsN b) => new(a * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static FloatsN operator /(FloatsN a, FloatsN b) => new(a._v / b._v);
}

/// <summary>Eight floats (AVX2 with FMA): the sparse products' 256-bit paths.</summary>
internal readonly unsafe struct Floats256(Vector256<float> v) : IFloatVector<Floats256>
{
    private readonly Vector256<float> _v = v;

    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 Load(ref float at, nuint i) => new(Vector256.LoadUnsafe(ref at, i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Floats256 v, ref float at, nuint i) => v._v.StoreUnsafe(ref at, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 Splat(float x) => new(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Floats256 v) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 MultiplyAdd(Floats256 a, Floats256 b, Floats256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 Sqrt(Floats256 x) => new(Vector256.Sqrt(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Floats256 FlushSubnormal(Floats256 x) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Abs(x._v), Vector256.Create(Simd.MinNormal)), x._v, Vector256<float>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsPositiveZero(Floats256 x) => x._v.AsInt32() == Vector256<int>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 operator +(Floats256 a, Floats256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 operator -(Floats256 a, Floats256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 operator *(Floats256 a, Floats256 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 operator *(float a, Floats256 b) => new(a * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Floats256 operator /(Floats256 a, Floats256 b) => new(a._v / b._v);
}
