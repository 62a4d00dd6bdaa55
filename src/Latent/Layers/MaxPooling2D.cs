using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Max pooling, channels last: <c>y[b, o, q, c] = max_{i,j} x[b, o·sh + i − pt, q·sw + j − pl, c]</c> over a
/// ph × pw window (cells outside the image are skipped, as in Keras's "same"). Output sizes follow Conv2D's rules
/// with the pool size as the kernel. Backward sends each output's gradient to the input cell that won
/// (the first, on ties): <c>dx[argmax] += dy</c>; the winners are kept in the workspace.
/// </summary>
public sealed class MaxPooling2D : Layer, IConfigurableLayer<MaxPooling2D>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">(ph, pw); (2, 2) when null.</param>
    /// <param name="strides">(sh, sw); the pool size when null.</param>
    /// <param name="padding">"valid" or "same".</param>
    public MaxPooling2D((int, int)? poolSize = null, (int, int)? strides = null, string padding = "valid", string? name = null) : base(name)
    {
        PoolSize = ImageShape.Positive(poolSize ?? (2, 2), nameof(poolSize));
        Strides = ImageShape.Positive(strides ?? PoolSize, nameof(strides));
        Same = ImageShape.Padding(padding);
    }

    /// <summary>(ph, pw).</summary>
    public (int, int) PoolSize { get; }
    /// <summary>(sh, sw).</summary>
    public (int, int) Strides { get; }
    /// <summary>"same" padding (else "valid").</summary>
    public bool Same { get; }

    private ConvGeometry Geometry(IReadOnlyList<int> s) =>
        ConvGeometry.Forward(s[0], s[1], s[2], PoolSize.Item1, PoolSize.Item2, Strides.Item1, Strides.Item2, Same);

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        var (h, w, _) = ImageShape.Of(this, inputShapes[0]);
        var g = Geometry(inputShapes[0]);
        if (g.OH <= 0 || g.OW <= 0)
            throw new ArgumentException($"MaxPooling2D '{Name}': a {PoolSize.Item1}×{PoolSize.Item2} pool is larger than its {h}×{w} input with \"valid\" padding.");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes)
    {
        ImageShape.Of(this, inputShapes[0]);
        var g = Geometry(inputShapes[0]);
        return [g.OH, g.OW, g.C];
    }

    /// <inheritdoc />
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) => ShapeUtil.Product(outputShape);

    private static readonly Vector256<int> Lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);

    /// <summary>Output (oh, ow)'s window: its top-left input cell, and the rows [i0, i1) and columns [j0, j1) inside the image.</summary>
    private static (int Ih0, int Iw0, int I0, int I1, int J0, int J1) Window(in ConvGeometry g, int oh, int ow)
    {
        int ih0 = oh * g.SH - g.PadTop, iw0 = ow * g.SW - g.PadLeft;
        return (ih0, iw0, Math.Max(0, -ih0), Math.Min(g.KH, g.H - ih0), Math.Max(0, -iw0), Math.Min(g.KW, g.W - iw0));
    }

    /// <summary>A 2×2 window wholly inside the image (every window of the usual pooling but a "same" edge's):
    /// its four cells are at fixed offsets, so the window loops unroll (the loops' bounds cost more than the maxima).</summary>
    private static bool IsFullQuad(in ConvGeometry g, int i0, int i1, int j0, int j1) =>
        g.KH == 2 && g.KW == 2 && i0 == 0 && j0 == 0 && i1 == 2 && j1 == 2;

    /// <summary>The generic loop's running max and index over cells at, at + c, at + down, at + down + c, in its order.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void MaxQuad(float* xs, int at, int down, int c, int vec, float* yo, int* ao)
    {
        for (int k = 0; k < vec; k += 8)
        {
            var index = Vector256.Create(at + k) + Lanes;
            float* p = xs + at + k;
            var best = Vector256.Create(float.NegativeInfinity);
            var where = Vector256<int>.Zero;
            Take(Vector256.Load(p), index, ref best, ref where);
            Take(Vector256.Load(p + c), index + Vector256.Create(c), ref best, ref where);
            Take(Vector256.Load(p + down), index + Vector256.Create(down), ref best, ref where);
            Take(Vector256.Load(p + down + c), index + Vector256.Create(down + c), ref best, ref where);
            best.Store(yo + k);
            where.Store(ao + k);
        }
    }

    /// <summary>One cell of the running max over a window, eight channels: taken if larger than the best so far, or NaN.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector256<float> v, Vector256<int> index, ref Vector256<float> best, ref Vector256<int> where)
    {
        var take = Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v);   // larger, or NaN
        best = Vector256.ConditionalSelect(take, v, best);
        where = Vector256.ConditionalSelect(take.AsInt32(), index, where);
    }

    /// <summary>Backward of <see cref="MaxQuad"/>: each of the four cells adds dy where it is the winner.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void RouteQuad(float* dxs, int at, int down, int c, int vec, float* dy, int* winners, bool store)
    {
        for (int k = 0; k < vec; k += 8)
        {
            var winner = Vector256.Load(winners + k);
            var d = Vector256.Load(dy + k);
            var index = Vector256.Create(at + k) + Lanes;
            float* p = dxs + at + k;
            if (store)
            {
                // The windows tile the image: each cell is this window's alone, so it is written, not added to.
                (d & Vector256.Equals(winner, index).AsSingle()).Store(p);
                (d & Vector256.Equals(winner, index + Vector256.Create(c)).AsSingle()).Store(p + c);
                (d & Vector256.Equals(winner, index + Vector256.Create(down)).AsSingle()).Store(p + down);
                (d & Vector256.Equals(winner, index + Vector256.Create(down + c)).AsSingle()).Store(p + down + c);
                continue;
            }
            AddWhereWinner(p, d, winner, index);
            AddWhereWinner(p + c, d, winner, index + Vector256.Create(c));
            AddWhereWinner(p + down, d, winner, index + Vector256.Create(down));
            AddWhereWinner(p + down + c, d, winner, index + Vector256.Create(down + c));
        }
    }

    /// <summary>Eight cells (input indices <paramref name="index"/>) add dy in the lanes where they are the winner.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddWhereWinner(float* cell, Vector256<float> d, Vector256<int> winner, Vector256<int> index) =>
        (Vector256.Load(cell) + (d & Vector256.Equals(winner, index).AsSingle())).Store(cell);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    protected internal override unsafe void Forward(NodeContext ctx)
    {
        var g = Geometry(ctx.InputShape(0));
        int c = g.C, inSize = g.H * g.W * c, outSize = g.Positions * c;
        int vec = Vector256.IsHardwareAccelerated ? c & ~7 : 0;
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        var arg = MemoryMarshal.Cast<float, int>(ctx.Workspace);    // the winner's index within the sample
        if (x.Length < ctx.Batch * inSize || y.Length < ctx.Batch * outSize || arg.Length < ctx.Batch * outSize)
            throw new InvalidOperationException("MaxPooling2D: a buffer is shorter than the batch.");
        fixed (float* px = x, py = y)
        fixed (int* pa = arg)
        {
            for (int b = 0; b < ctx.Batch; b++)
            {
                float* xs = px + (long)b * inSize;
                for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    long o = (long)b * outSize + (oh * g.OW + ow) * c;
                    float* yo = py + o;
                    int* ao = pa + o;
                    var (ih0, iw0, i0, i1, j0, j1) = Window(g, oh, ow);
                    bool quad = IsFullQuad(g, i0, i1, j0, j1);
                    if (quad) MaxQuad(xs, (ih0 * g.W + iw0) * c, g.W * c, c, vec, yo, ao);
                    for (int k = quad ? vec : 0; k < vec; k += 8)     // eight channels at a time: the running max and its index
                    {
                        var best = Vector256.Create(float.NegativeInfinity);
                        var where = Vector256<int>.Zero;
                        for (int i = i0; i < i1; i++)
                        for (int j = j0; j < j1; j++)
                        {
                            int at = ((ih0 + i) * g.W + iw0 + j) * c + k;
                            Take(Vector256.Load(xs + at), Vector256.Create(at) + Lanes, ref best, ref where);
                        }
                        best.Store(yo + k);
                        where.Store(ao + k);
                    }
                    for (int k = vec; k < c; k++)
                    {
                        float best = float.NegativeInfinity;
                        int where = 0;
                        for (int i = i0; i < i1; i++)
                        for (int j = j0; j < j1; j++)
                        {
                            int at = ((ih0 + i) * g.W + iw0 + j) * c + k;
                            float v = xs[at];
                            if (v > best || float.IsNaN(v)) { best = v; where = at; }
                        }
                        yo[k] = best;
                        ao[k] = where;
                    }
                }
            }
        }
    }

    internal override bool CanWriteInputGrads => true;

    /// <inheritdoc />
    protected internal override unsafe void Backward(NodeContext ctx)
    {
        if (!ctx.NeedsInputGrad(0)) return;
        var g = Geometry(ctx.InputShape(0));
        int inSize = g.H * g.W * g.C, outSize = g.Positions * g.C;
        var dy = ctx.OutputGrad;
        var dx = ctx.InputGrad(0);
        var arg = MemoryMarshal.Cast<float, int>(ctx.Workspace);
        if (dx.Length < ctx.Batch * inSize || dy.Length < ctx.Batch * outSize || arg.Length < ctx.Batch * outSize)
            throw new InvalidOperationException("MaxPooling2D: a buffer is shorter than the batch.");
        int c = g.C, vec = Vector256.IsHardwareAccelerated ? c & ~7 : 0;
        bool write = ctx.WritesInputGrad(0);
        // 2×2 windows, stride 2, even sizes, channels in whole vectors: every cell lies in exactly one full window, so
        // the gradient is written window by window with no clearing first.
        bool tiles = write && g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.H % 2 == 0 && g.W % 2 == 0 && vec == c;
        fixed (float* pdx = dx, pdy = dy)
        fixed (int* pa = arg)
        {
            for (int b = 0; b < ctx.Batch; b++)
            {
                float* dxs = pdx + (long)b * inSize;      // arg holds indices within the sample, all below inSize
                if (write && !tiles) new Span<float>(dxs, inSize).Clear();   // one sample's gradient, cleared while it fits in cache
                for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    long o = (long)b * outSize + (oh * g.OW + ow) * c;
                    var (ih0, iw0, i0, i1, j0, j1) = Window(g, oh, ow);
                    bool quad = IsFullQuad(g, i0, i1, j0, j1);
                    if (quad) RouteQuad(dxs, (ih0 * g.W + iw0) * c, g.W * c, c, vec, pdy + o, pa + o, tiles);
                    // Eight channels at a time, in order through the window: each cell adds dy where it is the winner
                    // (the same sums as adding dy at each winner, without the scattered read-modify-writes).
                    for (int k = quad ? vec : 0; k < vec; k += 8)
                    {
                        var winner = Vector256.Load(pa + o + k);
                        var d = Vector256.Load(pdy + o + k);
                        for (int i = i0; i < i1; i++)
                        for (int j = j0; j < j1; j++)
                        {
                            int at = ((ih0 + i) * g.W + iw0 + j) * c + k;
                            AddWhereWinner(dxs + at, d, winner, Vector256.Create(at) + Lanes);
                        }
                    }
                    for (int k = vec; k < c; k++) dxs[pa[o + k]] += pdy[o + k];
                }
            }
        }
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        config.Set("pool_size", [PoolSize.Item1, PoolSize.Item2]);
        config.Set("strides", [Strides.Item1, Strides.Item2]);
        config.Set("padding", ImageShape.PaddingName(Same));
    }

    /// <inheritdoc />
    public static MaxPooling2D FromConfig(LayerConfig c)
    {
        var p = c.GetInts("pool_size", 2);
        var s = c.GetInts("strides", 2);
        if (p.Length != 2 || s.Length != 2) throw new FormatException("'pool_size' and 'strides' must hold two integers");
        return new((p[0], p[1]), (s[0], s[1]), c.GetString("padding"), c.Name);
    }
}
