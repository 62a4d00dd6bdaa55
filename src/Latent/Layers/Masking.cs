using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Marks the padded steps of variable-length sequences, as Keras's <c>Masking</c>: a step whose features all equal
/// <see cref="MaskValue"/> is masked. Shapes: x (B, T, F) → y (B, T, F), with y = x at kept steps and 0 at masked
/// ones, and the mask m (B, T) (1 keep, 0 skip) as a second output (<see cref="Layer.ApplyAll"/>).
/// </summary>
/// <remarks>
/// The mask travels with the sequence (<see cref="SymbolicTensor.Mask"/>) through layers that act step by step
/// (Dense, Activation, Dropout, GaussianNoise, <see cref="TimeDistributed"/>) to the layers that use it: an
/// <see cref="LSTM"/> or <see cref="GRU"/> leaves its states as they were at a masked step (its last output is the
/// state after the last kept step) and, with <c>returnSequences</c>, outputs zeros there; a model output that still
/// carries the mask leaves masked steps out of its loss, whose mean is then over the kept steps only.
/// A mask does not pass a <see cref="RepeatVector"/> (the repeated code has no padding), as in Keras.
/// </remarks>
public sealed class Masking : Layer, IConfigurableLayer<Masking>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maskValue">The padding value: a step whose features all equal it is skipped.</param>
    /// <param name="name">Layer name; generated when null.</param>
    /// <exception cref="ArgumentException"><paramref name="maskValue"/> is NaN (no step would ever equal it).</exception>
    public Masking(double maskValue = 0, string? name = null) : base(name)
    {
        if (double.IsNaN(maskValue)) throw new ArgumentException("A mask value cannot be NaN: no step equals NaN. Received: maskValue=NaN.", nameof(maskValue));
        MaskValue = maskValue;
    }

    /// <summary>The padding value.</summary>
    public double MaskValue { get; }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        if (inputShapes[0].Length < 2)
            throw new ArgumentException($"Masking '{Name}' expects sequences of shape (batch, timesteps, features...), received {ShapeUtil.FormatBatch(inputShapes[0])}.");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => [.. inputShapes[0]];

    /// <inheritdoc />
    protected internal override int[][] ComputeOutputShapes(IReadOnlyList<int[]> inputShapes) => [[.. inputShapes[0]], [inputShapes[0][0]]];

    /// <summary>The sequence carries the mask this layer computes (its second output).</summary>
    private protected override void SetOutputMasks(IReadOnlyList<SymbolicTensor> outputs, SymbolicTensor? mask) => outputs[0].Mask = outputs[1];

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        int rows = ctx.Batch * ctx.InputShape(0)[0], per = ctx.Output.SampleSize / ctx.InputShape(0)[0];
        float value = (float)MaskValue;
        var x = ctx.Input(0);
        var y = ctx.OutputValues;
        var m = ctx.OutputValuesAt(1);
        for (int r = 0; r < rows; r++)
        {
            var step = x.Slice(r * per, per);
            bool keep = step.ContainsAnyExcept(value);
            m[r] = keep ? 1 : 0;
            if (keep) step.CopyTo(y.Slice(r * per, per));
            else y.Slice(r * per, per).Clear();
        }
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        if (!ctx.NeedsInputGrad(0)) return;
        int rows = ctx.Batch * ctx.InputShape(0)[0], per = ctx.Output.SampleSize / ctx.InputShape(0)[0];
        var m = ctx.OutputValuesAt(1);
        var dx = ctx.InputGrad(0);
        var dy = ctx.OutputGrad;
        for (int r = 0; r < rows; r++)
            if (m[r] != 0) Kernels.Simd.Add(dx.Slice(r * per, per), dy.Slice(r * per, per), dx.Slice(r * per, per));
    }

    /// <summary>Rows of <paramref name="sequences"/> (samples, timesteps, features...) that have at least one kept step, and the kept steps in all.</summary>
    /// <exception cref="ArgumentException"><paramref name="sequences"/> is not at least 3-D.</exception>
    public (int SamplesWithData, long KeptSteps) Count(Tensor sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Rank < 3)
            throw new ArgumentException($"Masking counts steps of sequences (samples, timesteps, features...), received shape {ShapeUtil.Format(sequences.Shape.ToArray())}.", nameof(sequences));
        int n = sequences.Shape[0], t = sequences.Shape[1], per = (int)(sequences.Length / ((long)n * t)), samples = 0;
        long kept = 0;
        float value = (float)MaskValue;
        var data = sequences.Span;
        for (int i = 0; i < n; i++)
        {
            int k = 0;
            for (int s = 0; s < t; s++)
                if (data.Slice((i * t + s) * per, per).ContainsAnyExcept(value)) k++;
            kept += k;
            if (k > 0) samples++;
        }
        return (samples, kept);
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("mask_value", MaskValue);

    /// <inheritdoc />
    public static Masking FromConfig(LayerConfig c) => new(c.GetDouble("mask_value", 0), c.Name);
}
