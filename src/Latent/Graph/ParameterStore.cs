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
/// (docs/PERFORMANCE.md). Values is pinned, so the boundary holds. Grads, a data-parallel step's further gradient
/// arrays and the optimizer's state are pinned too and start in the same phase of a cache line as Values
/// (<see cref="NewInPhase"/>), so a weight starts on a boundary in each: their 512-bit loads and stores would otherwise
/// all straddle two lines. The few floats between weights stay zero in every buffer; every optimizer leaves a zero
/// value with a zero gradient at zero.
/// </remarks>
internal sealed class ParameterStore
{
    private const int AlignFloats = 16;   // 64 bytes

    /// <summary>A store with room for <paramref name="length"/> floats from <see cref="Base"/> on.</summary>
    public ParameterStore(int length)
    {
        Values = GC.AllocateArray<float>(length + AlignFloats, pinned: true);
        Base = (AlignFloats - FloatsPastBoundary(Values)) % AlignFloats;
        Length = Base + length;
        Grads = NewInPhase(Values.Length);
    }

    /// <summary>
    /// A zeroed, pinned array of <paramref name="length"/> floats whose elements sit at the same offsets from a 64-byte
    /// boundary as <see cref="Values"/>' (so <see cref="Base"/> is on a boundary in it too) where the runtime allows:
    /// the pinned heap places arrays one after another, so a small filler before it shifts it into phase (retried when
    /// another thread allocated in between). Correct either way; out of phase only costs speed.
    /// </summary>
    public float[] NewInPhase(int length)
    {
        if (!InPhaseArrays) return new float[length];
        int want = FloatsPastBoundary(Values);
        float[]? filler = null;
        for (int attempt = 0; attempt < 8; attempt++)   // another thread's pinned allocation between ours moves the next one
        {
            // A one-float probe shows where the next array goes: 32 bytes (its header and a padded float) past it.
            var probe = GC.AllocateArray<float>(1, pinned: true);
            int next = (FloatsPastBoundary(probe) + 8) % AlignFloats;
            int gap = (want - next + AlignFloats) % AlignFloats * sizeof(float);   // bytes to skip, a multiple of 8
            // A float array of k floats takes 24 + 4k bytes rounded to 8: k = (gap − 24) / 4, the gap taken modulo 64 to at least 24.
            if (gap != 0) filler = GC.AllocateArray<float>((gap < 24 ? gap + 64 : gap) / sizeof(float) - 6, pinned: true);
            var array = GC.AllocateArray<float>(length, pinned: true);
            GC.KeepAlive(filler);
            if (FloatsPastBoundary(array) == want) return array;
        }
        return GC.AllocateArray<float>(length, pinned: true);
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

    /// <summary>Whether <see cref="NewInPhase"/> places its arrays in phase (a bench knob; false: plain arrays, wherever the GC puts them).</summary>
    internal static bool InPhaseArrays = true;

    /// <summary>How many floats past a 64-byte boundary a pinned array's first element sits.</summary>
    internal static unsafe int FloatsPastBoundary(float[] pinned) =>
        (int)((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned)) % 64) / sizeof(float);
}
