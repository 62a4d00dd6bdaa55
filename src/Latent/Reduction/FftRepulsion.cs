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
/// <para>K's spectrum is computed for box sides on a ladder of <see cref="BoxLevels"/> rungs an octave and kept; a side
/// between rungs gets the three nearest spectra interpolated quadratically in log h (~1e-7 of the spectrum), so the grid
/// can still follow the points exactly every step. Grids are stored in tiles of <see cref="Tile"/> columns so that
/// every strip the transform takes is contiguous.</para>
/// </remarks>
internal sealed class FftRepulsion
{
    /// <summary>Interpolation nodes per box and dimension.</summary>
    public const int Nodes = 3;

    /// <summary>
    /// Columns per tile (a power of two, at least 8 and Vector&lt;float&gt;.Count): every grid is stored in tiles of this many
    /// columns, each tile's rows contiguous, so that a strip of columns, which the transform takes together, is one
    /// contiguous block; small enough that a strip's four buffers of L rows stay in a core's L2 cache.
    /// </summary>
    public int Tile { get; init; } = Math.Max(16, Vector<float>.Count);

    /// <summary>The least number of boxes per side (FIt-SNE's min_num_intervals).</summary>
    public int MinBoxes { get; init; } = 50;

    /// <summary>Boxes per unit of length (FIt-SNE's intervals_per_integer).</summary>
    public double BoxesPerUnit { get; init; } = 1;

    /// <summary>The most boxes per side; wider embeddings get wider boxes.</summary>
    public int MaxBoxes { get; init; } = 256;

    /// <summary>Boxes per side in the last call.</summary>
    public int Boxes { get; private set; }

    private readonly Dictionary<int, Fft> _plans = [];
    // Tiled grids (see Address): 4 charges (G, G); 4 potentials, transposed; two half-transformed grids (also K's and its
    // half-transformed spectrum while one is computed).
    private float[] _w = [], _psi = [], _aRe = [], _aIm = [], _bRe = [], _bIm = [];
    private int[] _cell = [], _order = [], _count = [], _sortedCell = [];
    private double _centre;
    private readonly List<(int L, int Level, float[] Spectrum)> _spectra = [];   // most recently used first

    /// <summary>Levels an octave of the box sides whose K spectra are computed; sides between two are interpolated.</summary>
    private const int BoxLevels = 128;

    /// <summary>Spectra kept (three in use, one spare for a grid that shrinks back).</summary>
    private const int SpectraKept = 4;

    /// <summary>Spectra computed so far (for tests and benchmarks).</summary>
    internal int SpectraComputed { get; private set; }
    private double[] _weights = [];
    private Scratch[] _scratch = [];

    private sealed class Scratch(int size)
    {
        public readonly float[] Xr = new float[size], Xi = new float[size], Yr = new float[size], Yi = new float[size];
    }

    /// <summary>
    /// Where element (row, col) of a tiled grid with <paramref name="rows"/> rows a tile sits: tile col / W holds rows
    /// × W values, row after row.
    /// </summary>
    private static int Address(int row, int col, int rows, int w) => (col / w * rows + row) * w + col % w;

    /// <summary><see cref="Address"/> of (0, col) for a power-of-two w = 2^shift: add row·w for the row.</summary>
    private static int ColumnBase(int col, int rows, int shift) => ((col >> shift) * rows << shift) + (col & ((1 << shift) - 1));

    private static int RoundUp(int n, int m) => (n + m - 1) / m * m;

