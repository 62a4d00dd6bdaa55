using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Runs a recurrent layer over a sequence forwards and a copy of it backwards and merges the two, as Keras's
/// <c>Bidirectional</c>. With H units each: y (B, 2H) for <c>"concat"</c> (forward state, then backward state), or
/// (B, H) for <c>"sum"</c>, <c>"mul"</c>, <c>"ave"</c>; with <c>returnSequences</c> (B, T, ·), where the backward
/// layer's outputs are put back in time order first, so step t merges the forward state after reading x₀…xₜ with
/// the backward state after reading x_{T−1}…xₜ. With merge mode <c>null</c> the two are separate outputs.
/// </summary>
/// <remarks>
/// <para>The layer given is a template, as in Keras: this layer makes a forward copy named "forward_" + its name and a
/// backward copy (<c>goBackwards</c> flipped) named "backward_" + its name, each with its own weights (or takes the
/// <c>backwardLayer</c> given). With <c>returnState</c> the outputs are y, then the forward layer's final states, then
/// the backward layer's (<see cref="Layer.ApplyAll"/>). A mask reaches both layers.</para>
/// <para>Backward: <c>"concat"</c> splits ∂loss/∂y; <c>"sum"</c> passes it to both, <c>"ave"</c> half to each;
/// <c>"mul"</c> gives the forward side <c>dy ⊙ y_b</c> and the backward side <c>dy ⊙ y_f</c>. Both layers add
/// their ∂loss/∂x into the input's gradient.</para>
/// </remarks>
public sealed class Bidirectional : Layer, IConfigurableLayer<Bidirectional>
{
    private static readonly string?[] Modes = ["concat", "sum", "mul", "ave", null];

    /// <summary>Wraps copies of <paramref name="layer"/>.</summary>
    /// <param name="layer">An <see cref="LSTM"/> or <see cref="GRU"/>: the template of both directions.</param>
    /// <param name="mergeMode">"concat" (default), "sum", "mul", "ave", or null for two outputs.</param>
    /// <param name="backwardLayer">The backward direction, when it should differ from a copy of <paramref name="layer"/>:
    /// it must read the other way round and agree on <c>returnSequences</c> and <c>returnState</c>.</param>
    /// <param name="name">Layer name; generated when null.</param>
    /// <exception cref="ArgumentException">An unknown merge mode, or a backward layer that does not fit.</exception>
    public Bidirectional(Recurrent layer, string? mergeMode = "concat", Recurrent? backwardLayer = null, string? name = null)
        : this(Copy(layer, "forward_", flip: false), backwardLayer ?? Copy(layer, "backward_", flip: true), mergeMode, name, check: true) { }

    private Bidirectional(Recurrent forward, Recurrent backward, string? mergeMode, string? name, bool check) : base(name)
    {
        if (!Modes.Contains(mergeMode))
            throw new ArgumentException($"Unknown merge mode '{mergeMode}'. Expected one of: concat, sum, mul, ave, or null.", nameof(mergeMode));
        if (check && forward.GoBackwards == backward.GoBackwards)
            throw new ArgumentException($"The backward layer '{backward.Name}' must read the other way from the forward one (goBackwards={!forward.GoBackwards}); received goBackwards={backward.GoBackwards}.");
        if (forward.ReturnSequences != backward.ReturnSequences || forward.ReturnState != backward.ReturnState || forward.Units != backward.Units && mergeMode is not ("concat" or null))
            throw new ArgumentException($"Bidirectional's two layers must agree on returnSequences, returnState (and units, unless concatenated); '{forward.Name}' and '{backward.Name}' do not.");
        if (forward.ActivityRegularizer is not null || backward.ActivityRegularizer is not null)
            throw new ArgumentException("Bidirectional cannot wrap a layer with an activity regularizer; put the penalty on the Bidirectional output instead.");
        ForwardLayer = forward;
        BackwardLayer = backward;
        MergeMode = mergeMode;
        Trainable = forward.Trainable;
    }

    /// <summary>The layer that reads the sequence forwards (from its first step).</summary>
    public Recurrent ForwardLayer { get; }

    /// <summary>The layer that reads it backwards.</summary>
    public Recurrent BackwardLayer { get; }

    /// <summary>"concat", "sum", "mul", "ave", or null (two outputs).</summary>
    public string? MergeMode { get; }

    /// <inheritdoc />
    public override string TypeName => $"Bidirectional({ForwardLayer.TypeName})";

    /// <summary>True: both layers skip masked steps.</summary>
    protected internal override bool UsesMask => true;

    private bool Sequences => ForwardLayer.ReturnSequences;

