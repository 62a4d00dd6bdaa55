using Latent.Activations;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Applies <see cref="InnerLayer"/> to every step of a sequence alone, as Keras's <c>TimeDistributed</c>:
/// x (B, T, rest...) → y (B, T, out...), with y[:, t] = layer(x[:, t]) and the same weights at every step. It runs
/// the layer once on the B·T steps as one batch, so a step costs what a sample costs.
/// </summary>
/// <remarks>
/// <para>For <see cref="Dense"/> it is not needed: a Dense layer on a (B, T, F) sequence already acts on the last axis
/// at every step, computing exactly what <c>TimeDistributed(Dense)</c> computes (Keras says the same). It matters for
/// layers that see a whole sample: a <see cref="Conv2D"/> or <see cref="Flatten"/> on each frame of a (B, T, H, W, C)
/// clip, or a whole sub-model's layer.</para>
/// <para>The inner layer's output activation stays declared (the executor applies it, fused with the loss where it
/// can be); its weights are this layer's <see cref="Layer.Weights"/>. A sequence keeps its mask. Inner layers with an
/// activity regularizer or several outputs are refused.</para>
/// </remarks>
public sealed class TimeDistributed : Layer, IConfigurableLayer<TimeDistributed>
{
    /// <summary>Wraps <paramref name="layer"/>, built or not (its weights are shared with any other use of it).</summary>
    /// <exception cref="ArgumentException">An input layer, a layer with an activity regularizer, or a wrapper of a wrapper.</exception>
    public TimeDistributed(Layer layer, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (layer is InputLayer)
            throw new ArgumentException($"TimeDistributed wraps a layer that computes; received the input layer '{layer.Name}'.", nameof(layer));
        if (layer.ActivityRegularizer is not null)
            throw new ArgumentException($"TimeDistributed cannot wrap '{layer.Name}': it has an activity regularizer; put the penalty on the TimeDistributed output instead.", nameof(layer));
        InnerLayer = layer;
        Trainable = layer.Trainable;
    }

    /// <summary>The layer applied at every step.</summary>
    public Layer InnerLayer { get; }

    /// <inheritdoc />
    public override string TypeName => $"TimeDistributed({InnerLayer.TypeName})";

    /// <inheritdoc />
    public override ActivationFunction? OutputActivation => InnerLayer.OutputActivation;

    /// <inheritdoc />
    protected internal override bool NeedsWholeBatch => InnerLayer.NeedsWholeBatch;

    /// <inheritdoc />
    protected internal override bool SumsOverShares => InnerLayer.SumsOverShares;

    /// <inheritdoc />
    protected internal override bool PropagatesMask => true;

    /// <inheritdoc />
    private protected override void OnTrainableChanged(bool trainable)
    {
        if (InnerLayer is not null) InnerLayer.Trainable = trainable;
    }

    private static int[] StepShape(int[] shape) => shape[1..];

    /// <inheritdoc />
    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        CheckSequence(inputShapes[0]);
        InnerLayer.BuildFor([StepShape(inputShapes[0])]);
        TrackWeightsOf(InnerLayer);
    }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        CheckSequence(inputShapes[0]);
        var outs = InnerLayer.BuildFor([StepShape(inputShapes[0])]);
        if (outs.Length != 1)
            throw new ArgumentException($"TimeDistributed '{Name}' wraps '{InnerLayer.Name}', which has {outs.Length} outputs; it takes layers with one.");
    }

    private void CheckSequence(int[] shape)
    {
        if (shape.Length < 2)
            throw new ArgumentException($"TimeDistributed '{Name}' expects sequences of shape (batch, timesteps, ...), received {ShapeUtil.FormatBatch(shape)}.");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) =>
        [inputShapes[0][0], .. InnerLayer.ComputeOutputShape([StepShape(inputShapes[0])])];

    /// <summary>The inner layer's workspace for each of the T steps.</summary>
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) =>
        checked(inputShapes[0][0] * InnerLayer.WorkspacePerSample([StepShape(inputShapes[0])], outputShape[1..]));

    /// <summary>The inner call: views of this call's buffers with one step per sample, T times as many samples.</summary>
    private NodeContext Inner(NodeContext ctx)
    {
        if (ctx.LayerState is NodeContext inner) return inner;
        int steps = ctx.InputShape(0)[0];
        var input = ctx.Inputs[0];
        var output = ctx.Output;
        var stepIn = new TensorBuffer(StepShape(input.SampleShape), input.Value, input.Grad);
        var stepOut = new TensorBuffer(StepShape(output.SampleShape), output.Value, output.Grad);
        int workspace = InnerLayer.WorkspacePerSample([stepIn.SampleShape], stepOut.SampleShape);
        inner = ctx.CreateInner([stepIn], [stepOut], [ctx.NeedsInputGrad(0)], workspace, ctx.Capacity * steps, ctx.WorkspaceOffset, mask: null);
        ctx.LayerState = inner;
        return inner;
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var inner = Inner(ctx);
        ctx.BeginInner(inner, ctx.InputShape(0)[0], salt: 0);
        InnerLayer.Forward(inner);
        ctx.AddedLoss += inner.AddedLoss;
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx) => InnerLayer.Backward(Inner(ctx));

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("layer", InnerLayer);

    /// <inheritdoc />
    public static TimeDistributed FromConfig(LayerConfig c) => new(c.GetLayer("layer"), c.Name);
}