    /// <summary>
    /// Writes <c>Σⱼ q̃ᵢⱼ²(yᵢ − yⱼ)</c> into <paramref name="rep"/> (2N, interleaved x, y like <paramref name="y"/>) and
    /// returns Z.
    /// </summary>
    public double Compute(ReadOnlySpan<double> y, int n, Span<double> rep)
    {
        if (Tile < Math.Max(8, Vector<float>.Count) || !BitOperations.IsPow2(Tile))
            throw new InvalidOperationException($"Tile must be a power of two ≥ 8 and ≥ {Vector<float>.Count}. Received: {Tile}.");
        double lo = double.MaxValue, hi = double.MinValue;
        for (int i = 0; i < 2 * n; i++) { lo = Math.Min(lo, y[i]); hi = Math.Max(hi, y[i]); }
        // A new grid every step, on the points' square, so that its interpolation error moves smoothly with them (a
        // grid that stays put for some steps, or jumps about, makes the error a noise that the gains' sign test
        // reads as a change of direction: the embedding settled 3-4% worse in KL).
        double extent = Math.Max(hi - lo, 1e-12);
        int boxes = Fft.NextSupported(Math.Min(MaxBoxes, Math.Max(MinBoxes, (int)Math.Ceiling(extent * BoxesPerUnit))));
        double box = extent / boxes;
        // K's spectrum depends only on the box side and the grid's size: it is computed for sides on a ladder of
        // BoxLevels an octave and kept, and the side between rungs gets the three nearest spectra interpolated
        // quadratically in log h (from one rung to the next the spectrum changes by up to ~2%; the interpolation's
        // error is ~1e-7 of it).
        double rung = Math.Log2(box) * BoxLevels;
        int level = (int)Math.Round(rung);
        double t = rung - level;   // in [−½, ½]: Lagrange weights on the rungs level − 1, level, level + 1
        var weights = ((float)(t * (t - 1) / 2), (float)(1 - t * t), (float)(t * (t + 1) / 2));
        Boxes = boxes;
        int g = boxes * Nodes, l = 2 * g, w = Tile, gp = RoundUp(g, w), lp = RoundUp(l, w);
        Ensure(n, gp, lp);
        _centre = (lo + hi) / 2;   // charges about the centre: smaller ‖y‖², less cancellation in single precision
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        Spread(y, n, lo, box, g, gp);
        long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        var fft = _plans.TryGetValue(l, out var plan) ? plan : _plans[l] = new Fft(l);
        float[] below = Spectrum(fft, g, l, lp, level - 1), at = Spectrum(fft, g, l, lp, level), above = Spectrum(fft, g, l, lp, level + 1);
        long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
        // Two real charge grids per complex transform: K is real, so their convolutions stay apart in re and im.
        // The charges w[y, x] go along y (into a[x, fy]), then along x, times K's spectrum, and back along x in one
        // strip (into b[fy, x]), then back along y: the potentials come out transposed, psi[x, y].
        unsafe
        {
            fixed (float* wp = _w, pp = _psi, ar = _aRe, ai = _aIm, br = _bRe, bi = _bIm, k0 = below, k1 = at, k2 = above)
                for (int pair = 0; pair < 2; pair++)
                {
                    long re = 2L * pair * gp * gp, im = re + (long)gp * gp;
                    Pass(fft, wp + re, wp + im, gp, g, gp / w, ar, ai, gp, l, inverse: false);
                    Pass(fft, ar, ai, gp, g, lp / w, br, bi, lp, g, inverse: false, kernel: ((nint)k0, (nint)k1, (nint)k2, weights));
                    Pass(fft, br, bi, lp, l, gp / w, pp + re, pp + im, gp, g, inverse: true);
                }
        }
        long t3 = System.Diagnostics.Stopwatch.GetTimestamp();
        double z = Gather(y, n, g, gp, rep);
        long t4 = System.Diagnostics.Stopwatch.GetTimestamp();
        Phases[0] += t1 - t0; Phases[1] += t2 - t1; Phases[2] += t3 - t2; Phases[3] += t4 - t3;
        return z;
    }

    /// <summary>Stopwatch ticks spent in spreading, K's spectrum, the convolutions and gathering, summed over calls.</summary>
    internal long[] Phases { get; } = new long[4];

