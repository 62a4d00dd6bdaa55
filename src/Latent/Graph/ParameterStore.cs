using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Latent;

/// <summary>
/// One buffer of parameter values and one of gradients with the same layout: each <see cref="Weight"/> is a slice of
/// both at its <see cref="Weight.Offset"/>, so an optimizer step is one flat loop over <c>[0, Length)</c> and zeroing the
/// gradients one clear.
/// </summary>
/// <remarks>
/// Every weight starts on a 64-byte boundary of <see cref="Values"/>: the multiply reads a Dense kernel's rows in place
/// (a half batch's forward product), and rows that straddle cache lines made those products 11–25% slower
/// (docs/PERFORMANCE.md). Values is pinned, so the boundary holds. The few floats between weights stay zero in both
/// buffers; every optimizer leaves a zero value with a zero gradient at zero.
/// </remarks>
internal sealed class ParameterStore
{
    private const int AlignFloats = 16;   // 64 bytes

    /// <summary>A store with room for <paramref name="length"/> floats from <see cref="Base"/> on.</summary>
    public ParameterStore(int length)
    {
        Values = GC.AllocateArray<float>(length + AlignFloats, pinned: true);
        Grads = new float[length + AlignFloats];
        Base = (AlignFloats - FloatsPastBoundary(Values)) % AlignFloats;
        Length = Base + length;
    }

    /// <summary>A store laid out for <paramref name="weights"/> (in order, each on a 64-byte boundary), with their values moved in.</summary>
    public static ParameterStore For(IReadOnlyList<Weight> weights)
    {
        int length = 0;
        foreach (var w in weights) length = Padded(length) + w.Length;
        var store = new ParameterStore(length);
        int offset = 0;
        for (int i = 0; i < weights.Count; i++)   // not foreach: an interface's enumerator is an allocation per call until tiering removes it
        {
            var w = weights[i];
            offset = Padded(offset);
            w.MoveTo(store, store.Base + offset);
            offset += w.Length;
        }
        return store;
    }

    /// <summary>Whether <paramref name="weights"/> are all in this store, laid out as <see cref="For"/> lays them out.</summary>
    public bool Holds(IReadOnlyList<Weight> weights)
    {
        int offset = 0;
        for (int i = 0; i < weights.Count; i++)   // not foreach: an interface's enumerator is an allocation per call until tiering removes it
        {
            var w = weights[i];
            offset = Padded(offset);
            if (!ReferenceEquals(w.Store, this) || w.Offset != Base + offset) return false;
            offset += w.Length;
        }
        return Base + offset == Length;
    }

    public float[] Values { get; }
    public float[] Grads { get; }

    /// <summary>The first index of <see cref="Values"/> on a 64-byte boundary: where the first weight starts.</summary>
    public int Base { get; }

    /// <summary>The indices in use: <c>[0, Length)</c> of both buffers (they may be a little longer).</summary>
    public int Length { get; }

    private static int Padded(int offset) => (offset + AlignFloats - 1) / AlignFloats * AlignFloats;

    private static unsafe int FloatsPastBoundary(float[] pinned) =>
        (int)((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned)) % 64) / sizeof(float);
}
