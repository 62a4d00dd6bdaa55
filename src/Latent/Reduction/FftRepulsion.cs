using System.Numerics;
using System.Runtime.Intrinsics.X86;
using Latent.Kernels;

namespace Latent.Reduction;

/// <summary>
/// t-SNE's repulsion by FFT-accelerated interpolation (FIt-SNE; Linderman, Rachh, Hoskins, Steinerberger &amp; Kluger,
/// Nature Methods 2019): the sums over all pairs, O(N²), become a convolution on a regular grid, O(N + G log G).
/// </summary>
/// <remarks>
/// <para>With <c>q̃ᵢⱼ = (1 + ‖yᵢ − yⱼ‖²)⁻¹</c>, the repulsion needs <c>Σⱼ q̃ᵢⱼ²(yᵢ − yⱼ)</c> and
/// <c>Z = Σᵢ≠ⱼ q̃ᵢⱼ</c>. Both come from four potentials of the one kernel <c>K = q̃²</c>,
/// <c>φ_c(yᵢ) = Σⱼ K(yᵢ, yⱼ)·c(yⱼ)</c> for the charges c = 1, y_x, y_y, ‖y‖²:
/// <c>Σⱼ q̃ᵢⱼ²(yᵢ − yⱼ) = yᵢ·φ₁ − (φ_x, φ_y)</c> and <c>Σⱼ q̃ᵢⱼ = (1 + ‖yᵢ‖²)·φ₁ − 2yᵢ·(φ_x, φ_y) + φ_‖y‖²</c>
/// (the sums include j = i, which adds 0 to the first and 1 to the second).</para>
/// <para>The embedding's bounding square is cut into B × B boxes (at least 50, one per unit of length up to 256,
/// B = 2ᵃ·3ᵇ), each with 3 × 3 equispaced nodes. Every point's charges are spread to the 9 nodes of its box with Lagrange
/// weights, the node potentials are the grid's exact convolution with K (by 2-D FFT of twice the grid's side in single
/// precision, two charges per complex transform), and they are interpolated back with the same weights. The error is that of
/// interpolating K by quadratics on a box of side ≤ 1 (FIt-SNE's defaults).</para>
/// </remarks>
internal sealed class FftRepulsion
{
    /// <summary>Interpolation nodes per box and dimension.</summary>
    public const int Nodes = 3;

    private const int MaxStrip = 64;

    /// <summary>
    /// Columns transformed together (a multiple of Vector&lt;float&gt;.Count up to 512 bits): wider on large grids, where
    /// each row of a strip sits on its own memory page and reading a few cache lines a row amortises the page walk;
    /// narrower on small ones, where the strip's buffers then stay in the core's cache.
    /// </summary>
    private static int StripFor(int l) => l < 512 ? 16 : l < 1024 ? 32 : MaxStrip;

    /// <summary>The least number of boxes per side (FIt-SNE's min_num_intervals).</summary>
    public int MinBoxes { get; init; } = 50;

    /// <summary>Boxes per unit of length (FIt-SNE's intervals_per_integer).</summary>
    public double BoxesPerUnit { get; init; } = 1;

    /// <summary>The most boxes per side; wider embeddings get wider boxes.</summary>
    public int MaxBoxes { get; init; } = 256;

    /// <summary>Boxes per side in the last call.</summary>
    public int Boxes { get; private set; }

    private readonly Dictionary<int, Fft> _plans = [];
    private float[] _w = [], _psi = [];                                      // 4 charges, then 4 potentials: (4, G, G)
    private float[] _sRe = [], _sIm = [], _tRe = [], _tIm = [], _kernel = []; // spectra (L, L), half transforms (G, L)
    private int[] _cell = [], _order = [], _count = [], _sortedCell = [];
    private double _centre;
    private double[] _weights = [];
    private Scratch[] _scratch = [];

    private sealed class Scratch(int size)
    {
        public readonly float[] Xr = new float[size], Xi = new float[size], Yr = new float[size], Yi = new float[size];
    }

