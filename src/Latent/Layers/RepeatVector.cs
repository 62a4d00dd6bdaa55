using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Repeats each sample's vector <see cref="Times"/> times along a new time axis: (B, D) → (B, n, D), as Keras's
/// <c>RepeatVector</c>. A sequence autoencoder feeds its code to the decoder's every step this way.
/// Backward: <c>dx += Σₜ dyₜ</c>.
/// </summary>
/// <remarks>An <see cref="LSTM"/> or <see cref="GRU"/> reading a RepeatVector's output (unmasked) knows every step's input is
/// the same: it projects it once per sample instead of once per step, and computes its input-side gradients from the
/// δ summed over the steps (1/T of the work), which gives the same results as the general path (tested).</remarks>
public sealed class RepeatVector : Layer, IConfigurableLayer<RepeatVector>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not positive.</exception>
    public RepeatVector(int n, string? name = null) : base(name)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"Expected a positive number of repetitions. Received: n={n}.");
        Times = n;
    }

    /// <summary>n, the length of the output sequence.</summary>
    public int Times { get; }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        if (inputShapes[0].Length != 1)
            throw new ArgumentException($"RepeatVector '{Name}' expects vectors of shape (batch, features), received {ShapeUtil.FormatBatch(inputShapes[0])}.");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => [Times, inputShapes[0][0]];

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        int d = ctx.InputShape(0)[0];
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        for (int b = 0; b < ctx.Batch; b++)
            for (int t = 0; t < Times; t++)
                x.Slice(b * d, d).CopyTo(y.Slice((b * Times + t) * d, d));
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (!ctx.NeedsInputGrad(0)) return;
        int d = ctx.InputShape(0)[0];
        var dx = ctx.InputGrad(0);
        var dy = ctx.OutputGrad;
        for (int b = 0; b < ctx.Batch; b++)
            for (int t = 0; t < Times; t++)
                Kernels.Simd.Add(dx.Slice(b * d, d), dy.Slice((b * Times + t) * d, d), dx.Slice(b * d, d));
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("n", Times);

    /// <inheritdoc />
    public static RepeatVector FromConfig(LayerConfig c) => new(c.GetInt("n"), c.Name);
}