    private void Ensure(int n, int gp, int lp)
    {
        if (_cell.Length < n) { _cell = new int[n]; _order = new int[n]; _sortedCell = new int[n]; _weights = new double[6 * n]; }
        if (_w.Length < 4 * gp * gp) { _w = new float[4 * gp * gp]; _psi = new float[4 * gp * gp]; }
        if (_aRe.Length < lp * lp)
        {
            _aRe = new float[lp * lp]; _aIm = new float[lp * lp]; _bRe = new float[lp * lp]; _bIm = new float[lp * lp];
        }
        int parts = Math.Max(1, Environment.ProcessorCount);
        if (_scratch.Length != parts || _scratch[0].Xr.Length < lp * Tile)
            _scratch = [.. Enumerable.Range(0, parts).Select(_ => new Scratch(lp * Tile))];
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
    private void Spread(ReadOnlySpan<double> y, int n, double lo, double box, int g, int gp)
    {
        int boxes = g / Nodes, gg = gp * gp, parts = _scratch.Length, w = Tile, shift = BitOperations.Log2((uint)w);
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
                    for (int c = 0; c < 4; c++)
                        for (int tile = 0; tile < gp / w; tile++)
                            Array.Clear(_w, c * gg + (tile * gp + rowStart * Nodes) * w, (rowEnd - rowStart) * Nodes * w);
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
                        int c0 = ColumnBase(bx * Nodes, gp, shift), c1 = ColumnBase(bx * Nodes + 1, gp, shift), c2 = ColumnBase(bx * Nodes + 2, gp, shift);
                        for (int a = 0; a < Nodes; a++)
                        {
                            double wa = wt[3 + a];
                            int rowOffset = (by * Nodes + a) * w;
                            for (int b = 0; b < Nodes; b++)
                            {
                                int at = (b == 0 ? c0 : b == 1 ? c1 : c2) + rowOffset;   // w[y, x]
                                double wab = wa * wt[b];
                                _w[at] += (float)wab;
                                _w[gg + at] += (float)(wab * px);
                                _w[2 * gg + at] += (float)(wab * py);
                                _w[3 * gg + at] += (float)(wab * c3);
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
    private double Gather(ReadOnlySpan<double> y, int n, int g, int gp, Span<double> rep)
    {
        int gg = gp * gp, boxes = g / Nodes, parts = _scratch.Length * 4, w = Tile, shift = BitOperations.Log2((uint)w);
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
                        int by = cell / boxes * Nodes, bx = cell % boxes * Nodes;
                        double p1 = 0, px = 0, py = 0, p3 = 0;
                        int c0 = ColumnBase(by, gp, shift), c1 = ColumnBase(by + 1, gp, shift), c2 = ColumnBase(by + 2, gp, shift);
                        for (int b = 0; b < Nodes; b++)
                        {
                            double wb = wt[b];
                            int rowOffset = (bx + b) * w;
                            for (int a = 0; a < Nodes; a++)
                            {
                                int at = (a == 0 ? c0 : a == 1 ? c1 : c2) + rowOffset;   // psi[x, y]
                                double wab = wb * wt[3 + a];
                                p1 += wab * _psi[at];
                                px += wab * _psi[gg + at];
                                py += wab * _psi[2 * gg + at];
                                p3 += wab * _psi[3 * gg + at];
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

    /// <summary>K's spectrum for the box side 2^(level / BoxLevels) on a grid of L, from the kept ones or computed.</summary>
    private float[] Spectrum(Fft fft, int g, int l, int lp, int level)
    {
        for (int i = 0; i < _spectra.Count; i++)
            if (_spectra[i].L == l && _spectra[i].Level == level && _spectra[i].Spectrum.Length >= lp * lp)
            {
                var hit = _spectra[i];
                _spectra.RemoveAt(i);
                _spectra.Insert(0, hit);
                return hit.Spectrum;
            }
        float[] spectrum;
        if (_spectra.Count < SpectraKept) spectrum = new float[lp * lp];
        else
        {
            spectrum = _spectra[^1].Spectrum;
            _spectra.RemoveAt(_spectra.Count - 1);
            if (spectrum.Length < lp * lp) spectrum = new float[lp * lp];
        }
        KernelSpectrum(fft, g, l, lp, Math.Pow(2, (double)level / BoxLevels) / Nodes, spectrum);
        SpectraComputed++;
        _spectra.Insert(0, (l, level, spectrum));
        return spectrum;
    }

    /// <summary>
    /// The spectrum of K on the (L, L) circulant grid of node offsets (offset d for index d &lt; G, d − L above G),
    /// tiled: real, since K is even in both offsets, and symmetric, so either index may be read as x's.
    /// </summary>
    private void KernelSpectrum(Fft fft, int g, int l, int lp, double h, float[] spectrum)
    {
        // (h·d)² along one axis; the unused offset G gets +∞, so that K is 0 on its row and column.
        var axis = new float[lp];
        for (int a = 0; a < lp; a++)
        {
            double d = a < g ? a : a - l;
            axis[a] = a >= l ? float.PositiveInfinity : a == g ? float.PositiveInfinity : (float)(h * h * d * d);
        }
        int w = Tile, tiles = lp / w;
        Parallel.For(0, _scratch.Length, part =>
        {
            for (int tile = part; tile < tiles; tile += _scratch.Length)
            {
                for (int a = 0; a < l; a++)
                {
                    var row = _bRe.AsSpan((tile * lp + a) * w, w);
                    var rowTerm = new Vector<float>(1 + axis[a]);
                    for (int c = 0; c < w; c += Vector<float>.Count)
                    {
                        var k = Vector<float>.One / (rowTerm + new Vector<float>(axis, tile * w + c));
                        (k * k).CopyTo(row[c..]);
                    }
                }
                _bIm.AsSpan(tile * lp * w, l * w).Clear();
            }
        });
        unsafe
        {
            fixed (float* ar = _aRe, ai = _aIm, br = _bRe, bi = _bIm, k = spectrum)
            {
                Pass(fft, br, bi, lp, l, tiles, ar, ai, lp, l, inverse: false);
                Pass(fft, ar, ai, lp, l, tiles, k, bi, lp, l, inverse: false);
            }
        }
    }

    /// <summary>
    /// One direction of a 2-D transform, written transposed: for every source column c (in <paramref name="tiles"/>
    /// tiles of W columns, <paramref name="srcRows"/> rows a tile, the first <paramref name="rows"/> read), the L-point
    /// transform of (src[0, c], …, src[rows − 1, c], 0, …, 0) goes to dst[c, 0..<paramref name="keep"/>) (tiled,
    /// <paramref name="dstRows"/> rows a tile). With a <paramref name="kernel"/> (K's tiled spectrum) the strip is
    /// also multiplied by it and transformed back before it is written: a whole convolution along the axis in cache.
    /// Strips are shared among the cores; each writes its own rows of dst.
    /// </summary>
    private unsafe void Pass(Fft fft, float* srcRe, float* srcIm, int srcRows, int rows, int tiles,
                             float* dstRe, float* dstIm, int dstRows, int keep, bool inverse,
                             (nint Below, nint At, nint Above, (float, float, float) Weights) kernel = default)
    {
        int l = fft.Length, w = Tile;
        var p = (Sr: (nint)srcRe, Si: (nint)srcIm, Dr: (nint)dstRe, Di: (nint)dstIm);
        int parts = Math.Min(_scratch.Length, tiles);
        Parallel.For(0, parts, part =>
        {
            var s = _scratch[part];
            fixed (float* xr = s.Xr, xi = s.Xi, yr = s.Yr, yi = s.Yi)
            {
                for (int t = part; t < tiles; t += parts)
                {
                    long block = (long)t * srcRows * w;
                    Buffer.MemoryCopy((float*)p.Sr + block, xr, (long)rows * w * 4, (long)rows * w * 4);
                    Buffer.MemoryCopy((float*)p.Si + block, xi, (long)rows * w * 4, (long)rows * w * 4);
                    new Span<float>(xr + rows * w, (l - rows) * w).Clear();
                    new Span<float>(xi + rows * w, (l - rows) * w).Clear();
                    bool inY = inverse ? fft.Inverse(s.Xr, s.Xi, s.Yr, s.Yi, w) : fft.Forward(s.Xr, s.Xi, s.Yr, s.Yi, w);
                    if (kernel.Below != 0)
                    {
                        long tile = (long)t * RoundUp(l, w) * w;   // the spectrum's tiles have L rows, rounded up
                        Multiply(inY ? yr : xr, inY ? yi : xi, (float*)kernel.Below + tile, (float*)kernel.At + tile, (float*)kernel.Above + tile,
                                 kernel.Weights, l * w);
                        inY = inY ? !fft.Inverse(s.Yr, s.Yi, s.Xr, s.Xi, w) : fft.Inverse(s.Xr, s.Xi, s.Yr, s.Yi, w);
                    }
                    WriteTransposed(inY ? yr : xr, w, keep, (float*)p.Dr, dstRows, t * w);
                    WriteTransposed(inY ? yi : xi, w, keep, (float*)p.Di, dstRows, t * w);
                }
            }
        });
    }

    /// <summary>(re, im) ·= a·k₀ + b·k₁ + c·k₂ for weights (a, b, c).</summary>
    private static unsafe void Multiply(float* re, float* im, float* k0, float* k1, float* k2, (float A, float B, float C) weights, int count)
    {
        int i = 0;
        Vector<float> a = new(weights.A), b = new(weights.B), c = new(weights.C);
        for (; i + Vector<float>.Count <= count; i += Vector<float>.Count)
        {
            var kv = a * Vector.Load(k0 + i) + b * Vector.Load(k1 + i) + c * Vector.Load(k2 + i);
            Vector.Store(Vector.Load(re + i) * kv, re + i);
            Vector.Store(Vector.Load(im + i) * kv, im + i);
        }
        for (; i < count; i++)
        {
            float kv = weights.A * k0[i] + weights.B * k1[i] + weights.C * k2[i];
            re[i] *= kv;
            im[i] *= kv;
        }
    }

    /// <summary>
    /// dst[c0 + j, k] = buffer[k, j] for k &lt; keep, j &lt; w, into a grid tiled over k (w columns a tile,
    /// <paramref name="dstRows"/> rows): each 8 × 8 block lands in 8 rows of one tile, 32 contiguous bytes each.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WriteTransposed(float* buffer, int w, int keep, float* dst, int dstRows, int c0)
    {
        int k0 = 0;
        if (Avx.IsSupported)
            for (; k0 + 8 <= keep; k0 += 8)
            {
                float* tile = dst + ((long)(k0 / w) * dstRows + c0) * w + k0 % w;
                for (int j = 0; j < w; j += 8) Simd.Transpose8x8(buffer + (long)k0 * w + j, w, tile + (long)j * w, w);
            }
        for (int k = k0; k < keep; k++)
            for (int j = 0; j < w; j++) dst[Address(c0 + j, k, dstRows, w)] = buffer[(long)k * w + j];
    }
}
