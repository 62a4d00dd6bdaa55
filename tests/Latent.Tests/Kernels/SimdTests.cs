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

    [Theory]
    [InlineData(1, 16)]
    [InlineData(37, 16)]     // a flat tail shorter than 64 values
    [InlineData(50, 8)]
    [InlineData(9, 32)]
    [InlineData(5, 64)]
    [InlineData(33, 1)]
    [InlineData(20, 4)]
    [InlineData(11, 12)]     // 12 does not divide 64: the two-pass path
    [InlineData(6, 100)]
    public void ReluBackwardColumnSumsMatchesNaive(int rows, int cols)
    {
        var y = Synthetic.Uniform(rows * cols, rows + cols);
        for (int i = 0; i < y.Length; i += 3) y[i] = -y[i];                  // a third of the outputs clipped
        var dz = Synthetic.Uniform(rows * cols, 5);
        var sum = Synthetic.Uniform(cols, 7);
        var expectedDz = new float[dz.Length];
        var expectedSum = sum.Select(v => (double)v).ToArray();
        for (int i = 0; i < dz.Length; i++)
        {
            expectedDz[i] = y[i] > 0 ? dz[i] : 0f;
            expectedSum[i % cols] += expectedDz[i];
        }
        Simd.ReluBackwardColumnSums(y, dz, sum, rows, cols);
        Assert.Equal(expectedDz, dz);
        for (int j = 0; j < cols; j++) Assert.True(Math.Abs(expectedSum[j] - sum[j]) < 1e-4, $"column {j}: {sum[j]} vs {expectedSum[j]}");

        var dzOnly = Synthetic.Uniform(rows * cols, 5);
        Simd.ReluBackwardColumnSums(y, dzOnly, default, rows, cols);           // no bias: the derivative alone
        Assert.Equal(expectedDz, dzOnly);
    }

    [Fact]
    public void ReluBackwardColumnSumsRejectsMismatchedSizes()
    {
        var e = Assert.Throws<ArgumentException>(() => Simd.ReluBackwardColumnSums(new float[10], new float[12], new float[4], 3, 4));
        Assert.Contains("10", e.Message);
        Assert.Throws<ArgumentException>(() => Simd.ReluBackwardColumnSums(new float[12], new float[12], new float[3], 3, 4));
    }

    [Theory]
    [InlineData(37, 16, true, true)]
    [InlineData(37, 16, false, true)]
    [InlineData(37, 16, true, false)]
    [InlineData(8, 32, true, true)]
    [InlineData(13, 3, true, true)]      // 3 does not divide 64: the scalar loop
    [InlineData(5, 64, false, true)]
    public void AddBiasReluMatchesNaive(int rows, int cols, bool relu, bool withBias)
    {
        var y = Synthetic.Uniform(rows * cols, rows);
        for (int i = 0; i < y.Length; i += 2) y[i] = -y[i];
        var bias = withBias ? Synthetic.Uniform(cols, 3) : [];
        var expected = new float[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            float v = y[i] + (withBias ? bias[i % cols] : 0f);
            expected[i] = relu ? MathF.Max(v, 0) : v;
        }
        Simd.AddBiasRelu(y, bias, cols, relu);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void AddBiasReluRejectsABiasOfTheWrongLength()
    {
        var e = Assert.Throws<ArgumentException>(() => Simd.AddBiasRelu(new float[12], new float[3], 4, relu: true));
        Assert.Contains("3", e.Message);
    }
}
