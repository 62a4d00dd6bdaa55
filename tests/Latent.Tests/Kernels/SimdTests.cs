using Latent.Kernels;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Kernels;

public class SimdTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 15)]
    [InlineData(5, 16)]
    [InlineData(7, 63)]
    [InlineData(9, 64)]
    [InlineData(4, 100)]
    [InlineData(256, 784)]
    public void ColumnSumsMatchNaive(int rows, int cols)
    {
        var x = Synthetic.Uniform(rows * cols, rows + cols);
        var sum = Synthetic.Uniform(cols, 7);
        var expected = new double[cols];
        for (int j = 0; j < cols; j++)
        {
            expected[j] = sum[j];
            for (int r = 0; r < rows; r++) expected[j] += x[r * cols + j];
        }
        Simd.AccumulateColumnSums(x, sum, rows);
        for (int j = 0; j < cols; j++) Assert.True(Math.Abs(expected[j] - sum[j]) < 1e-4, $"column {j}: {sum[j]} vs {expected[j]}");
    }

    [Fact]
    public void ColumnSumsRejectAShortMatrix()
    {
        Assert.Throws<ArgumentException>(() => Simd.AccumulateColumnSums(new float[10], new float[4], 3));
    }
}
