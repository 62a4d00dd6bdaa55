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
    public void LogIsWithinTwoUlpOnOneToTwo()
    {
        for (int i = 0; i <= 20000; i++)
        {
            float u = 1f + i / 20000f;
            float l = FastMath.LogOneToTwo(Vector512.Create(u)).ToScalar();
            Assert.Equal(l, FastMath.LogOneToTwo(Vector256.Create(u)).ToScalar());
            double exact = Math.Log(u);
            Assert.True(Math.Abs(l - exact) <= 1.2e-7 * Math.Max(exact, 0.5), $"log({u}) = {l}, exact {exact}");
        }
    }
}