    /// <summary>
    /// Writes <c>Σⱼ q̃ᵢⱼ²(yᵢ − yⱼ)</c> into <paramref name="rep"/> (2N, interleaved x, y like <paramref name="y"/>) and
    /// returns Z.
    /// </summary>
    public double Compute(ReadOnlySpan<double> y, int n, Span<double> rep)
    {
        double lo = double.MaxValue, hi = double.MinValue;
        for (int i = 0; i < 2 * n; i++) { lo = Math.Min(lo, y[i]); hi = Math.Max(hi, y[i]); }
        // A new grid every step, on the points' square: a grid kept over many steps (only K's spectrum saved) kept
        // its interpolation error in the same places, and the embedding settled 2% worse in KL; a moving grid
        // dithers it.
        double extent = Math.Max(hi - lo, 1e-12);
        int boxes = Fft.NextSupported(Math.Min(MaxBoxes, Math.Max(MinBoxes, (int)Math.Ceiling(extent * BoxesPerUnit))));
        double box = extent / boxes;
        Boxes = boxes;
        int g = boxes * Nodes, l = 2 * g;
        Ensure(n, g, l);
        _centre = (lo + hi) / 2;   // charges about the centre: smaller ‖y‖², less cancellation in single precision
        Spread(y, n, lo, box, g);
        var fft = _plans.TryGetValue(l, out var plan) ? plan : _plans[l] = new Fft(l);
        KernelSpectrum(fft, g, l, box / Nodes);
        // Two real charge grids per complex transform: K is real, so their convolutions stay apart in re and im.
        for (int pair = 0; pair < 2; pair++)
        {
            var re = _w.AsSpan(2 * pair * g * g, g * g);
            var im = _w.AsSpan((2 * pair + 1) * g * g, g * g);
            Pass(fft, re, im, rows: g, stride: g, columns: g, _tRe, _tIm, keep: l, inverse: false);
            Pass(fft, _tRe, _tIm, rows: g, stride: l, columns: l, _sRe, _sIm, keep: l, inverse: false, multiplier: _kernel);
            Pass(fft, _sRe, _sIm, rows: l, stride: l, columns: l, _tRe, _tIm, keep: g, inverse: true);
            Pass(fft, _tRe, _tIm, rows: l, stride: g, columns: g,
                 _psi.AsSpan(2 * pair * g * g, g * g), _psi.AsSpan((2 * pair + 1) * g * g, g * g), keep: g, inverse: true);
        }
        return Gather(y, n, g, rep);
    }

    private void Ensure(int n, int g, int l)
    {
        if (_cell.Length < n) { _cell = new int[n]; _order = new int[n]; _sortedCell = new int[n]; _weights = new double[6 * n]; }
        if (_w.Length < 4 * g * g) { _w = new float[4 * g * g]; _psi = new float[4 * g * g]; }
        if (_sRe.Length < l * l)
        {
            _sRe = new float[l * l]; _sIm = new float[l * l]; _kernel = new float[l * l];
            _tRe = new float[l * l]; _tIm = new float[l * l];
        }
        int parts = Math.Max(1, Environment.ProcessorCount);
        if (_scratch.Length != parts || _scratch[0].Xr.Length < l * StripFor(l))
            _scratch = [.. Enumerable.Range(0, parts).Select(_ => new Scratch(l * StripFor(l)))];
    }

    /// <summary>Lagrange weights of the box's 3 nodes (at 0.5, 1.5, 2.5) for a point at t ∈ [0, 3].</summary>
    private static (double, double, double) Lagrange(double t) =>
        ((t - 1.5) * (t - 2.5) / 2, -(t - 0.5) * (t - 2.5), (t - 0.5) * (t - 1.5) / 2);

