using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Additive Gaussian noise while training, Keras's <c>GaussianNoise(stddev)</c>: <c>y = x + σ·ε</c>, ε ~ N(0, 1)
/// drawn afresh every batch (seeded by Fit); at inference <c>y = x</c>. <c>dx += dy</c> either way.
/// </summary>
public sealed class GaussianNoise : Layer, IConfigurableLayer<GaussianNoise>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stddev"/> is negative or not finite.</exception>
    public GaussianNoise(double stddev, string? name = null) : base(name)
    {
        if (!(stddev >= 0 && double.IsFinite(stddev)))
            throw new ArgumentOutOfRangeException(nameof(stddev), stddev, $"Expected a finite stddev ≥ 0. Received: stddev={stddev}.");
        StdDev = stddev;
    }

    /// <summary>σ.</summary>
    public double StdDev { get; }

    /// <summary>True: it acts on each step alone, so a sequence keeps its mask.</summary>
    protected internal override bool PropagatesMask => true;

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => inputShapes[0];

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var y = ctx.OutputValues;
        if (!ctx.Training || StdDev == 0)
        {
            ctx.Input(0).CopyTo(y);
            return;
        }
        ctx.Random.FillNormal(y, 0, StdDev);
        Kernels.Simd.Add(y, ctx.Input(0), y);
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (ctx.NeedsInputGrad(0)) Kernels.Simd.Add(ctx.InputGrad(0), ctx.OutputGrad, ctx.InputGrad(0));
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("stddev", StdDev);

    /// <inheritdoc />
    public static GaussianNoise FromConfig(LayerConfig c) => new(c.GetDouble("stddev"), c.Name);
}
