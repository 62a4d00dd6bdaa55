using Latent.Kernels;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Kernels;

/// <summary>Per-channel sums and affine maps (batch normalization's kernels) against plain loops, for every kind of period.</summary>
public class ChannelKernelsTests
{
    // 1, 8 and 16 divide or are multiples of a vector; 3, 5 and 13 make periods of several vectors; 300 and 784
    // are too long for a pattern (period C, vector body and scalar tail per row); 64 rows span several blocks.
    public static TheoryData<int, int> Shapes() => new()
    {
        { 1, 1 }, { 1, 700 }, { 3, 7 }, { 5, 130 }, { 8, 1 }, { 8, 600 }, { 13, 9 }, { 16, 70 }, { 24, 33 }, { 64, 65 }, { 300, 5 }, { 784, 3 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SumsAndMapsMatchPlainLoops(int c, int rows)
    {
        int n = rows * c;
        var a = Synthetic.Uniform(n, 2 * c + rows, -2, 3);
        var b = Synthetic.Uniform(n, 3 * c + rows, -1, 1);
        var p = Synthetic.Uniform(c, 5, -1, 1);
        var q = Synthetic.Uniform(c, 6, -1, 1);
        var t = Synthetic.Uniform(c, 7, -1, 1);

        double[] sum = new double[c], sumAB = new double[c], sumA2 = new double[c], sq = new double[c];
        ChannelKernels.Sum(a, c, sum);
        ChannelKernels.SumAndProducts(a, b, c, sumA2, sumAB);
        ChannelKernels.SumSquaredDeviations(a, c, p, sq);
        double[] eSum = new double[c], eAB = new double[c], eSq = new double[c];
        for (int i = 0; i < n; i++)
        {
            int k = i % c;
            eSum[k] += a[i];
            eAB[k] += (double)a[i] * b[i];
            eSq[k] += ((double)a[i] - p[k]) * ((double)a[i] - p[k]);
        }
        for (int k = 0; k < c; k++)
        {
            double scale = 1e-5 * (rows + 10);      // float partial sums over blocks of at most 64 runs
            Assert.True(Math.Abs(sum[k] - eSum[k]) <= scale * (1 + Math.Abs(eSum[k])), $"Σa[{k}] {sum[k]} vs {eSum[k]}");
            Assert.True(Math.Abs(sumA2[k] - eSum[k]) <= scale * (1 + Math.Abs(eSum[k])), $"Σa[{k}] {sumA2[k]} vs {eSum[k]}");
            Assert.True(Math.Abs(sumAB[k] - eAB[k]) <= scale * (1 + Math.Abs(eAB[k])), $"Σab[{k}] {sumAB[k]} vs {eAB[k]}");
            Assert.True(Math.Abs(sq[k] - eSq[k]) <= scale * (1 + Math.Abs(eSq[k])), $"Σ(a−p)²[{k}] {sq[k]} vs {eSq[k]}");
        }

        var y = new float[n];
        ChannelKernels.Affine(a, c, p, q, y);
        var acc = (float[])b.Clone();
        ChannelKernels.AccumulateAffine2(a, b, c, p, q, t, acc);
        for (int i = 0; i < n; i++)
        {
            int k = i % c;
            double ey = (double)a[i] * p[k] + q[k], eAcc = b[i] + (double)a[i] * p[k] + (double)b[i] * q[k] + t[k];
            Assert.True(Math.Abs(y[i] - ey) <= 1e-6 * (1 + Math.Abs(ey)), $"y[{i}] {y[i]} vs {ey}");
            Assert.True(Math.Abs(acc[i] - eAcc) <= 2e-6 * (1 + Math.Abs(eAcc)), $"acc[{i}] {acc[i]} vs {eAcc}");
        }

        ChannelKernels.Affine(a, c, p, q, a);      // in place
        Assert.Equal(y, a);
    }
}
