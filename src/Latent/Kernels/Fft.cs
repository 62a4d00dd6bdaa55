using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Latent.Kernels;

/// <summary>
/// The discrete Fourier transform, in single precision (twiddles computed in double), <c>X[k] = Σₗ x[l]·e^{−2πi·k·l/L}</c> of length L = 2ᵃ·3ᵇ, on B signals at once.
/// The signals are stored split (real parts in one array, imaginary parts in another) and interleaved by position:
/// element l of signal c is at <c>[l·B + c]</c>, so every butterfly works on whole vectors of B values. That is the
/// layout of a block of B adjacent columns of a row-major grid, which is how <see cref="Latent.Reduction.FftRepulsion"/>
/// runs the 2-D transform a strip at a time.
/// </summary>
/// <remarks>
/// Stockham's self-sorting form (radix 4, then 2, then 3): each stage reads one buffer and writes the other in
/// natural order, so no bit reversal is needed. Stage with radix r on sub-length n and stride s (m = n/r):
/// <c>y[q + s(r·p + u)] = w_n^{p·u} · Σₜ x[q + s(p + t·m)]·w_r^{t·u}</c> for p &lt; m, q &lt; s, u &lt; r, where
/// <c>w_n = e^{−2πi/n}</c>; then n ← m, s ← s·r. The inverse is the forward transform with the real and imaginary
/// parts swapped on the way in and out (no 1/L).
/// </remarks>
internal sealed class Fft
{
    private readonly int[] _radix;
    private readonly float[][] _wr, _wi;   // per stage: [p·r + u] = e^{−2πi·p·u/n}

    /// <summary>A plan for transforms of <paramref name="length"/> points.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A length that is not 2ᵃ·3ᵇ.</exception>
    public Fft(int length)
    {
        if (!IsSupported(length)) throw new ArgumentOutOfRangeException(nameof(length), length, $"Expected a length 2^a·3^b. Received: {length}.");
        Length = length;
        var radix = new List<int>();
        int rest = length;
        while (rest % 4 == 0) { radix.Add(4); rest /= 4; }
        if (rest % 2 == 0) { radix.Add(2); rest /= 2; }
        while (rest % 3 == 0) { radix.Add(3); rest /= 3; }
        _radix = [.. radix];
        _wr = new float[_radix.Length][];
        _wi = new float[_radix.Length][];
        int n = length;
        for (int t = 0; t < _radix.Length; t++)
        {
            int r = _radix[t], m = n / r;
            _wr[t] = new float[m * r];
            _wi[t] = new float[m * r];
            for (int p = 0; p < m; p++)
                for (int u = 0; u < r; u++)
                {
                    double a = -2 * Math.PI * ((long)p * u % n) / n;
                    _wr[t][p * r + u] = (float)Math.Cos(a);
                    _wi[t][p * r + u] = (float)Math.Sin(a);
                }
            n = m;
        }
    }

    /// <summary>L.</summary>
    public int Length { get; }

    /// <summary>Whether <paramref name="n"/> ≥ 1 is 2ᵃ·3ᵇ.</summary>
    public static bool IsSupported(int n)
    {
        if (n < 1) return false;
        while (n % 2 == 0) n /= 2;
        while (n % 3 == 0) n /= 3;
        return n == 1;
    }

    /// <summary>The smallest supported length ≥ <paramref name="n"/>.</summary>
    public static int NextSupported(int n)
    {
        int m = Math.Max(1, n);
        while (!IsSupported(m)) m++;
        return m;
    }

