using Latent.Initializers;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Batch normalization over the last axis (Ioffe &amp; Szegedy, 2015), Keras's <c>BatchNormalization()</c>: each
/// feature (channel, for images) is normalised over the batch (and the image positions),
/// <c>x̂ = (x − μ_B)/√(σ²_B + ε)</c>, <c>y = γ·x̂ + β</c>, while training; at inference the moving averages are used,
/// <c>y = γ·(x − μ)/√(σ² + ε) + β</c>, updated in training as <c>μ ← m·μ + (1 − m)·μ_B</c> (σ² alike, with the
/// biased batch variance, as Keras). Shapes: x (B, …, C); γ, β, μ, σ² (C,). Backward, with N values per feature:
/// <c>dγ += Σ dy·x̂</c>, <c>dβ += Σ dy</c>, <c>dx += γ/(N·√(σ²_B + ε))·(N·dy − Σ dy − x̂·Σ dy·x̂)</c>.
/// </summary>
/// <remarks>
/// The statistics are over the whole batch even when Fit splits it across cores: the shares add their sums
/// (<see cref="NodeContext.SumOverShares"/>, Σx, then Σ(x − μ_B)², and in Backward Σdy and Σdy·x̂) so each one
/// normalises with the batch's μ_B and σ²_B, as on one core (PyTorch's SyncBatchNorm, not per-share statistics).
/// </remarks>
public sealed class BatchNormalization : Layer, IConfigurableLayer<BatchNormalization>
{
    private Weight? _gamma, _beta, _movingMean, _movingVariance;

    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">m of the moving averages, in [0, 1) (Keras's 0.99).</param>
    /// <param name="epsilon">ε, positive (Keras's 1e-3).</param>
    /// <param name="center">Whether to learn β.</param>
    /// <param name="scale">Whether to learn γ.</param>
    /// <exception cref="ArgumentOutOfRangeException">momentum outside [0, 1), or ε not positive.</exception>
    public BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null) : base(name)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Expected momentum in [0, 1). Received: momentum={momentum}.");
        if (!(epsilon > 0 && double.IsFinite(epsilon))) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Expected a positive epsilon. Received: epsilon={epsilon}.");
        (Momentum, Epsilon, Center, Scale) = (momentum, epsilon, center, scale);
    }

    /// <summary>m.</summary>
    public double Momentum { get; }
    /// <summary>ε.</summary>
    public double Epsilon { get; }
    /// <summary>Whether β is learned.</summary>
    public bool Center { get; }
    /// <summary>Whether γ is learned.</summary>
    public bool Scale { get; }

    /// <inheritdoc />
    protected internal override bool SumsOverShares => true;

    /// <inheritdoc />
    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        int c = inputShapes[0][^1];
        if (Scale) _gamma = AddWeight("gamma", [c], new Constant(1));
        if (Center) _beta = AddWeight("beta", [c], new Constant(0));
        _movingMean = AddWeight("moving_mean", [c], new Constant(0), trainable: false);
        _movingVariance = AddWeight("moving_variance", [c], new Constant(1), trainable: false);
    }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        if (inputShapes[0][^1] != _movingMean!.Length)
            throw new ArgumentException($"BatchNormalization '{Name}' was built for {_movingMean.Length} features, received {ShapeUtil.FormatBatch(inputShapes[0])}.");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    /// <inheritdoc />
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) =>
        ShapeUtil.Product(inputShapes[0]) + 2 * inputShapes[0][^1];   // x̂, and (once) the batch's inverse std and spare

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        int c = _movingMean!.Length;
        var floats = System.Buffers.ArrayPool<float>.Shared.Rent(4 * c);   // per-call factors, no allocation per step
        var scale = floats.AsSpan(0, c);
        var shift = floats.AsSpan(c, c);
        var gamma = Scale ? _gamma!.Values : Fill(floats.AsSpan(2 * c, c), 1f);
        var beta = Center ? _beta!.Values : Fill(floats.AsSpan(3 * c, c), 0f);
        var mean = _movingMean.Values;
        var variance = _movingVariance!.Values;
        if (!ctx.Training)
        {
            for (int k = 0; k < c; k++)
            {
                scale[k] = gamma[k] / MathF.Sqrt(variance[k] + (float)Epsilon);
                shift[k] = beta[k] - mean[k] * scale[k];
            }
            ChannelKernels.Affine(x, c, scale, shift, y);
            System.Buffers.ArrayPool<float>.Shared.Return(floats);
            return;
        }
        var ws = ctx.Workspace;
        var xhat = ws[..x.Length];
        var invStd = ws.Slice(x.Length, c);
        var doubles = System.Buffers.ArrayPool<double>.Shared.Rent(2 * c + 1);
        var sum = doubles.AsSpan(0, c + 1);                                  // Σx per channel, then the count
        var sq = doubles.AsSpan(c + 1, c);
        sum.Clear();
        sq.Clear();
        ChannelKernels.Sum(x, c, sum[..c]);
        sum[c] = x.Length / c;
        ctx.SumOverShares(sum);                                              // the whole batch's, on every core
        double n = sum[c];
        var m = shift;                                                       // μ_B rounded to float, the centre of Σ(x − m)²
        for (int k = 0; k < c; k++) m[k] = (float)(sum[k] / n);
        ChannelKernels.SumSquaredDeviations(x, c, m, sq);
        ctx.SumOverShares(sq);
        bool first = ctx.BatchOffset == 0;                                   // one share updates the shared moving statistics
        for (int k = 0; k < c; k++)
        {
            double mu = sum[k] / n, d = mu - m[k];
            double v = Math.Max(0, sq[k] / n - d * d);                       // biased variance about μ_B, not about m
            invStd[k] = (float)(1 / Math.Sqrt(v + Epsilon));
            if (first)
            {
                mean[k] = (float)(Momentum * mean[k] + (1 - Momentum) * mu);
                variance[k] = (float)(Momentum * variance[k] + (1 - Momentum) * v);
            }
            scale[k] = invStd[k];
            shift[k] = (float)(-mu * invStd[k]);
        }
        ChannelKernels.Affine(x, c, scale, shift, xhat);                    // x̂ = (x − μ_B)/√(σ²_B + ε)
        ChannelKernels.Affine(xhat, c, gamma, beta, y);
        System.Buffers.ArrayPool<double>.Shared.Return(doubles);
        System.Buffers.ArrayPool<float>.Shared.Return(floats);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        var dy = ctx.OutputGrad;
        int c = _movingMean!.Length;
        var ws = ctx.Workspace;
        var xhat = ws[..dy.Length];
        var invStd = ws.Slice(dy.Length, c);
        var doubles = System.Buffers.ArrayPool<double>.Shared.Rent(2 * c + 1);
        var sums = doubles.AsSpan(0, 2 * c + 1);                            // Σ dy, Σ dy·x̂, count
        sums.Clear();
        var sumDy = sums[..c];
        var sumDyXhat = sums.Slice(c, c);
        ChannelKernels.SumAndProducts(dy, xhat, c, sumDy, sumDyXhat);
        if (Trainable)                                                       // this share's part; the shares' parts add up
        {
            if (Scale) { var dg = ctx.WeightGrad(_gamma!); for (int k = 0; k < c; k++) dg[k] += (float)sumDyXhat[k]; }
            if (Center) { var db = ctx.WeightGrad(_beta!); for (int k = 0; k < c; k++) db[k] += (float)sumDy[k]; }
        }
        if (ctx.NeedsInputGrad(0))
        {
            sums[2 * c] = dy.Length / c;
            ctx.SumOverShares(sums);                                         // dx needs the whole batch's sums
            double n = sums[2 * c];
            var floats = System.Buffers.ArrayPool<float>.Shared.Rent(3 * c);
            var onDy = floats.AsSpan(0, c);
            var onXhat = floats.AsSpan(c, c);
            var constant = floats.AsSpan(2 * c, c);
            var gamma = Scale ? _gamma!.Values : default;
            for (int k = 0; k < c; k++)
            {
                double g = (Scale ? gamma[k] : 1f) * invStd[k] / n;
                onDy[k] = (float)(g * n);
                onXhat[k] = (float)(-g * sumDyXhat[k]);
                constant[k] = (float)(-g * sumDy[k]);
            }
            ChannelKernels.AccumulateAffine2(dy, xhat, c, onDy, onXhat, constant, ctx.InputGrad(0));
            System.Buffers.ArrayPool<float>.Shared.Return(floats);
        }
        System.Buffers.ArrayPool<double>.Shared.Return(doubles);
    }

    private static Span<float> Fill(Span<float> span, float value)
    {
        span.Fill(value);
        return span;
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        config.Set("momentum", Momentum);
        config.Set("epsilon", Epsilon);
        config.Set("center", Center);
        config.Set("scale", Scale);
    }

    /// <inheritdoc />
    public static BatchNormalization FromConfig(LayerConfig c) =>
        new(c.GetDouble("momentum"), c.GetDouble("epsilon"), c.GetBool("center", true), c.GetBool("scale", true), c.Name);
}