    /// <summary>
    /// Each point's box, the points sorted by box (a counting sort), and in that order their Lagrange weights and
    /// charges; then the 4 charges on the 9 nodes of each point's box: grids (4, G, G), rows along y. A box's nodes are
    /// its own, so the cores spread disjoint bands of box rows without locks; and the sorted order walks the grid (and
    /// the arrays) in sequence instead of at random.
    /// </summary>
    private void Spread(ReadOnlySpan<double> y, int n, double lo, double box, int g)
    {
        int boxes = g / Nodes, gg = g * g, parts = _scratch.Length;
        if (_count.Length < boxes * boxes + 1) _count = new int[boxes * boxes + 1];
        Array.Clear(_count, 0, boxes * boxes + 1);
        unsafe
        {
            fixed (double* yp = y)
            {
                nint yAddress = (nint)yp;
                Parallel.For(0, parts, part =>
                {
                    double* yy = (double*)yAddress;
                    int start = (int)((long)n * part / parts), end = (int)((long)n * (part + 1) / parts);
                    for (int i = start; i < end; i++)
                    {
                        int bx = Math.Min((int)((yy[2 * i] - lo) / box), boxes - 1), by = Math.Min((int)((yy[2 * i + 1] - lo) / box), boxes - 1);
                        _cell[i] = by * boxes + bx;
                    }
                });
                for (int i = 0; i < n; i++) _count[_cell[i] + 1]++;
                for (int c = 0; c < boxes * boxes; c++) _count[c + 1] += _count[c];   // _count[c]: where box c starts
                for (int i = 0; i < n; i++) _order[_count[_cell[i]]++] = i;
                for (int c = boxes * boxes; c > 0; c--) _count[c] = _count[c - 1];     // back to starts (the sort moved them)
                _count[0] = 0;

                Parallel.For(0, parts, part =>
                {
                    double* yy = (double*)yAddress;
                    // A band of box rows per part, cut where the points are halved; its grid rows are its own.
                    int rowStart = BandStart(part, parts, n, boxes), rowEnd = BandStart(part + 1, parts, n, boxes);
                    for (int c = 0; c < 4; c++) Array.Clear(_w, c * gg + rowStart * Nodes * g, (rowEnd - rowStart) * Nodes * g);
                    for (int t = _count[rowStart * boxes]; t < _count[rowEnd * boxes]; t++)
                    {
                        int i = _order[t], cell = _cell[i], bx = cell % boxes, by = cell / boxes;
                        double px = yy[2 * i], py = yy[2 * i + 1];
                        var (x0, x1, x2) = Lagrange(((px - lo) / box - bx) * Nodes);
                        var (y0, y1, y2) = Lagrange(((py - lo) / box - by) * Nodes);
                        px -= _centre;
                        py -= _centre;
                        var wt = _weights.AsSpan(6 * t, 6);
                        wt[0] = x0; wt[1] = x1; wt[2] = x2; wt[3] = y0; wt[4] = y1; wt[5] = y2;
                        _sortedCell[t] = cell;
                        double c3 = px * px + py * py;
                        int corner = by * Nodes * g + bx * Nodes;
                        for (int a = 0; a < Nodes; a++)
                        {
                            int row = corner + a * g;
                            double wa = wt[3 + a];
                            for (int b = 0; b < Nodes; b++)
                            {
                                double w = wa * wt[b];
                                _w[row + b] += (float)w;
                                _w[gg + row + b] += (float)(w * px);
                                _w[2 * gg + row + b] += (float)(w * py);
                                _w[3 * gg + row + b] += (float)(w * c3);
                            }
                        }
                    }
                });
            }
        }
    }

    /// <summary>The first box row of band <paramref name="part"/>: where the sorted points reach part/parts of n.</summary>
    private int BandStart(int part, int parts, int n, int boxes)
    {
        if (part >= parts) return boxes;
        if (part == 0) return 0;
        long target = (long)n * part / parts;
        int row = 0;
        while (row < boxes && _count[(row + 1) * boxes] <= target) row++;
        return row;
    }