    /// <summary>
    /// Transforms B = <paramref name="b"/> signals of L points in (<paramref name="xr"/>, <paramref name="xi"/>),
    /// each span L·B long, using (<paramref name="yr"/>, <paramref name="yi"/>) as the other buffer. Returns true when
    /// the result is in y, false when it is in x. B must be a multiple of <see cref="Vector{T}.Count"/>.
    /// </summary>
    public bool Forward(Span<float> xr, Span<float> xi, Span<float> yr, Span<float> yi, int b)
    {
        int vb = b / Vector<float>.Count;
        if (vb * Vector<float>.Count != b || b <= 0) throw new ArgumentOutOfRangeException(nameof(b), b, $"Expected a positive multiple of {Vector<float>.Count} signals.");
        long need = (long)Length * b;
        if (xr.Length < need || xi.Length < need || yr.Length < need || yi.Length < need)
            throw new ArgumentException($"Each buffer needs {need} values for {Length} points × {b} signals.");
        var ar = MemoryMarshal.Cast<float, Vector<float>>(xr);
        var ai = MemoryMarshal.Cast<float, Vector<float>>(xi);
        var br = MemoryMarshal.Cast<float, Vector<float>>(yr);
        var bi = MemoryMarshal.Cast<float, Vector<float>>(yi);
        int n = Length, s = 1;
        bool inY = false;
        for (int t = 0; t < _radix.Length; t++)
        {
            if (!inY)
                Stage(_radix[t], ar, ai, br, bi, n, s, vb, _wr[t], _wi[t]);
            else
                Stage(_radix[t], br, bi, ar, ai, n, s, vb, _wr[t], _wi[t]);
            inY = !inY;
            n /= _radix[t];
            s *= _radix[t];
        }
        return inY;
    }

    /// <summary>The unscaled inverse, <c>x[l] = Σₖ X[k]·e^{+2πi·k·l/L}</c>, with the same buffers and result rule.</summary>
    public bool Inverse(Span<float> xr, Span<float> xi, Span<float> yr, Span<float> yi, int b) => Forward(xi, xr, yi, yr, b);

