using System.Runtime.Intrinsics;
using Latent.Kernels;

namespace Latent.Tests.Kernels;

public class FastMathTests
{
    [Fact]
    public void ExpIsWithinTwoUlpOnItsRange()
    {
        for (int i = 0; i <= 20000; i++)
        {
            float x = -87f * i / 20000;
            float e = FastMath.ExpNonPositive(Vector512.Create(x)).ToScalar();
            float e8 = FastMath.ExpNonPositive(Vector256.Create(x)).ToScalar();
            double exact = Math.Exp(x);
            Assert.True(Math.Abs(e - exact) <= 2.5e-7 * exact, $"exp({x}) = {e}, exact {exact}");
            Assert.Equal(e, e8); // the AVX2 twin computes the same polynomial
        }
    }

    [Fact]
    public void Log1pIsWithinTwoUlpOnZeroToOne()
    {
        for (int i = 0; i <= 20000; i++)
        {
            // Quadratic spacing: dense near 0, where ln(1 + e) ≈ e is tiny and only a relative bound means anything.
            float e = (float)((double)i * i / (20000.0 * 20000.0));
            float l = FastMath.Log1pUnit(Vector512.Create(e)).ToScalar();
            Assert.Equal(l, FastMath.Log1pUnit(Vector256.Create(e)).ToScalar());
            double exact = Math.Log(1 + (double)e);
            Assert.True(Math.Abs(l - exact) <= 2.4e-7 * exact || l == exact, $"ln(1 + {e}) = {l}, exact {exact}");
        }
    }

    [Fact]
    public void Log1pOfTinyArgumentsIsExactToOneUlp()
    {
        // Below 2⁻¹⁵ the polynomial's powers come from a clamped argument (subnormal powers are slow): every power of
        // two from the smallest normal float up to 2⁻¹⁴, and values between them, must still give ln(1 + e) ≈ e.
        for (int k = -126; k <= -14; k++)
        foreach (double f in new[] { 1.0, 1.3, 1.77 })
        {
            float e = (float)(Math.ScaleB(1.0, k) * f);
            float l = FastMath.Log1pUnit(Vector512.Create(e)).ToScalar();
            Assert.Equal(l, FastMath.Log1pUnit(Vector256.Create(e)).ToScalar());
            double exact = e - (double)e * e / 2 + (double)e * e * e / 3;   // the series: Math.Log(1 + e) rounds 1 + e to 1
            Assert.True(Math.Abs(l - exact) <= 1.2e-7 * exact, $"ln(1 + {e:R}) = {l:R}, exact {exact:R}");
        }
    }
}