    /// <summary>The potentials at the points from the node potentials; the repulsion into rep; returns Z.</summary>
    private double Gather(ReadOnlySpan<double> y, int n, int g, Span<double> rep)
    {
        int gg = g * g, boxes = g / Nodes, parts = _scratch.Length * 4;
        double scale = 1.0 / (4.0 * g * g);   // the inverse FFT's 1/L²
        var sums = new double[parts];
        unsafe
        {
            fixed (double* yp = y, rp = rep)
            {
                var ptr = (Y: (nint)yp, R: (nint)rp);
                Parallel.For(0, parts, part =>
                {
                    double* yy = (double*)ptr.Y, rr = (double*)ptr.R;
                    int start = (int)((long)n * part / parts), end = (int)((long)n * (part + 1) / parts);
                    double z = 0;
                    for (int t = start; t < end; t++)
                    {
                        int i = _order[t], cell = _sortedCell[t];
                        var wt = _weights.AsSpan(6 * t, 6);
                        int corner = cell / boxes * Nodes * g + cell % boxes * Nodes;
                        double p1 = 0, px = 0, py = 0, p3 = 0;
                        for (int a = 0; a < Nodes; a++)
                        {
                            int row = corner + a * g;
                            double wa = wt[3 + a];
                            for (int b = 0; b < Nodes; b++)
                            {
                                double w = wa * wt[b];
                                p1 += w * _psi[row + b];
                                px += w * _psi[gg + row + b];
                                py += w * _psi[2 * gg + row + b];
                                p3 += w * _psi[3 * gg + row + b];
                            }
                        }
                        p1 *= scale; px *= scale; py *= scale; p3 *= scale;
                        double yx = yy[2 * i] - _centre, yv = yy[2 * i + 1] - _centre;
                        z += (1 + yx * yx + yv * yv) * p1 - 2 * (yx * px + yv * py) + p3;
                        rr[2 * i] = yx * p1 - px;
                        rr[2 * i + 1] = yv * p1 - py;
                    }
                    sums[part] = z;
                });
            }
        }
        return sums.Sum() - n;
    }

    /// <summary>
    /// The spectrum of K on the (L, L) circulant grid of node offsets (offset d for index d &lt; G, d − L above G):
    /// real, since K is even in both offsets.
    /// </summary>
    private void KernelSpectrum(Fft fft, int g, int l, double h)
    {
        // (h·d)² along one axis; the unused offset G gets +∞, so that K is 0 on its row and column.
        var axis = new float[l];
        for (int a = 0; a < l; a++)
        {
            double d = a < g ? a : a - l;
            axis[a] = a == g ? float.PositiveInfinity : (float)(h * h * d * d);
        }
        int vectors = l / Vector<float>.Count * Vector<float>.Count;
        Parallel.For(0, _scratch.Length, part =>
        {
            for (int a = part; a < l; a += _scratch.Length)
            {
                var rowTerm = new Vector<float>(1 + axis[a]);
                var row = _sRe.AsSpan(a * l, l);
                int b = 0;
                for (; b < vectors; b += Vector<float>.Count)
                {
                    var k = Vector<float>.One / (rowTerm + new Vector<float>(axis.AsSpan(b)));
                    (k * k).CopyTo(row[b..]);
                }
                for (; b < l; b++)
                {
                    float k = 1 / (1 + axis[a] + axis[b]);
                    row[b] = k * k;
                }
                _sIm.AsSpan(a * l, l).Clear();
            }
        });
        Pass(fft, _sRe, _sIm, rows: l, stride: l, columns: l, _tRe, _tIm, keep: l, inverse: false);
        Pass(fft, _tRe, _tIm, rows: l, stride: l, columns: l, _kernel, _sIm, keep: l, inverse: false);
    }

