namespace Latent.Tests.Training;

public class RowGatherTests
{
    private const int Rows = 300, Size = 100;

    private static int[] Shuffled(int seed)
    {
        var order = Enumerable.Range(0, Rows).ToArray();
        new Rng((ulong)seed).Shuffle(order);
        return order;
    }

    public static TheoryData<string> Kinds() => new(["bytes", "tensor", "array", "custom"]);

    private static SampleSet Make(string kind)
    {
        var rng = new Random(5);
        var bytes = new byte[Rows * Size];
        rng.NextBytes(bytes);
        var floats = bytes.Select(b => b / 7f).ToArray();
        var grid = new float[Rows, Size];
        Buffer.BlockCopy(floats, 0, grid, 0, floats.Length * sizeof(float));
        return kind switch
        {
            "bytes" => new ByteTensor(bytes, 7f, Rows, Size),
            "tensor" => Tensor.FromArray(floats, Rows, Size),
            "array" => new ArraySampleSet(grid),
            _ => new Custom(floats),
        };
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GatherOnTheCoresCopiesWhatCopyRowsCopies(string kind)
    {
        // 200 rows of 100 values: above the hand-off threshold, so the library's sets are cut across the cores (a
        // custom set is copied on the caller); the destination is longer than the batch, as an executor's buffer is.
        var set = Make(kind);
        var order = Shuffled(9);
        var expected = new float[250 * Size];
        set.CopyRows(order.AsSpan(40, 200), expected);
        var got = new float[250 * Size];
        RowGather.Copy(set, order, 40, 200, got);
        Assert.Equal(expected, got);
    }

    [Fact]
    public void ARowOutsideTheSetIsTheSameClearErrorFromEitherCore()
    {
        var set = Make("bytes");
        var order = Shuffled(3);
        order[190] = Rows + 5;   // in the second half: read by the worker when two cores share the batch
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RowGather.Copy(set, order, 0, 200, new float[200 * Size]));
        Assert.Contains((Rows + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    private sealed class Custom(float[] values) : SampleSet
    {
        public override IReadOnlyList<int> Shape => [Rows, Size];
        public override int Rows => RowGatherTests.Rows;
        public override int RowSize => Size;
        protected override void ReadRow(int row, Span<float> destination) => values.AsSpan(row * Size, Size).CopyTo(destination);
    }
}
