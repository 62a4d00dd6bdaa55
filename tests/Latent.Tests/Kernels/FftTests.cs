using System.Numerics;
using Latent.Kernels;

namespace Latent.Tests.Kernels;

/// <summary>The FFT against the DFT's definition, summed naively in double (the transform is single precision), on every radix mix up to 2⁵·3³.</summary>
public class FftTests
{
    private static (double[] Re, double[] Im) NaiveDft(double[] re, double[] im, int n, int b, int sign)
    {
        var outRe = new double[n * b];
        var outIm = new double[n * b];
        for (int c = 0; c < b; c++)
            for (int k = 0; k < n; k++)
            {
                double sr = 0, si = 0;
                for (int l = 0; l < n; l++)
                {
                    double a = sign * 2 * Math.PI * ((long)k * l % n) / n;
                    double xr = re[l * b + c], xi = im[l * b + c];
                    sr += xr * Math.Cos(a) - xi * Math.Sin(a);
                    si += xr * Math.Sin(a) + xi * Math.Cos(a);
                }
                outRe[k * b + c] = sr;
                outIm[k * b + c] = si;
            }
        return (outRe, outIm);
    }

    public static TheoryData<int> Lengths() => [1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 27, 32, 36, 48, 54, 64, 72, 96, 108, 128, 864];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ForwardAndInverseMatchTheDefinition(int n)
    {
        int b = 2 * Vector<float>.Count;
        var rng = new Random(n);
        var re = Enumerable.Range(0, n * b).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var im = Enumerable.Range(0, n * b).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var fft = new Fft(n);
        foreach (int sign in new[] { -1, 1 })
        {
            var (er, ei) = NaiveDft(re, im, n, b, sign);
            float[] xr = [.. re.Select(v => (float)v)], xi = [.. im.Select(v => (float)v)], yr = new float[n * b], yi = new float[n * b];
            bool inY = sign < 0 ? fft.Forward(xr, xi, yr, yi, b) : fft.Inverse(xr, xi, yr, yi, b);
            var (gr, gi) = inY ? (yr, yi) : (xr, xi);
            // Single precision: the error of a sum of n unit terms, ~ε·√n·log n (the inputs rounded to float included).
            double tol = 4e-7 * Math.Sqrt(n) * (Math.Log2(n) + 1);
            for (int i = 0; i < n * b; i++)
            {
                Assert.True(Math.Abs(gr[i] - er[i]) < tol, $"L = {n}, sign {sign}, [{i}] re {gr[i]} vs {er[i]}");
                Assert.True(Math.Abs(gi[i] - ei[i]) < tol, $"L = {n}, sign {sign}, [{i}] im {gi[i]} vs {ei[i]}");
            }
        }
    }

    [Fact]
    public void SupportedLengthsAreTwosAndThrees()
    {
        Assert.Equal([1, 2, 3, 4, 6, 8, 9, 12, 16, 18], Enumerable.Range(-2, 22).Where(Fft.IsSupported));
        Assert.Equal(384, Fft.NextSupported(325));
        Assert.Equal(1, Fft.NextSupported(0));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Fft(10));
        Assert.Contains("10", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Fft(8).Forward(new float[24], new float[24], new float[24], new float[24], 3));
    }
}