    /// <summary>
    /// One direction of a 2-D transform, written transposed: for every source column c &lt; <paramref name="columns"/>,
    /// the L-point transform of (src[0, c], …, src[rows − 1, c], 0, …, 0) goes to dst[c, 0..<paramref name="keep"/>),
    /// times <paramref name="multiplier"/>[c, ·] when one is given. Two such passes make the 2-D transform in the
    /// original orientation. Columns go a strip at a time through buffers that stay in cache, the strips shared among
    /// the cores.
    /// </summary>
    private void Pass(Fft fft, ReadOnlySpan<float> srcRe, ReadOnlySpan<float> srcIm, int rows, int stride, int columns,
                      Span<float> dstRe, Span<float> dstIm, int keep, bool inverse, float[]? multiplier = null)
    {
        int l = fft.Length, strip = StripFor(l), strips = (columns + strip - 1) / strip;
        unsafe
        {
            fixed (float* sr = srcRe, si = srcIm, dr = dstRe, di = dstIm)
            {
                var p = (Sr: (nint)sr, Si: (nint)si, Dr: (nint)dr, Di: (nint)di);
                int parts = Math.Min(_scratch.Length, strips);
                Parallel.For(0, parts, part =>
                {
                    var s = _scratch[part];
                    float* srcR = (float*)p.Sr, srcI = (float*)p.Si, dstR = (float*)p.Dr, dstI = (float*)p.Di;
                    for (int t = part; t < strips; t += parts)
                    {
                        int c0 = t * strip, width = Math.Min(strip, columns - c0);
                        if (width < strip) { Array.Clear(s.Xr); Array.Clear(s.Xi); }
                        else
                        {
                            Array.Clear(s.Xr, rows * strip, (l - rows) * strip);
                            Array.Clear(s.Xi, rows * strip, (l - rows) * strip);
                        }
                        for (int r = 0; r < rows; r++)
                        {
                            new ReadOnlySpan<float>(srcR + (long)r * stride + c0, width).CopyTo(s.Xr.AsSpan(r * strip, width));
                            new ReadOnlySpan<float>(srcI + (long)r * stride + c0, width).CopyTo(s.Xi.AsSpan(r * strip, width));
                        }
                        bool inY = inverse ? fft.Inverse(s.Xr, s.Xi, s.Yr, s.Yi, strip) : fft.Forward(s.Xr, s.Xi, s.Yr, s.Yi, strip);
                        float[] or = inY ? s.Yr : s.Xr, oi = inY ? s.Yi : s.Xi;
                        fixed (float* m = multiplier)
                        {
                            TransposeOut(or, strip, dstR + (long)c0 * keep, width, keep, m is null ? null : m + (long)c0 * keep);
                            TransposeOut(oi, strip, dstI + (long)c0 * keep, width, keep, m is null ? null : m + (long)c0 * keep);
                        }
                    }
                });
            }
        }
    }

    /// <summary>dst[k, r] = buffer[r, k] (· m[k, r]) for k &lt; width, r &lt; keep; buffer rows are <paramref name="strip"/> wide, dst rows keep long.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TransposeOut(float[] buffer, int strip, float* dst, int width, int keep, float* m)
    {
        fixed (float* b = buffer)
        {
            int k0 = 0;
            if (Sse.IsSupported)
            {
                for (; k0 + 4 <= width; k0 += 4)
                {
                    int r = 0;
                    for (; r + 4 <= keep; r += 4)
                    {
                        // A 4 × 4 block: rows r..r+3 of the buffer, columns k0..k0+3, turned over.
                        var v0 = Sse.LoadVector128(b + r * strip + k0);
                        var v1 = Sse.LoadVector128(b + (r + 1) * strip + k0);
                        var v2 = Sse.LoadVector128(b + (r + 2) * strip + k0);
                        var v3 = Sse.LoadVector128(b + (r + 3) * strip + k0);
                        var t0 = Sse.UnpackLow(v0, v1);
                        var t1 = Sse.UnpackLow(v2, v3);
                        var t2 = Sse.UnpackHigh(v0, v1);
                        var t3 = Sse.UnpackHigh(v2, v3);
                        var o0 = Sse.MoveLowToHigh(t0, t1);
                        var o1 = Sse.MoveHighToLow(t1, t0);
                        var o2 = Sse.MoveLowToHigh(t2, t3);
                        var o3 = Sse.MoveHighToLow(t3, t2);
                        long d = (long)k0 * keep + r;
                        if (m is not null)
                        {
                            o0 = Sse.Multiply(o0, Sse.LoadVector128(m + d));
                            o1 = Sse.Multiply(o1, Sse.LoadVector128(m + d + keep));
                            o2 = Sse.Multiply(o2, Sse.LoadVector128(m + d + 2 * keep));
                            o3 = Sse.Multiply(o3, Sse.LoadVector128(m + d + 3 * keep));
                        }
                        Sse.Store(dst + d, o0);
                        Sse.Store(dst + d + keep, o1);
                        Sse.Store(dst + d + 2 * keep, o2);
                        Sse.Store(dst + d + 3 * keep, o3);
                    }
                    for (; r < keep; r++)
                        for (int k = k0; k < k0 + 4; k++)
                        {
                            long d = (long)k * keep + r;
                            dst[d] = b[r * strip + k] * (m is null ? 1 : m[d]);
                        }
                }
            }
            for (int k = k0; k < width; k++)
                for (int r = 0; r < keep; r++)
                {
                    long d = (long)k * keep + r;
                    dst[d] = b[r * strip + k] * (m is null ? 1 : m[d]);
                }
        }
    }
}
