using System.Numerics.Tensors;

namespace Latent.Kernels;

/// <summary>
/// Finds a NaN or an infinity in a large array on every core: <c>Fit</c> checks its whole data set once per call, a
/// pass over 188 MB for MNIST as floats, which is memory-bound on one core (docs/PERFORMANCE.md). One job per calling
/// thread is reused, so a check inside a training step (a step's weights after the update) allocates nothing.
/// </summary>
internal sealed unsafe class FiniteScan : IParallelWork
{
    /// <summary>Below this many values one core scans alone: the hand-off would cost more than it saves.</summary>
    private const int ParallelLength = 1 << 20;

    [ThreadStatic] private static FiniteScan? t_scan;

    private float* _data;
    private int _length, _parts;
    private readonly int[] _found = new int[ComputePool.Shared.Threads];

    /// <summary>
    /// The index of a NaN or infinite value in <paramref name="data"/>, or −1 if every value is finite: the first NaN
    /// or, failing one, the largest infinity of the earliest of the cores' ranges that has any.
    /// </summary>
    public static int FirstNonFinite(ReadOnlySpan<float> data)
    {
        int parts = data.Length >= ParallelLength ? ComputePool.Shared.ThreadsHere : 1;
        if (parts <= 1) return NonFiniteIn(data);
        var scan = t_scan ??= new FiniteScan();
        fixed (float* p = data)
        {
            scan._data = p;
            (scan._length, scan._parts) = (data.Length, parts);
            try
            {
                ComputePool.Shared.Run(scan, parts);
            }
            finally
            {
                scan._data = null;   // the span is unpinned when this returns
            }
            for (int part = 0; part < parts; part++)
                if (scan._found[part] >= 0) return scan._found[part];
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