    private static void Stage(int r, Span<Vector<float>> xr, Span<Vector<float>> xi, Span<Vector<float>> yr, Span<Vector<float>> yi,
                              int n, int s, int vb, float[] wr, float[] wi)
    {
        switch (r)
        {
            case 4: Radix4(xr, xi, yr, yi, n, s, vb, wr, wi); break;
            case 2: Radix2(xr, xi, yr, yi, n, s, vb, wr, wi); break;
            default: Radix3(xr, xi, yr, yi, n, s, vb, wr, wi); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // t-SNE runs it from its first step
    private static void Radix2(Span<Vector<float>> xr, Span<Vector<float>> xi, Span<Vector<float>> yr, Span<Vector<float>> yi,
                               int n, int s, int vb, float[] wr, float[] wi)
    {
        int m = n / 2, len = s * vb;
        for (int p = 0; p < m; p++)
        {
            int i0 = s * p * vb, i1 = i0 + s * m * vb, o0 = s * 2 * p * vb, o1 = o0 + len;
            var w1r = new Vector<float>(wr[p * 2 + 1]);
            var w1i = new Vector<float>(wi[p * 2 + 1]);
            for (int j = 0; j < len; j++)
            {
                Vector<float> a0r = xr[i0 + j], a0i = xi[i0 + j], a1r = xr[i1 + j], a1i = xi[i1 + j];
                yr[o0 + j] = a0r + a1r;
                yi[o0 + j] = a0i + a1i;
                Vector<float> dr = a0r - a1r, di = a0i - a1i;
                yr[o1 + j] = dr * w1r - di * w1i;
                yi[o1 + j] = dr * w1i + di * w1r;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // t-SNE runs it from its first step
    private static void Radix3(Span<Vector<float>> xr, Span<Vector<float>> xi, Span<Vector<float>> yr, Span<Vector<float>> yi,
                               int n, int s, int vb, float[] wr, float[] wi)
    {
        int m = n / 3, len = s * vb, step = s * m * vb;
        var half = new Vector<float>(0.5f);
        var sin = new Vector<float>(MathF.Sqrt(3) / 2);   // w₃ = −½ − i·√3/2
        for (int p = 0; p < m; p++)
        {
            int i0 = s * p * vb, o0 = s * 3 * p * vb;
            var w1r = new Vector<float>(wr[p * 3 + 1]);
            var w1i = new Vector<float>(wi[p * 3 + 1]);
            var w2r = new Vector<float>(wr[p * 3 + 2]);
            var w2i = new Vector<float>(wi[p * 3 + 2]);
            for (int j = 0; j < len; j++)
            {
                Vector<float> a0r = xr[i0 + j], a0i = xi[i0 + j];
                Vector<float> a1r = xr[i0 + step + j], a1i = xi[i0 + step + j];
                Vector<float> a2r = xr[i0 + 2 * step + j], a2i = xi[i0 + 2 * step + j];
                Vector<float> sr = a1r + a2r, si = a1i + a2i;
                Vector<float> dr = (a1r - a2r) * sin, di = (a1i - a2i) * sin;
                Vector<float> cr = a0r - sr * half, ci = a0i - si * half;
                yr[o0 + j] = a0r + sr;
                yi[o0 + j] = a0i + si;
                // b₁ = c − i·d, b₂ = c + i·d
                Vector<float> b1r = cr + di, b1i = ci - dr, b2r = cr - di, b2i = ci + dr;
                yr[o0 + len + j] = b1r * w1r - b1i * w1i;
                yi[o0 + len + j] = b1r * w1i + b1i * w1r;
                yr[o0 + 2 * len + j] = b2r * w2r - b2i * w2i;
                yi[o0 + 2 * len + j] = b2r * w2i + b2i * w2r;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // t-SNE runs it from its first step
    private static void Radix4(Span<Vector<float>> xr, Span<Vector<float>> xi, Span<Vector<float>> yr, Span<Vector<float>> yi,
                               int n, int s, int vb, float[] wr, float[] wi)
    {
        int m = n / 4, len = s * vb, step = s * m * vb;
        for (int p = 0; p < m; p++)
        {
            int i0 = s * p * vb, o0 = s * 4 * p * vb;
            var w1r = new Vector<float>(wr[p * 4 + 1]);
            var w1i = new Vector<float>(wi[p * 4 + 1]);
            var w2r = new Vector<float>(wr[p * 4 + 2]);
            var w2i = new Vector<float>(wi[p * 4 + 2]);
            var w3r = new Vector<float>(wr[p * 4 + 3]);
            var w3i = new Vector<float>(wi[p * 4 + 3]);
            for (int j = 0; j < len; j++)
            {
                Vector<float> a0r = xr[i0 + j], a0i = xi[i0 + j];
                Vector<float> a1r = xr[i0 + step + j], a1i = xi[i0 + step + j];
                Vector<float> a2r = xr[i0 + 2 * step + j], a2i = xi[i0 + 2 * step + j];
                Vector<float> a3r = xr[i0 + 3 * step + j], a3i = xi[i0 + 3 * step + j];
                Vector<float> t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
                Vector<float> t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
                yr[o0 + j] = t0r + t2r;
                yi[o0 + j] = t0i + t2i;
                // b₁ = t₁ − i·t₃, b₂ = t₀ − t₂, b₃ = t₁ + i·t₃
                Vector<float> b1r = t1r + t3i, b1i = t1i - t3r, b2r = t0r - t2r, b2i = t0i - t2i, b3r = t1r - t3i, b3i = t1i + t3r;
                yr[o0 + len + j] = b1r * w1r - b1i * w1i;
                yi[o0 + len + j] = b1r * w1i + b1i * w1r;
                yr[o0 + 2 * len + j] = b2r * w2r - b2i * w2i;
                yi[o0 + 2 * len + j] = b2r * w2i + b2i * w2r;
                yr[o0 + 3 * len + j] = b3r * w3r - b3i * w3i;
                yi[o0 + 3 * len + j] = b3r * w3i + b3i * w3r;
            }
        }
    }
}
