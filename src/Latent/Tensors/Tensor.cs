using System.Globalization;
using System.Text;

namespace Latent;

/// <summary>
/// A dense float32 n-dimensional array in row-major (C) order. The first axis is the sample axis when a
/// tensor holds a data set or a batch: a <c>(60000, 784)</c> tensor is 60,000 flattened MNIST images,
/// a <c>(N, 28, 28, 1)</c> tensor is the same in NHWC layout.
/// </summary>
public sealed class Tensor : SampleSet
{
    private readonly float[] _data;
    private readonly int[] _shape;

    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    /// <exception cref="ArgumentException">A dimension is negative, or the element count overflows.</exception>
    public Tensor(params int[] shape)
        : this(new float[ShapeUtil.CheckedSize(shape, nameof(shape))], (int[])shape.Clone(), validate: false) { }

    private Tensor(float[] data, int[] shape, bool validate)
    {
        if (validate)
        {
            long size = ShapeUtil.CheckedSize(shape, nameof(shape));
            if (size != data.Length)
                throw new ArgumentException(
                    $"Shape {ShapeUtil.Format(shape)} holds {size} elements, but the data has {data.Length}.", nameof(shape));
        }
        _data = data;
        _shape = shape;
    }

    /// <summary>The dimensions, outermost first. Do not modify the returned array.</summary>
    public override IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Total number of elements (product of <see cref="Shape"/>).</summary>
    public int Length => _data.Length;

    /// <summary>Size of the first axis (number of samples); 1 for a scalar.</summary>
    public override int Rows => _shape.Length == 0 ? 1 : _shape[0];

    /// <summary>Elements per sample: the product of every dimension but the first.</summary>
    public override int RowSize => ShapeUtil.Product(_shape, 1);

    /// <summary>The shape of one sample: every dimension but the first.</summary>
    public int[] SampleShape => _shape.Length == 0 ? [] : _shape[1..];

    /// <summary>The backing storage, row-major. Writes are visible through the tensor.</summary>
    public Span<float> Span => _data;

    /// <summary>The backing array (not a copy).</summary>
    internal float[] Data => _data;

    /// <summary>Elements of sample <paramref name="row"/> (a view, not a copy).</summary>
    public Span<float> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be in [0, {Rows}).");
        int n = RowSize;
        return _data.AsSpan(row * n, n);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather): optimised from the first epoch, not after tiering
    protected override void ReadRow(int row, Span<float> destination) => _data.AsSpan(row * RowSize, RowSize).CopyTo(destination);

    /// <inheritdoc />
    protected override void ReadRange(int start, int count, Span<float> destination) =>
        _data.AsSpan(start * RowSize, count * RowSize).CopyTo(destination);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather): optimised from the first epoch, not after tiering
    protected override void Prefetch(int row) => Kernels.Simd.PrefetchRow(_data, row, RowSize);

    /// <summary>Element at the given multi-index.</summary>
    public float this[params int[] index]
    {
        get => _data[FlatIndex(index)];
        set => _data[FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != _shape.Length)
            throw new ArgumentException($"Tensor has rank {_shape.Length}, received an index of rank {index.Length}.");
        int flat = 0;
        for (int d = 0; d < index.Length; d++)
        {
            if ((uint)index[d] >= (uint)_shape[d])
                throw new IndexOutOfRangeException($"Index {index[d]} is out of range for axis {d} of size {_shape[d]}.");
            flat = flat * _shape[d] + index[d];
        }
        return flat;
    }

    /// <summary>Wraps a copy of a 2-D array: rows are samples.</summary>
    public static Tensor FromArray(float[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var data = new float[(long)rows * cols];
        Buffer.BlockCopy(values, 0, data, 0, data.Length * sizeof(float));
        return new Tensor(data, [rows, cols], validate: false);
    }

    /// <summary>Wraps <paramref name="data"/> (not copied) with the given shape.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from <c>data.Length</c>.</exception>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new Tensor(data, (int[])shape.Clone(), validate: true);
    }

    /// <summary>Copies a 2-D array into a new tensor, so a <c>float[,]</c> can be passed where a tensor is expected.</summary>
    public static implicit operator Tensor(float[,] values) => FromArray(values);

    /// <summary>A flat copy of the elements in row-major order.</summary>
    public float[] ToArray() => (float[])_data.Clone();

    /// <summary>A copy as a 2-D array of <c>Rows × RowSize</c>.</summary>
    public float[,] ToArray2D()
    {
        var result = new float[Rows, RowSize];
        Buffer.BlockCopy(_data, 0, result, 0, _data.Length * sizeof(float));
        return result;
    }

    /// <summary>A tensor with the same data (shared, not copied) and a new shape of equal size. One dimension may be -1.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var s = (int[])shape.Clone();
        int infer = Array.IndexOf(s, -1);
        if (infer >= 0)
        {
            long rest = 1;
            for (int i = 0; i < s.Length; i++) if (i != infer) rest *= s[i];
            if (rest == 0 || _data.Length % rest != 0)
                throw new ArgumentException($"Cannot reshape {ShapeUtil.Format(_shape)} to {ShapeUtil.Format(shape)}.");
            s[infer] = (int)(_data.Length / rest);
        }
        return new Tensor(_data, s, validate: true);
    }

    /// <summary>A copy of samples <c>[start, start + count)</c>.</summary>
    public Tensor SliceRows(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside [0, {Rows}).");
        var shape = (int[])_shape.Clone();
        shape[0] = count;
        var data = _data.AsSpan(start * RowSize, count * RowSize).ToArray();
        return new Tensor(data, shape, validate: false);
    }

    /// <summary>A copy of the samples at the given indices, in that order.</summary>
    public Tensor GatherRows(ReadOnlySpan<int> indices)
    {
        var shape = (int[])_shape.Clone();
        shape[0] = indices.Length;
        int n = RowSize;
        var data = new float[(long)indices.Length * n];
        for (int i = 0; i < indices.Length; i++)
            Row(indices[i]).CopyTo(data.AsSpan(i * n, n));
        return new Tensor(data, shape, validate: false);
    }

    /// <summary>A deep copy.</summary>
    public Tensor Clone() => new((float[])_data.Clone(), (int[])_shape.Clone(), validate: false);

    /// <summary>Mean of all elements, accumulated in double.</summary>
    public double Mean()
    {
        double s = 0;
        foreach (var v in _data) s += v;
        return _data.Length == 0 ? double.NaN : s / _data.Length;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder("Tensor");
        sb.Append(ShapeUtil.Format(_shape)).Append(" [");
        int n = Math.Min(_data.Length, 8);
        for (int i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(_data[i].ToString("G4", CultureInfo.InvariantCulture));
        }
        if (_data.Length > n) sb.Append(", ...");
        return sb.Append(']').ToString();
    }
}
