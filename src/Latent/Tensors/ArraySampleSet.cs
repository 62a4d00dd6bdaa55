using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Latent;

/// <summary>
/// A <c>float[,]</c> of (samples, features) read in place: what passing a 2-D array to <c>Fit</c>, <c>Evaluate</c> or
/// <c>Predict</c> gives, so the notebook's way of holding data costs no copy. Passing the same array as inputs and
/// targets is recognised by reference. Writes to the array are seen by later reads.
/// </summary>
public sealed class ArraySampleSet : SampleSet
{
    private readonly int[] _shape;

    /// <summary>Wraps <paramref name="values"/> (not copied).</summary>
    public ArraySampleSet(float[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Values = values;
        _shape = [values.GetLength(0), values.GetLength(1)];
    }

    /// <summary>The array read.</summary>
    public float[,] Values { get; }

    /// <inheritdoc />
    public override IReadOnlyList<int> Shape => _shape;

    /// <inheritdoc />
    public override int Rows => _shape[0];

    /// <inheritdoc />
    public override int RowSize => _shape[1];

    /// <summary>Every value, row-major (the array's own storage).</summary>
    internal Span<float> All =>
        MemoryMarshal.CreateSpan(ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(Values)), Values.Length);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather): optimised from the first epoch, not after tiering
    protected override void ReadRow(int row, Span<float> destination) => All.Slice(row * RowSize, RowSize).CopyTo(destination);

    /// <inheritdoc />
    protected override void ReadRange(int start, int count, Span<float> destination) =>
        All.Slice(start * RowSize, count * RowSize).CopyTo(destination);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather): optimised from the first epoch, not after tiering
    protected override void Prefetch(int row) => Kernels.Simd.PrefetchRow(All, row, RowSize);
}