    private int Merged => MergeMode is null ? 2 : 1;

    /// <inheritdoc />
    private protected override void SetOutputMasks(IReadOnlyList<SymbolicTensor> outputs, SymbolicTensor? mask)
    {
        if (!Sequences) return;
        for (int k = 0; k < Merged; k++) outputs[k].Mask = mask;
    }

    /// <inheritdoc />
    private protected override void OnTrainableChanged(bool trainable)
    {
        if (ForwardLayer is null) return;
        ForwardLayer.Trainable = trainable;
        BackwardLayer.Trainable = trainable;
    }

    private static Recurrent Copy(Recurrent layer, string prefix, bool flip)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var spec = ModelConfig.Layer(layer);
        var config = (JsonObject)spec["config"]!;
        config["name"] = prefix + layer.Name;
        if (flip) config["go_backwards"] = !layer.GoBackwards;
        return (Recurrent)ModelConfig.CreateLayer(spec);
    }

    /// <inheritdoc />
    protected override void Build(IReadOnlyList<int[]> inputShapes)
    {
        CheckInputs(inputShapes);
        ForwardLayer.BuildFor(inputShapes);
        BackwardLayer.BuildFor(inputShapes);
        TrackWeightsOf(ForwardLayer);
        TrackWeightsOf(BackwardLayer);
    }

    /// <inheritdoc />
    protected override void ValidateInputShapes(IReadOnlyList<int[]> inputShapes)
    {
        CheckInputs(inputShapes);
        ForwardLayer.BuildFor(inputShapes);
        BackwardLayer.BuildFor(inputShapes);
    }

    private void CheckInputs(IReadOnlyList<int[]> inputShapes)
    {
        if (inputShapes.Count != 1)
            throw new ArgumentException($"Bidirectional '{Name}' takes one sequence; received {inputShapes.Count} inputs (give initial states to the layers themselves).");
    }

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => ComputeOutputShapes(inputShapes)[0];

    /// <inheritdoc />
    protected internal override int[][] ComputeOutputShapes(IReadOnlyList<int[]> inputShapes)
    {
        var f = ForwardLayer.ComputeOutputShapes(inputShapes);
        var b = BackwardLayer.ComputeOutputShapes(inputShapes);
        int[] y = MergeMode == "concat" ? [.. f[0][..^1], f[0][^1] + b[0][^1]] : f[0];
        return MergeMode is null ? [f[0], b[0], .. f[1..], .. b[1..]] : [y, .. f[1..], .. b[1..]];
    }

    /// <summary>Both layers' workspaces, one after the other.</summary>
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape) =>
        checked(ForwardLayer.WorkspacePerSample(inputShapes, ForwardLayer.ComputeOutputShape(inputShapes)) +
                BackwardLayer.WorkspacePerSample(inputShapes, BackwardLayer.ComputeOutputShape(inputShapes)));

    /// <summary>The two inner calls: the same input, each its own outputs, the first half and the second of the workspace.</summary>
    private NodeContext[] Inner(NodeContext ctx)
    {
        if (ctx.LayerState is NodeContext[] inner) return inner;
        var shapes = new[] { ctx.Inputs[0].SampleShape };
        bool grads = ctx.Output.Grad is not null;
        long offset = ctx.WorkspaceOffset;
        inner = new NodeContext[2];
        foreach (var (k, layer) in new[] { (0, ForwardLayer), (1, BackwardLayer) })
        {
            var outs = layer.ComputeOutputShapes(shapes).Select(s => new TensorBuffer(s, ctx.Capacity, grads)).ToArray();
            int workspace = layer.WorkspacePerSample(shapes, outs[0].SampleShape);
            inner[k] = ctx.CreateInner([ctx.Inputs[0]], outs, [ctx.NeedsInputGrad(0)], workspace, ctx.Capacity, offset, ctx.MaskBuffer);
            offset += (long)workspace * ctx.Capacity;
        }
        ctx.LayerState = inner;
        return inner;
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        var inner = Inner(ctx);
        ctx.BeginInner(inner[0], 1, salt: 0);
        ctx.BeginInner(inner[1], 1, salt: 1);
        ForwardLayer.Forward(inner[0]);
        BackwardLayer.Forward(inner[1]);
        var f = inner[0].OutputValues;
        var b = inner[1].OutputValues;
        int steps = Sequences ? ctx.InputShape(0)[0] : 1, hf = ForwardLayer.Units, hb = BackwardLayer.Units;
        var y = ctx.OutputValues;
        for (int n = 0; n < ctx.Batch; n++)
            for (int t = 0; t < steps; t++)
            {
                var fr = f.Slice((n * steps + t) * hf, hf);
                var br = b.Slice((n * steps + steps - 1 - t) * hb, hb);   // the backward output for input time t
                switch (MergeMode)
                {
                    case "concat":
                        fr.CopyTo(y.Slice((n * steps + t) * (hf + hb), hf));
                        br.CopyTo(y.Slice((n * steps + t) * (hf + hb) + hf, hb));
                        break;
                    case null:
                        fr.CopyTo(y.Slice((n * steps + t) * hf, hf));
                        br.CopyTo(ctx.OutputValuesAt(1).Slice((n * steps + t) * hb, hb));
                        break;
                    default:
                        var yr = y.Slice((n * steps + t) * hf, hf);
                        if (MergeMode == "mul") TensorPrimitives.Multiply(fr, br, yr);
                        else Kernels.Simd.Add(fr, br, yr);
                        if (MergeMode == "ave") TensorPrimitives.Multiply(yr, 0.5f, yr);
                        break;
                }
            }
        int states = ForwardLayer.ReturnState ? inner[0].OutputCount - 1 : 0;
        for (int s = 0; s < states; s++)
        {
            inner[0].OutputValuesAt(1 + s).CopyTo(ctx.OutputValuesAt(Merged + s));
            inner[1].OutputValuesAt(1 + s).CopyTo(ctx.OutputValuesAt(Merged + states + s));
        }
        ctx.AddedLoss += inner[0].AddedLoss + inner[1].AddedLoss;
    }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        var inner = Inner(ctx);
        var f = inner[0].OutputValues;
        var b = inner[1].OutputValues;
        var df = inner[0].OutputGrad;
        var db = inner[1].OutputGrad;
        int steps = Sequences ? ctx.InputShape(0)[0] : 1, hf = ForwardLayer.Units, hb = BackwardLayer.Units;
        var dy = ctx.OutputGrad;
        for (int n = 0; n < ctx.Batch; n++)
            for (int t = 0; t < steps; t++)
            {
                int fi = (n * steps + t) * hf, bi = (n * steps + steps - 1 - t) * hb;
                switch (MergeMode)
                {
                    case "concat":
                        dy.Slice((n * steps + t) * (hf + hb), hf).CopyTo(df.Slice(fi, hf));
                        dy.Slice((n * steps + t) * (hf + hb) + hf, hb).CopyTo(db.Slice(bi, hb));
                        break;
                    case null:
                        dy.Slice((n * steps + t) * hf, hf).CopyTo(df.Slice(fi, hf));
                        ctx.OutputGradAt(1).Slice((n * steps + t) * hb, hb).CopyTo(db.Slice(bi, hb));
                        break;
                    case "mul":
                        TensorPrimitives.Multiply(dy.Slice(fi, hf), b.Slice(bi, hb), df.Slice(fi, hf));
                        TensorPrimitives.Multiply(dy.Slice(fi, hf), f.Slice(fi, hf), db.Slice(bi, hb));
                        break;
                    default:
                        dy.Slice(fi, hf).CopyTo(df.Slice(fi, hf));
                        dy.Slice(fi, hf).CopyTo(db.Slice(bi, hb));
                        if (MergeMode == "ave")
                        {
                            TensorPrimitives.Multiply(df.Slice(fi, hf), 0.5f, df.Slice(fi, hf));
                            TensorPrimitives.Multiply(db.Slice(bi, hb), 0.5f, db.Slice(bi, hb));
                        }
                        break;
                }
            }
        int states = ForwardLayer.ReturnState ? inner[0].OutputCount - 1 : 0;
        for (int s = 0; s < states; s++)
        {
            ctx.OutputGradAt(Merged + s).CopyTo(inner[0].OutputGradAt(1 + s));
            ctx.OutputGradAt(Merged + states + s).CopyTo(inner[1].OutputGradAt(1 + s));
        }
        ForwardLayer.Backward(inner[0]);
        BackwardLayer.Backward(inner[1]);
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        config.Set("layer", ForwardLayer);
        config.Set("backward_layer", BackwardLayer);
        config.Set("merge_mode", MergeMode);
    }

    /// <inheritdoc />
    public static Bidirectional FromConfig(LayerConfig c) =>
        new(c.GetLayer("layer") as Recurrent ?? throw new FormatException("a Bidirectional layer wraps an LSTM or GRU"),
            c.GetLayer("backward_layer") as Recurrent ?? throw new FormatException("a Bidirectional layer wraps an LSTM or GRU"),
            c.GetString("merge_mode", null), c.Name, check: true);
}
