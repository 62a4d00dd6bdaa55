using Latent.Initializers;
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
/// The statistics are over the whole batch, so a model with this layer trains each batch on one executor (its
/// matrix products still use every core) rather than splitting the batch across cores, where each share would
/// see different statistics (<see cref="Layer.NeedsWholeBatch"/>).
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
    protected internal override bool NeedsWholeBatch => true;

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
    protected internal override void Forward(NodeContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        int c = _movingMean!.Length, n = x.Length / c;
        var mean = _movingMean.Values;
        var variance = _movingVariance!.Values;
        var gamma = Scale ? _gamma!.Values : default;
        var beta = Center ? _beta!.Values : default;
        if (!ctx.Training)
        {
            for (int i = 0; i < x.Length; i++)
            {
                int k = i % c;
                float xh = (x[i] - mean[k]) / MathF.Sqrt(variance[k] + (float)Epsilon);
                y[i] = (Scale ? gamma[k] : 1f) * xh + (Center ? beta[k] : 0f);
            }
            return;
        }
        var ws = ctx.Workspace;
        var xhat = ws[..x.Length];
        var invStd = ws.Slice(x.Length, c);
        var pooled = System.Buffers.ArrayPool<double>.Shared.Rent(2 * c);   // per-call sums in double, no allocation per step
        var mu = pooled.AsSpan(0, c);
        var sq = pooled.AsSpan(c, c);
        mu.Clear();
        sq.Clear();
        for (int i = 0; i < x.Length; i++) mu[i % c] += x[i];
        for (int k = 0; k < c; k++) mu[k] /= n;
        for (int i = 0; i < x.Length; i++) { double d = x[i] - mu[i % c]; sq[i % c] += d * d; }
        for (int k = 0; k < c; k++)
        {
            double v = sq[k] / n;
            invStd[k] = (float)(1 / Math.Sqrt(v + Epsilon));
            mean[k] = (float)(Momentum * mean[k] + (1 - Momentum) * mu[k]);
            variance[k] = (float)(Momentum * variance[k] + (1 - Momentum) * v);
        }
        for (int i = 0; i < x.Length; i++)
        {
            int k = i % c;
            float xh = (float)((x[i] - mu[k]) * invStd[k]);
            xhat[i] = xh;
            y[i] = (Scale ? gamma[k] : 1f) * xh + (Center ? beta[k] : 0f);
        }
        System.Buffers.ArrayPool<double>.Shared.Return(pooled);
    }

    /// <inheritdoc />
    protected internal override void Backward(NodeContext ctx)
    {
        var dy = ctx.OutputGrad;
        int c = _movingMean!.Length, n = dy.Length / c;
        var ws = ctx.Workspace;
        var xhat = ws[..dy.Length];
        var invStd = ws.Slice(dy.Length, c);
        var pooled = System.Buffers.ArrayPool<double>.Shared.Rent(2 * c);
        var sumDy = pooled.AsSpan(0, c);
        var sumDyXhat = pooled.AsSpan(c, c);
        sumDy.Clear();
        sumDyXhat.Clear();
        for (int i = 0; i < dy.Length; i++) { sumDy[i % c] += dy[i]; sumDyXhat[i % c] += dy[i] * xhat[i]; }
        if (Trainable)
        {
            if (Scale) { var dg = ctx.WeightGrad(_gamma!); for (int k = 0; k < c; k++) dg[k] += (float)sumDyXhat[k]; }
            if (Center) { var db = ctx.WeightGrad(_beta!); for (int k = 0; k < c; k++) db[k] += (float)sumDy[k]; }
        }
        if (ctx.NeedsInputGrad(0))
        {
            var dx = ctx.InputGrad(0);
            var gamma = Scale ? _gamma!.Values : default;
            for (int i = 0; i < dy.Length; i++)
            {
                int k = i % c;
                double g = (Scale ? gamma[k] : 1f) * invStd[k] / n;
                dx[i] += (float)(g * (n * dy[i] - sumDy[k] - xhat[i] * sumDyXhat[k]));
            }
        }
        System.Buffers.ArrayPool<double>.Shared.Return(pooled);
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
