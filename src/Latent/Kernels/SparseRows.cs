using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Latent.Kernels;

/// <summary>
/// A batch of rows most of whose values are zero (MNIST's pixels, about 19% lit; bag-of-words counts; one-hot codes),
/// held as compressed rows for <c>z = x·W + b</c> and compressed columns for <c>dW (+)= xᵀ·dz</c>, so that both
/// products multiply only the nonzeros: <c>2·nnz·n</c> flops instead of <c>2·rows·width·n</c>.
/// Shapes: x (rows, width); W and dW (width, n); b (n); z and dz (rows, n); all row-major and dense.
/// </summary>
/// <remarks>
/// <para>Each output element is one chain of fused multiply-adds over its nonzeros in ascending order, computed whole by
/// one thread, so the bits depend neither on the thread count nor on who helps, and are the same at every vector width.
/// They differ from the dense multiply's, which blocks its sums, by rounding only.</para>
/// <para>Terms <c>0·w</c> are skipped, not added: a NaN or infinite weight meets only the inputs that are not zero
/// (a NaN input is not zero and is multiplied as usual).</para>
/// <para>One object per layer call site and executor (it keeps the batch between forward and backward), reused from
/// batch to batch; its arrays grow to the largest batch and density seen.</para>
/// </remarks>
internal sealed unsafe class SparseRows : IParallelWork
{
    private static readonly bool HardwareVectors = Avx2.IsSupported && Fma.IsSupported;
    private static readonly bool HardwareVectors512 = HardwareVectors && Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>Whether the 256-bit paths run: on AVX2 with FMA, unless the tests force scalar (<see cref="Gemm.ForcedIsa"/>).</summary>
    private static bool Vectorized
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // called from the per-step methods, which the runtime does not tier
        get => HardwareVectors && Gemm.ForcedIsa != GemmIsa.Scalar;
    }

    /// <summary>
    /// Whether the 512-bit paths run: on AVX-512, unless the tests force narrower vectors. Each element is the same chain
    /// of fused multiply-adds at either width, so the same bits; per nonzero, half the loads and multiply-adds.
    /// </summary>
    private static bool Vectorized512
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // called from the per-step methods, which the runtime does not tier
        get => HardwareVectors512 && Wide512 && (Gemm.ForcedIsa == GemmIsa.Auto || Gemm.ForcedIsa == GemmIsa.Vector512);
    }

    /// <summary>Whether <see cref="Vectorized512"/> may hold (a bench knob).</summary>
    internal static bool Wide512 = true;

    // Compressed rows: row r's nonzeros are _values[_rowStart[r].._rowStart[r+1]) at columns _cols[...], ascending.
    private int[] _rowStart = [], _cols = [];
    private float[] _values = [];
    // Compressed columns, built from the rows when the first transposed product asks for them.
    private int[] _colStart = [], _rowsOfCol = [], _next = [];
    private float[] _colValues = [];
    private int _rows, _width, _count;
    private bool _columnsBuilt;

    // The product in flight (see Execute).
    private float* _operand, _result, _bias;
    private int _n, _parts;
    private bool _transposed, _accumulate;

    /// <summary>Whether the last <see cref="TryLoad"/> took its batch (false: it was too dense, or nothing was loaded).</summary>
    public bool Loaded { get; private set; }

    /// <summary>Forgets the loaded batch (<see cref="Loaded"/> false), as when a batch was multiplied dense instead.</summary>
    public void Unload() => Loaded = false;

    /// <summary>Rows of the loaded batch.</summary>
    public int Rows => _rows;

    /// <summary>Values per row of the loaded batch.</summary>
    public int Width => _width;

    /// <summary>Nonzeros of the loaded batch.</summary>
    public int NonZeros => _count;

    /// <summary>
    /// Takes <paramref name="x"/> (<paramref name="rows"/> × <paramref name="width"/>) if at most
    /// <paramref name="maxDensity"/> of its values are nonzero; otherwise leaves <see cref="Loaded"/> false, having
    /// stopped as soon as the batch was too dense (a dense batch costs a fraction of one pass over it).
    /// </summary>
    /// <exception cref="ArgumentException">A negative size, or <paramref name="x"/> shorter than rows × width.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public bool TryLoad(ReadOnlySpan<float> x, int rows, int width, double maxDensity)
    {
        if (rows < 0 || width <= 0 || x.Length < (long)rows * width)
            throw new ArgumentException($"Expected {rows} rows of {width} values (rows ≥ 0, width > 0); received {x.Length} values.");
        Loaded = false;
        _columnsBuilt = false;
        long budget = (long)(maxDensity * rows * width);
        if (_rowStart.Length < rows + 1) _rowStart = new int[rows + 1];
        // Room for the budget, the row that passes it, and the up to 7 values the vector fill writes past a row's end.
        long room = Math.Min(budget, (long)rows * width) + width + 8;
        if (room > int.MaxValue) return false;
        if (_values.Length < room)
        {
            _values = new float[room];
            _cols = new int[room];
        }
        long total = 0;
        fixed (float* px = x, pv = _values)
        fixed (int* pc = _cols)
            for (int r = 0; r < rows; r++)
            {
                _rowStart[r] = (int)total;
                total += Compress(px + (long)r * width, width, pv + total, pc + total);
                if (total > budget) return false;
            }
        _rowStart[rows] = (int)total;
        (_rows, _width, _count) = (rows, width, (int)total);
        Loaded = true;
        return true;
    }

    /// <summary><c>z = x·W + b</c> for the loaded batch: z (rows × n), W (width × n), b (n) or empty for none.</summary>
    /// <exception cref="InvalidOperationException">Nothing is loaded.</exception>
    /// <exception cref="ArgumentException">An operand is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Multiply(ReadOnlySpan<float> w, int n, Span<float> z, ReadOnlySpan<float> bias = default)
    {
        Check(n, w.Length, "W", (long)_width * n, z.Length, "z", (long)_rows * n);
        if (!bias.IsEmpty && bias.Length < n) throw new ArgumentException($"A bias needs n = {n} values; received {bias.Length}.");
        fixed (float* pw = w, pz = z, pb = bias)
            Run(pw, pz, bias.IsEmpty ? null : pb, n, transposed: false, accumulate: false);
    }

    /// <summary><c>dW = xᵀ·dz</c> (or <c>dW += xᵀ·dz</c>) for the loaded batch: dW (width × n), dz (rows × n).</summary>
    /// <exception cref="InvalidOperationException">Nothing is loaded.</exception>
    /// <exception cref="ArgumentException">An operand is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void MultiplyTransposed(ReadOnlySpan<float> dz, int n, Span<float> dw, bool accumulate)
    {
        Check(n, dz.Length, "dz", (long)_rows * n, dw.Length, "dW", (long)_width * n);
        if (!_columnsBuilt) BuildColumns();
        fixed (float* pd = dz, pw = dw)
            Run(pd, pw, null, n, transposed: true, accumulate);
    }

    /// <summary>
    /// <c>dW = xᵀ·dz</c> for the loaded batch, written (not added), from the rows as they are: each nonzero x[r, k] adds
    /// x[r, k]·dz[r, :] into dW's row k. No columns to sort (<see cref="BuildColumns"/>), at the price of a load and a
    /// store of dW per nonzero; dW is swept in blocks of <see cref="ByRowsBlock"/> rows by 32 columns (32 KB, an L1's
    /// worth), each row of the batch visiting its nonzeros in the block (its columns ascend, so a cursor a row walks on). Every
    /// element is the same chain of fused multiply-adds, from zero over its nonzeros in ascending rows, as in
    /// <see cref="MultiplyTransposed"/>: the same bits. One thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing is loaded.</exception>
    /// <exception cref="ArgumentException">An operand is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void MultiplyTransposedByRows(ReadOnlySpan<float> dz, int n, Span<float> dw)
    {
        Check(n, dz.Length, "dz", (long)_rows * n, dw.Length, "dW", (long)_width * n);
        if (_cursor.Length < _rows) _cursor = new int[_rows];
        fixed (int* ps = _rowStart, pc = _cols, cursor = _cursor)
        fixed (float* pv = _values, pd = dz, pw = dw)
        {
            int j = 0;
            if (Vectorized512)
                for (; j + 32 <= n; j += 32) BlocksByRows512(ps, pc, pv, _rows, _width, pd + j, n, pw + j, cursor);
            if (Vectorized)
            {
                for (; j + 32 <= n; j += 32) BlocksByRows(ps, pc, pv, _rows, _width, pd + j, n, pw + j, cursor, wide: true);
                for (; j + 8 <= n; j += 8) BlocksByRows(ps, pc, pv, _rows, _width, pd + j, n, pw + j, cursor, wide: false);
            }
            for (; j < n; j++)
            {
                for (int k = 0; k < _width; k++) pw[(long)k * n + j] = 0f;
                for (int r = 0; r < _rows; r++)
                {
                    float g = pd[(long)r * n + j];
                    for (int q = ps[r], e = ps[r + 1]; q < e; q++)
                    {
                        float* d = pw + (long)pc[q] * n + j;
                        *d = MathF.FusedMultiplyAdd(pv[q], g, *d);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Rows of dW a block of <see cref="MultiplyTransposedByRows"/> covers (a knob): smaller blocks end each batch row's
    /// run of nonzeros more often (a mispredicted branch each), the whole width keeps missing L1 (docs/PERFORMANCE.md).
    /// </summary>
    internal static int ByRowsBlock = 256;

    private int[] _cursor = [];

    /// <summary>
    /// 32 columns (<paramref name="wide"/>) or 8 of <see cref="MultiplyTransposedByRows"/>, block by block of dW's rows:
    /// the block cleared, then each batch row's nonzeros in it added, dz's row held in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // per-step path; its own registers
    private static void BlocksByRows(int* starts, int* cols, float* values, int rows, int width, float* dz, int n, float* dw, int* cursor, bool wide)
    {
        for (int r = 0; r < rows; r++) cursor[r] = starts[r];
        int block = ByRowsBlock;
        for (int k0 = 0; k0 < width; k0 += block)
        {
            int k1 = Math.Min(width, k0 + block);
            for (int k = k0; k < k1; k++)
            {
                float* d = dw + (long)k * n;
                Avx.Store(d, Vector256<float>.Zero);
                if (wide)
                {
                    Avx.Store(d + 8, Vector256<float>.Zero); Avx.Store(d + 16, Vector256<float>.Zero); Avx.Store(d + 24, Vector256<float>.Zero);
                }
            }
            for (int r = 0; r < rows; r++)
            {
                int q = cursor[r], e = starts[r + 1];
                if (q >= e || cols[q] >= k1) continue;
                float* g = dz + (long)r * n;
                if (wide)
                {
                    var g0 = Avx.LoadVector256(g); var g1 = Avx.LoadVector256(g + 8);
                    var g2 = Avx.LoadVector256(g + 16); var g3 = Avx.LoadVector256(g + 24);
                    do
                    {
                        var v = Vector256.Create(values[q]);
                        float* d = dw + (long)cols[q] * n;
                        Avx.Store(d, Fma.MultiplyAdd(v, g0, Avx.LoadVector256(d)));
                        Avx.Store(d + 8, Fma.MultiplyAdd(v, g1, Avx.LoadVector256(d + 8)));
                        Avx.Store(d + 16, Fma.MultiplyAdd(v, g2, Avx.LoadVector256(d + 16)));
                        Avx.Store(d + 24, Fma.MultiplyAdd(v, g3, Avx.LoadVector256(d + 24)));
                    } while (++q < e && cols[q] < k1);
                }
                else
                {
                    var g0 = Avx.LoadVector256(g);
                    do
                    {
                        float* d = dw + (long)cols[q] * n;
                        Avx.Store(d, Fma.MultiplyAdd(Vector256.Create(values[q]), g0, Avx.LoadVector256(d)));
                    } while (++q < e && cols[q] < k1);
                }
                cursor[r] = q;
            }
        }
    }

    /// <summary>32 columns of <see cref="MultiplyTransposedByRows"/> in two 512-bit vectors, as <see cref="BlocksByRows"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // per-step path; its own registers
    private static void BlocksByRows512(int* starts, int* cols, float* values, int rows, int width, float* dz, int n, float* dw, int* cursor)
    {
        for (int r = 0; r < rows; r++) cursor[r] = starts[r];
        int block = ByRowsBlock;
        for (int k0 = 0; k0 < width; k0 += block)
        {
            int k1 = Math.Min(width, k0 + block);
            for (int k = k0; k < k1; k++)
            {
                float* d = dw + (long)k * n;
                Avx512F.Store(d, Vector512<float>.Zero);
                Avx512F.Store(d + 16, Vector512<float>.Zero);
            }
            for (int r = 0; r < rows; r++)
            {
                int q = cursor[r], e = starts[r + 1];
                if (q >= e || cols[q] >= k1) continue;
                float* g = dz + (long)r * n;
                var g0 = Avx512F.LoadVector512(g); var g1 = Avx512F.LoadVector512(g + 16);
                do
                {
                    var v = Vector512.Create(values[q]);
                    float* d = dw + (long)cols[q] * n;
                    Avx512F.Store(d, Avx512F.FusedMultiplyAdd(v, g0, Avx512F.LoadVector512(d)));
                    Avx512F.Store(d + 16, Avx512F.FusedMultiplyAdd(v, g1, Avx512F.LoadVector512(d + 16)));
                } while (++q < e && cols[q] < k1);
                cursor[r] = q;
            }
        }
    }

    /// <summary>
    /// Rows [<paramref name="from"/>, <paramref name="to"/>) of <c>dW = xᵀ·dz</c> (or <c>dW += xᵀ·dz</c>), on the calling
    /// thread, into <paramref name="dwRows"/> ((to − from) × n): the same bits as those rows of
    /// <see cref="MultiplyTransposed"/>. Several threads may run it at once on disjoint rows once
    /// <see cref="BuildColumns"/> has run.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing is loaded, or the columns are not built.</exception>
    /// <exception cref="ArgumentException">A bad row range, or an operand too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void MultiplyTransposedLines(ReadOnlySpan<float> dz, int n, Span<float> dwRows, int from, int to, bool accumulate)
    {
        if ((uint)from > (uint)to || to > _width)
            throw new ArgumentException($"Rows of dW must satisfy 0 ≤ from ≤ to ≤ {_width}; received [{from}, {to}).");
        Check(n, dz.Length, "dz", (long)_rows * n, dwRows.Length, "dW's rows", (long)(to - from) * n);
        if (!_columnsBuilt) throw new InvalidOperationException("The columns are not built (BuildColumns).");
        fixed (float* pd = dz, pw = dwRows)
        fixed (int* ps = _colStart, pi = _rowsOfCol)
        fixed (float* pv = _colValues)
            Gather(ps, pi, pv, from, to, pd, _rows, pw - (long)from * n, null, n, accumulate, pack: true);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private void Check(int n, int operand, string operandName, long operandNeeded, int result, string resultName, long resultNeeded)
    {
        if (!Loaded) throw new InvalidOperationException("No batch is loaded (TryLoad found it too dense, or was not called).");
        if (n <= 0) throw new ArgumentException($"n must be positive; received {n}.");
        if (operand < operandNeeded) throw new ArgumentException($"{operandName} needs {operandNeeded} values; received {operand}.");
        if (result < resultNeeded) throw new ArgumentException($"{resultName} needs {resultNeeded} values; received {result}.");
    }

    /// <summary>
    /// Smallest product (2·nnz·n flops) split across the cores: a quarter of the dense multiply's threshold, since a
    /// nonzero's multiply-adds read W from L2 and run at about a quarter of the dense tile's speed (a knob).
    /// </summary>
    internal static long ParallelFlops = 1L << 18;

    /// <summary>Smallest product (2·nnz·n flops) a replica posts on its <see cref="HelpBoard"/> (a knob; <see cref="long.MaxValue"/>: none).</summary>
    internal static long HelpFlops = 3L << 19;

    /// <summary>Runs the product in parts: across the cores when large enough, on a replica's help board inside a data-parallel step.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private void Run(float* operand, float* result, float* bias, int n, bool transposed, bool accumulate)
    {
        _operand = operand;
        _result = result;
        _bias = bias;
        (_n, _transposed, _accumulate) = (n, transposed, accumulate);
        long flops = 2L * _count * n;
        var (parts, board) = Gemm.Split(flops, transposed ? _width : _rows, ParallelFlops, HelpFlops);
        _parts = parts;
        try
        {
            if (board is not null) board.Run(this, parts);
            else if (parts > 1) ComputePool.Shared.Run(this, parts);
            else Execute(0);
        }
        finally
        {
            _operand = _result = _bias = null;
        }
    }

    /// <summary>Part <paramref name="part"/> of the product in flight: a range of rows of z, or of rows of dW, with about equal nonzeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void Execute(int part)
    {
        int[] starts = _transposed ? _colStart : _rowStart;
        int lines = _transposed ? _width : _rows;
        int from = Boundary(starts, lines, part), to = Boundary(starts, lines, part + 1);
        if (from >= to) return;
        fixed (int* ps = starts, pi = _transposed ? _rowsOfCol : _cols)
        fixed (float* pv = _transposed ? _colValues : _values)
        {
            if (_transposed) Gather(ps, pi, pv, from, to, _operand, _rows, _result, null, _n, _accumulate, pack: true);
            else Gather(ps, pi, pv, from, to, _operand, _width, _result, _bias, _n, accumulate: false, pack: false);
        }
    }

    /// <summary>The first line of part <paramref name="part"/> of <see cref="_parts"/>: where the running count of nonzeros passes its share.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private int Boundary(int[] starts, int lines, int part)
    {
        if (part <= 0) return 0;
        if (part >= _parts) return lines;
        long target = (long)_count * part / _parts;
        int lo = 0, hi = lines;   // the first line whose start is ≥ target
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] < target) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>
    /// For lines [from, to) of a compressed matrix (starts, indices, values): <c>out[line, :] (+)= bias + Σₚ values[p]·src[indices[p], :]</c>.
    /// Forward: lines are x's rows, src is W. Transposed: lines are x's columns (dW's rows), src is dz.
    /// </summary>
    /// <remarks>
    /// A line's sum is one chain of fused multiply-adds, and a chain waits for its last one (4 cycles): eight chains
    /// in flight keep both FMA units busy. So 64 columns of one line, or 32 columns of two lines side by side, or 8
    /// columns of four; the columns of src that the lines visit stay in cache from one line to the next.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void Gather(int* starts, int* indices, float* values, int from, int to, float* src, int srcRows, float* dst, float* bias, int n, bool accumulate, bool pack)
    {
        int j = 0;
        if (Vectorized512)
        {
            // W's rows in the forward, 128 columns a pass: each line's nonzeros are walked once, eight chains in flight.
            if (!pack)
                for (; j + 128 <= n; j += 128)
                    for (int line = from; line < to; line++)
                        EightVectors<Floats512>(starts, indices, values, line, src + j, n, dst + j, n, bias != null ? bias + j : null, accumulate);
            float* block = n > 64 && pack ? Scratch(srcRows * 64) : null;
            for (; j + 64 <= n; j += 64)
            {
                float* s = Columns64(src, srcRows, n, j, block, out int ld);
                float* b = bias != null ? bias + j : null;
                int line = from;
                for (; line + 2 <= to; line += 2)
                    TwoLines<Floats512>(starts, indices, values, line, s, ld, dst + j, n, b, accumulate);
                if (line < to) TwoLines<Floats512>(starts, indices, values, line, s, ld, dst + j, n, b, accumulate, single: true);
            }
            for (; j + 32 <= n; j += 32)
            {
                float* b = bias != null ? bias + j : null;
                int line = from;
                for (; line + 4 <= to; line += 4)
                    Lines4x32(starts, indices, values, line, src + j, n, dst + j, n, b, accumulate);
                for (; line < to; line++)
                    Lines4x32(starts, indices, values, line, src + j, n, dst + j, n, b, accumulate, single: true);
            }
        }
        if (Vectorized)
        {
            // With pack, src's 64 columns are copied together first: rows a whole number of 1 KB apart (dz of 256
            // units) fall into a sixteenth of L1's sets, and the rows × 64 values the lines visit would not stay
            // there. Not for W in the forward: its block is width × 64 values, L2's business, and copying it cost
            // more than it saved (docs/PERFORMANCE.md).
            float* block = n > 64 && pack ? Scratch(srcRows * 64) : null;
            for (; j + 64 <= n; j += 64)
            {
                float* s = Columns64(src, srcRows, n, j, block, out int ld);
                float* b = bias != null ? bias + j : null;
                for (int line = from; line < to; line++)
                    EightVectors<Floats256>(starts, indices, values, line, s, ld, dst + j, n, b, accumulate);
            }
            for (; j + 32 <= n; j += 32)
            {
                float* b = bias != null ? bias + j : null;
                int line = from;
                for (; line + 2 <= to; line += 2)
                    TwoLines<Floats256>(starts, indices, values, line, src + j, n, dst + j, n, b, accumulate);
                if (line < to) TwoLines<Floats256>(starts, indices, values, line, src + j, n, dst + j, n, b, accumulate, single: true);
            }
            for (; j + 8 <= n; j += 8)
            {
                float* b = bias != null ? bias + j : null;
                int line = from;
                for (; line + 4 <= to; line += 4)
                    Lines4x8(starts, indices, values, line, src + j, n, dst + j, n, b, accumulate);
                for (; line < to; line++)
                    Line8(starts, indices, values, line, src + j, n, dst + j, n, b, accumulate);
            }
        }
        // The same chain per element as the vector lanes run, so every column gets the same bits at any width.
        for (; j < n; j++)
            for (int line = from; line < to; line++)
            {
                float a = bias != null ? bias[j] : 0f;
                for (int p = starts[line], e = starts[line + 1]; p < e; p++)
                    a = MathF.FusedMultiplyAdd(values[p], src[(long)indices[p] * n + j], a);
                float* d = dst + (long)line * n + j;
                *d = accumulate ? *d + a : a;
            }
    }

    /// <summary>src's 64 columns from <paramref name="j"/>: copied into <paramref name="block"/> (rows 64 apart) when there is one, else in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Columns64(float* src, int srcRows, int n, int j, float* block, out int ld)
    {
        if (block == null)
        {
            ld = n;
            return src + j;
        }
        for (int r = 0; r < srcRows; r++)
            Buffer.MemoryCopy(src + (long)r * n + j, block + (long)r * 64, 256, 256);
        ld = 64;
        return block;
    }

    [ThreadStatic] private static float[]? t_block;

    /// <summary>This thread's scratch of at least <paramref name="floats"/> floats, pinned for the process's life (a pinned-heap array).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static float* Scratch(long floats)
    {
        if (t_block is null || t_block.Length < floats) t_block = GC.AllocateUninitializedArray<float>((int)Math.Max(floats, 64), pinned: true);
        return (float*)Unsafe.AsPointer(ref t_block[0]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Start512(float* bias, int j) => bias != null ? Avx512F.LoadVector512(bias + j) : Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish512(float* d, Vector512<float> a, bool accumulate) => Avx512F.Store(d, accumulate ? a + Avx512F.LoadVector512(d) : a);

    /// <summary>32 columns of lines <paramref name="line"/> to line + 3 (or of the one line alone when <paramref name="single"/>), 512-bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void Lines4x32(int* starts, int* indices, float* values, int line, float* src, int ld, float* dst, int ldd, float* bias,
                                  bool accumulate, bool single = false)
    {
        var a0 = Start512(bias, 0); var a1 = Start512(bias, 16);
        if (single)
        {
            for (int p = starts[line], e = starts[line + 1]; p < e; p++)
            {
                var v = Vector512.Create(values[p]);
                float* s = src + (long)indices[p] * ld;
                a0 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s), a0); a1 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s + 16), a1);
            }
            float* d1 = dst + (long)line * ldd;
            Finish512(d1, a0, accumulate); Finish512(d1 + 16, a1, accumulate);
            return;
        }
        var b0 = a0; var b1 = a1; var c0 = a0; var c1 = a1; var e0 = a0; var e1 = a1;
        int p0 = starts[line], x0 = starts[line + 1], p1 = x0, x1 = starts[line + 2], p2 = x1, x2 = starts[line + 3], p3 = x2, x3 = starts[line + 4];
        int all = Math.Min(Math.Min(x0 - p0, x1 - p1), Math.Min(x2 - p2, x3 - p3));
        for (int t = 0; t < all; t++, p0++, p1++, p2++, p3++)
        {
            float* s0 = src + (long)indices[p0] * ld, s1 = src + (long)indices[p1] * ld, s2 = src + (long)indices[p2] * ld, s3 = src + (long)indices[p3] * ld;
            var v0 = Vector512.Create(values[p0]); var v1 = Vector512.Create(values[p1]);
            var v2 = Vector512.Create(values[p2]); var v3 = Vector512.Create(values[p3]);
            a0 = Avx512F.FusedMultiplyAdd(v0, Avx512F.LoadVector512(s0), a0); a1 = Avx512F.FusedMultiplyAdd(v0, Avx512F.LoadVector512(s0 + 16), a1);
            b0 = Avx512F.FusedMultiplyAdd(v1, Avx512F.LoadVector512(s1), b0); b1 = Avx512F.FusedMultiplyAdd(v1, Avx512F.LoadVector512(s1 + 16), b1);
            c0 = Avx512F.FusedMultiplyAdd(v2, Avx512F.LoadVector512(s2), c0); c1 = Avx512F.FusedMultiplyAdd(v2, Avx512F.LoadVector512(s2 + 16), c1);
            e0 = Avx512F.FusedMultiplyAdd(v3, Avx512F.LoadVector512(s3), e0); e1 = Avx512F.FusedMultiplyAdd(v3, Avx512F.LoadVector512(s3 + 16), e1);
        }
        for (; p0 < x0; p0++) { var v = Vector512.Create(values[p0]); float* s = src + (long)indices[p0] * ld; a0 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s), a0); a1 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s + 16), a1); }
        for (; p1 < x1; p1++) { var v = Vector512.Create(values[p1]); float* s = src + (long)indices[p1] * ld; b0 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s), b0); b1 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s + 16), b1); }
        for (; p2 < x2; p2++) { var v = Vector512.Create(values[p2]); float* s = src + (long)indices[p2] * ld; c0 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s), c0); c1 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s + 16), c1); }
        for (; p3 < x3; p3++) { var v = Vector512.Create(values[p3]); float* s = src + (long)indices[p3] * ld; e0 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s), e0); e1 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(s + 16), e1); }
        float* d = dst + (long)line * ldd;
        Finish512(d, a0, accumulate); Finish512(d + 16, a1, accumulate);
        Finish512(d + ldd, b0, accumulate); Finish512(d + ldd + 16, b1, accumulate);
        Finish512(d + 2L * ldd, c0, accumulate); Finish512(d + 2L * ldd + 16, c1, accumulate);
        Finish512(d + 3L * ldd, e0, accumulate); Finish512(d + 3L * ldd + 16, e1, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Start(float* bias, int j) => bias != null ? Avx.LoadVector256(bias + j) : Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* d, Vector256<float> a, bool accumulate) => Avx.Store(d, accumulate ? a + Avx.LoadVector256(d) : a);

    /// <summary>Eight vectors' columns (64 with 256-bit vectors, 128 with 512) of one line, eight chains in flight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void EightVectors<TV>(int* starts, int* indices, float* values, int line, float* src, int ld, float* dst, int ldd, float* bias,
                                         bool accumulate) where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count;
        var a0 = Start<TV>(bias, 0); var a1 = Start<TV>(bias, w); var a2 = Start<TV>(bias, 2 * w); var a3 = Start<TV>(bias, 3 * w);
        var a4 = Start<TV>(bias, 4 * w); var a5 = Start<TV>(bias, 5 * w); var a6 = Start<TV>(bias, 6 * w); var a7 = Start<TV>(bias, 7 * w);
        for (int p = starts[line], e = starts[line + 1]; p < e; p++)
        {
            var v = TV.Splat(values[p]);
            float* s = src + (long)indices[p] * ld;
            a0 = TV.MultiplyAdd(v, TV.Load(s), a0); a1 = TV.MultiplyAdd(v, TV.Load(s + w), a1);
            a2 = TV.MultiplyAdd(v, TV.Load(s + 2 * w), a2); a3 = TV.MultiplyAdd(v, TV.Load(s + 3 * w), a3);
            a4 = TV.MultiplyAdd(v, TV.Load(s + 4 * w), a4); a5 = TV.MultiplyAdd(v, TV.Load(s + 5 * w), a5);
            a6 = TV.MultiplyAdd(v, TV.Load(s + 6 * w), a6); a7 = TV.MultiplyAdd(v, TV.Load(s + 7 * w), a7);
        }
        float* d = dst + (long)line * ldd;
        Finish(d, a0, accumulate); Finish(d + w, a1, accumulate); Finish(d + 2 * w, a2, accumulate); Finish(d + 3 * w, a3, accumulate);
        Finish(d + 4 * w, a4, accumulate); Finish(d + 5 * w, a5, accumulate); Finish(d + 6 * w, a6, accumulate); Finish(d + 7 * w, a7, accumulate);
    }

    /// <summary>Four vectors' columns (32 or 64) of lines <paramref name="line"/> and the next (or of the one line alone when <paramref name="single"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void TwoLines<TV>(int* starts, int* indices, float* values, int line, float* src, int ld, float* dst, int ldd, float* bias,
                                     bool accumulate, bool single = false) where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count;
        var a0 = Start<TV>(bias, 0); var a1 = Start<TV>(bias, w); var a2 = Start<TV>(bias, 2 * w); var a3 = Start<TV>(bias, 3 * w);
        var b0 = a0; var b1 = a1; var b2 = a2; var b3 = a3;
        int pa = starts[line], ea = starts[line + 1], pb = ea, eb = single ? ea : starts[line + 2];
        int both = Math.Min(ea - pa, eb - pb);
        for (int t = 0; t < both; t++, pa++, pb++)
        {
            var va = TV.Splat(values[pa]);
            var vb = TV.Splat(values[pb]);
            float* sa = src + (long)indices[pa] * ld;
            float* sb = src + (long)indices[pb] * ld;
            a0 = TV.MultiplyAdd(va, TV.Load(sa), a0); a1 = TV.MultiplyAdd(va, TV.Load(sa + w), a1);
            a2 = TV.MultiplyAdd(va, TV.Load(sa + 2 * w), a2); a3 = TV.MultiplyAdd(va, TV.Load(sa + 3 * w), a3);
            b0 = TV.MultiplyAdd(vb, TV.Load(sb), b0); b1 = TV.MultiplyAdd(vb, TV.Load(sb + w), b1);
            b2 = TV.MultiplyAdd(vb, TV.Load(sb + 2 * w), b2); b3 = TV.MultiplyAdd(vb, TV.Load(sb + 3 * w), b3);
        }
        for (; pa < ea; pa++)
        {
            var va = TV.Splat(values[pa]);
            float* sa = src + (long)indices[pa] * ld;
            a0 = TV.MultiplyAdd(va, TV.Load(sa), a0); a1 = TV.MultiplyAdd(va, TV.Load(sa + w), a1);
            a2 = TV.MultiplyAdd(va, TV.Load(sa + 2 * w), a2); a3 = TV.MultiplyAdd(va, TV.Load(sa + 3 * w), a3);
        }
        for (; pb < eb; pb++)
        {
            var vb = TV.Splat(values[pb]);
            float* sb = src + (long)indices[pb] * ld;
            b0 = TV.MultiplyAdd(vb, TV.Load(sb), b0); b1 = TV.MultiplyAdd(vb, TV.Load(sb + w), b1);
            b2 = TV.MultiplyAdd(vb, TV.Load(sb + 2 * w), b2); b3 = TV.MultiplyAdd(vb, TV.Load(sb + 3 * w), b3);
        }
        float* d = dst + (long)line * ldd;
        Finish(d, a0, accumulate); Finish(d + w, a1, accumulate); Finish(d + 2 * w, a2, accumulate); Finish(d + 3 * w, a3, accumulate);
        if (single) return;
        d += ldd;
        Finish(d, b0, accumulate); Finish(d + w, b1, accumulate); Finish(d + 2 * w, b2, accumulate); Finish(d + 3 * w, b3, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Start<TV>(float* bias, int j) where TV : struct, IFloatVector<TV> => bias != null ? TV.Load(bias + j) : TV.Splat(0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TV>(float* d, TV a, bool accumulate) where TV : struct, IFloatVector<TV> => TV.Store(d, accumulate ? a + TV.Load(d) : a);

    /// <summary>8 columns of lines <paramref name="line"/> to line + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void Lines4x8(int* starts, int* indices, float* values, int line, float* src, int ld, float* dst, int ldd, float* bias, bool accumulate)
    {
        var a0 = Start(bias, 0);
        var a1 = a0; var a2 = a0; var a3 = a0;
        int p0 = starts[line], e0 = starts[line + 1], p1 = e0, e1 = starts[line + 2], p2 = e1, e2 = starts[line + 3], p3 = e2, e3 = starts[line + 4];
        int all = Math.Min(Math.Min(e0 - p0, e1 - p1), Math.Min(e2 - p2, e3 - p3));
        for (int t = 0; t < all; t++, p0++, p1++, p2++, p3++)
        {
            a0 = Fma.MultiplyAdd(Vector256.Create(values[p0]), Avx.LoadVector256(src + (long)indices[p0] * ld), a0);
            a1 = Fma.MultiplyAdd(Vector256.Create(values[p1]), Avx.LoadVector256(src + (long)indices[p1] * ld), a1);
            a2 = Fma.MultiplyAdd(Vector256.Create(values[p2]), Avx.LoadVector256(src + (long)indices[p2] * ld), a2);
            a3 = Fma.MultiplyAdd(Vector256.Create(values[p3]), Avx.LoadVector256(src + (long)indices[p3] * ld), a3);
        }
        for (; p0 < e0; p0++) a0 = Fma.MultiplyAdd(Vector256.Create(values[p0]), Avx.LoadVector256(src + (long)indices[p0] * ld), a0);
        for (; p1 < e1; p1++) a1 = Fma.MultiplyAdd(Vector256.Create(values[p1]), Avx.LoadVector256(src + (long)indices[p1] * ld), a1);
        for (; p2 < e2; p2++) a2 = Fma.MultiplyAdd(Vector256.Create(values[p2]), Avx.LoadVector256(src + (long)indices[p2] * ld), a2);
        for (; p3 < e3; p3++) a3 = Fma.MultiplyAdd(Vector256.Create(values[p3]), Avx.LoadVector256(src + (long)indices[p3] * ld), a3);
        float* d = dst + (long)line * ldd;
        Finish(d, a0, accumulate); Finish(d + ldd, a1, accumulate); Finish(d + 2L * ldd, a2, accumulate); Finish(d + 3L * ldd, a3, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static void Line8(int* starts, int* indices, float* values, int line, float* src, int ld, float* dst, int ldd, float* bias, bool accumulate)
    {
        var a = Start(bias, 0);
        for (int p = starts[line], e = starts[line + 1]; p < e; p++)
            a = Fma.MultiplyAdd(Vector256.Create(values[p]), Avx.LoadVector256(src + (long)indices[p] * ld), a);
        Finish(dst + (long)line * ldd, a, accumulate);
    }

    /// <summary>Writes the nonzeros of one row and their columns, in order, and returns how many; the vector path writes up to 7 values past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static int Compress(float* x, int length, float* values, int* cols)
    {
        int p = 0, k = 0;
        if (Vectorized)
        {
            // Branch-free: a table of permutations moves the selected lanes to the front (MNIST's pixels switch
            // between zero and not too often for a loop over the set bits to predict).
            fixed (int* table = s_compress)
                for (; k + 8 <= length; k += 8)
                {
                    var v = Avx.LoadVector256(x + k);
                    int mask = Avx.MoveMask(Avx.CompareNotEqual(v, Vector256<float>.Zero));
                    if (mask == 0) continue;
                    var perm = Avx.LoadVector256(table + mask * 8);
                    Avx.Store(values + p, Avx2.PermuteVar8x32(v, perm));
                    Avx.Store(cols + p, Avx2.Add(perm, Vector256.Create(k)));
                    p += BitOperations.PopCount((uint)mask);
                }
        }
        for (; k < length; k++)
            if (x[k] != 0) { values[p] = x[k]; cols[p] = k; p++; }
        return p;
    }

    /// <summary>For each 8-bit mask, the lanes whose bit is set, in order, then zeros: 256 × 8 lane numbers.</summary>
    private static readonly int[] s_compress = BuildCompressTable();

    private static int[] BuildCompressTable()
    {
        var table = new int[256 * 8];
        for (int mask = 0; mask < 256; mask++)
        {
            int o = 0;
            for (int lane = 0; lane < 8; lane++)
                if ((mask >> lane & 1) != 0) table[mask * 8 + o++] = lane;
        }
        return table;
    }

    /// <summary>
    /// Sorts the loaded batch's nonzeros by column (a counting sort; rows stay ascending), as the first transposed product
    /// after a load does: call it first when several threads will run transposed products on this batch at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing is loaded.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    public void BuildColumns()
    {
        if (!Loaded) throw new InvalidOperationException("No batch is loaded (TryLoad found it too dense, or was not called).");
        if (_columnsBuilt) return;
        if (_colStart.Length < _width + 1) { _colStart = new int[_width + 1]; _next = new int[_width]; }
        if (_rowsOfCol.Length < _count) { _rowsOfCol = new int[_values.Length]; _colValues = new float[_values.Length]; }
        int width = _width, count = _count;
        var starts = _colStart.AsSpan(0, width + 1);
        starts.Clear();
        foreach (int k in _cols.AsSpan(0, count)) starts[k + 1]++;
        for (int k = 0; k < width; k++) starts[k + 1] += starts[k];
        starts[..width].CopyTo(_next);
        fixed (int* rowStart = _rowStart, cols = _cols, next = _next, rowsOfCol = _rowsOfCol)
        fixed (float* values = _values, colValues = _colValues)
            Scatter(rowStart, _rows, cols, values, next, rowsOfCol, colValues);
        _columnsBuilt = true;
    }

    /// <summary>
    /// Each row's entries to their columns' next free places. A method of its own, with nothing but pointers: inside
    /// BuildColumns the JIT kept the pinned arrays on the stack and reloaded three of them on every nonzero (45 → 30 µs
    /// for 50 of MNIST's rows). Still ~3.5 ns a nonzero: the stores scatter over the batch's width; sorting in windows
    /// of 32–128 columns, or transposing the dense batch eight columns at a time and compressing each, was no faster.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)] // per-step path; its own registers
    private static void Scatter(int* rowStart, int rows, int* cols, float* values, int* next, int* rowsOfCol, float* colValues)
    {
        for (int r = 0; r < rows; r++)
            for (int q = rowStart[r], e = rowStart[r + 1]; q < e; q++)
            {
                int d = next[cols[q]]++;
                rowsOfCol[d] = r;
                colValues[d] = values[q];
            }
    }
}
