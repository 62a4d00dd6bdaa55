using Latent.Kernels;

namespace Latent;

/// <summary>
/// An n-dimensional array of 8-bit values read as float32 <c>value / Divisor</c>, for data sets that are bytes on
/// disk (images): a quarter of a float tensor's memory, converted batch by batch while a model reads it. With
/// <see cref="Divisor"/> 255 it reads bit for bit as the notebook's <c>x.astype('float32') / 255.</c>
/// </summary>
public sealed class ByteTensor : SampleSet
{
    private readonly byte[] _data;
    private readonly int[] _shape;

    /// <summary>Wraps <paramref name="data"/> (not copied) with the given shape, read as <c>value / divisor</c> (255: into [0, 1]; 1: the raw values).</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from <c>data.Length</c>, or the divisor is not finite and positive.</exception>
    public ByteTensor(byte[] data, float divisor, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        if (!float.IsFinite(divisor) || divisor <= 0)
            throw new ArgumentException($"Expected a finite, positive divisor. Received: divisor={divisor}.", nameof(divisor));
        long size = ShapeUtil.CheckedSize(shape, nameof(shape));
        if (size != data.Length)
            throw new ArgumentException($"Shape {ShapeUtil.Format(shape)} holds {size} elements, but the data has {data.Length}.", nameof(shape));
        _data = data;
        _shape = (int[])shape.Clone();
        Divisor = divisor;
    }

    /// <summary>What every byte is divided by when read.</summary>
    public float Divisor { get; }

    /// <inheritdoc />
    public override IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Total number of elements.</summary>
    public int Length => _data.Length;

    /// <inheritdoc />
    public override int Rows => _shape.Length == 0 ? 1 : _shape[0];

    /// <inheritdoc />
    public override int RowSize => ShapeUtil.Product(_shape, 1);

    /// <summary>The raw bytes, row-major. Writes are visible through the tensor.</summary>
    public Span<byte> Span => _data;

    internal byte[] Data => _data;

    /// <summary>The raw bytes of sample <paramref name="row"/> (a view).</summary>
    public Span<byte> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be in [0, {Rows}).");
        return _data.AsSpan(row * RowSize, RowSize);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather): optimised from the first epoch, not after tiering
    protected override void ReadRow(int row, Span<float> destination) =>
        Simd.DivideBytes(_data.AsSpan(row * RowSize, RowSize), Divisor, destination);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected override void ReadRange(int start, int count, Span<float> destination) =>
        Simd.DivideBytes(_data.AsSpan(start * RowSize, count * RowSize), Divisor, destination);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path (Fit's gather): optimised from the first epoch, not after tiering
    protected override void Prefetch(int row) => Simd.PrefetchRow(_data, row, RowSize);

    /// <summary>A byte copy of samples <c>[start, start + count)</c>.</summary>
    public ByteTensor SliceRows(int start, int count)
    {
        if (start < 0 || count < 0 || start > Rows - count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {(long)start + count}) are outside [0, {Rows}).");
        var shape = (int[])_shape.Clone();
        shape[0] = count;
        return new ByteTensor(_data.AsSpan(start * RowSize, count * RowSize).ToArray(), Divisor, shape);
    }

    /// <summary>The values as a float32 tensor (<c>value / Divisor</c>), same shape.</summary>
    public Tensor ToTensor()
    {
        var t = new Tensor(_shape);
        if (_data.Length > 0) CopyRows(0, Rows, t.Span);
        return t;
    }

    /// <inheritdoc />
    public override string ToString() => $"ByteTensor{ShapeUtil.Format(_shape)} / {Divisor:G4}";
}
