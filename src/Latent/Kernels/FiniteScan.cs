using System.Numerics.Tensors;

namespace Latent.Kernels;

/// <summary>
/// Finds a NaN or an infinity in a large array on every core: <c>Fit</c> checks its whole data set once per call, a
/// pass over 188 MB for MNIST as floats, which is memory-bound on one core (docs/PERFORMANCE.md).
/// </summary>
internal sealed unsafe class FiniteScan : IParallelWork
{
    /// <summary>Below this many values one core scans alone: the hand-off would cost more than it saves.</summary>
    private const int ParallelLength = 1 << 20;

    private readonly float* _data;
    private readonly int _length, _parts;
    private readonly int[] _found;

    private FiniteScan(float* data, int length, int parts)
    {
        _data = data;
        _length = length;
        _parts = parts;
        _found = new int[parts];
    }

    /// <summary>
    /// The index of a NaN or infinite value in <paramref name="data"/>, or −1 if every value is finite: the first NaN
    /// or, failing one, the largest infinity of the earliest of the cores' ranges that has any.
    /// </summary>
    public static int FirstNonFinite(ReadOnlySpan<float> data)
    {
        int parts = data.Length >= ParallelLength ? ComputePool.Shared.ThreadsHere : 1;
        if (parts <= 1) return NonFiniteIn(data);
        fixed (float* p = data)
        {
            var scan = new FiniteScan(p, data.Length, parts);
            ComputePool.Shared.Run(scan, parts);
            foreach (int i in scan._found)
                if (i >= 0) return i;
            return -1;
        }
    }

    /// <inheritdoc />
    public void Execute(int part)
    {
        var (start, end) = ComputePool.PartRange(_length, _parts, part);
        int i = NonFiniteIn(new ReadOnlySpan<float>(_data + start, end - start));
        _found[part] = i >= 0 ? start + i : -1;
    }

    /// <summary>IndexOfMaxMagnitude gives the first NaN if there is one, else the largest |value|: one pass finds both.</summary>
    private static int NonFiniteIn(ReadOnlySpan<float> data)
    {
        if (data.IsEmpty) return -1;
        int i = TensorPrimitives.IndexOfMaxMagnitude(data);
        return i >= 0 && !float.IsFinite(data[i]) ? i : -1;
    }
}
