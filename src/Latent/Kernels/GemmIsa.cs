namespace Latent.Kernels;

/// <summary>The instruction set a matrix multiply runs with.</summary>
public enum GemmIsa
{
    /// <summary>The widest the processor supports.</summary>
    Auto,
    /// <summary>Plain scalar arithmetic: for processors without 256-bit SIMD, and as a test oracle.</summary>
    Scalar,
    /// <summary>AVX2/FMA-class 256-bit vectors: an 6×16 register tile.</summary>
    Vector256,
    /// <summary>AVX-512 vectors: an 8×32 register tile.</summary>
    Vector512,
}
