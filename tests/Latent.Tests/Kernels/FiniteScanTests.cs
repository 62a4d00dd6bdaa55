using Latent.Kernels;

namespace Latent.Tests.Kernels;

public class FiniteScanTests
{
    [Theory]
    [InlineData(100, -1, 0f)]                          // small: one core; all finite
    [InlineData(100, 37, float.NaN)]
    [InlineData(3_000_001, -1, 0f)]                    // large: split across the cores; all finite, with huge values
    [InlineData(3_000_001, 2_999_999, float.NaN)]      // in the last core's range
    [InlineData(3_000_001, 5, float.NegativeInfinity)] // in the first
    [InlineData(3_000_001, 1_500_123, float.PositiveInfinity)]
    public void FindsTheNonFiniteValueOrNone(int length, int at, float value)
    {
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (i % 7 - 3) * 1e37f;   // large but finite magnitudes
        if (at >= 0) data[at] = value;
        Assert.Equal(at, FiniteScan.FirstNonFinite(data));
    }

    [Fact]
    public void TheEarliestRangeWins()
    {
        // An infinity early and a NaN late: with the array split across cores the early one is reported; one core's
        // single pass reports the first NaN. Either names a real bad value.
        var data = new float[3_000_000];
        data[10] = float.PositiveInfinity;
        data[2_900_000] = float.NaN;
        Assert.Equal(ComputePool.Shared.Threads >= 2 ? 10 : 2_900_000, FiniteScan.FirstNonFinite(data));
        Assert.Equal(-1, FiniteScan.FirstNonFinite(ReadOnlySpan<float>.Empty));
    }
}
