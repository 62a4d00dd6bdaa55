using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Latent.Initializers;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Long short-term memory (Hochreiter &amp; Schmidhuber 1997, with a forget gate: Gers et al. 2000), as Keras's
/// <c>LSTM</c>. For each step t, with σ the recurrent activation (sigmoid) and φ the activation (tanh):
/// <code>
/// [iₜ fₜ gₜ oₜ] = [σ σ φ σ](xₜ·W + hₜ₋₁·U + b)      W (D, 4H), U (H, 4H), b (4H), gates in Keras's order i, f, c, o
/// cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ
/// hₜ = oₜ ⊙ φ(cₜ)
/// </code>
/// </summary>
/// <remarks>
/// <para>Keras's defaults: glorot_uniform W, orthogonal U, zero bias with the forget gate's set to 1
/// (<see cref="UnitForgetBias"/>). PyTorch's <c>nn.LSTM</c> computes the same with <c>weight_ih = Wᵀ</c>,
/// <c>weight_hh = Uᵀ</c> (the same gate order, i, f, g, o) and <c>bias_ih + bias_hh = b</c>.</para>
/// <para>Backward, step by step from the last (δ of a gate is ∂loss/∂ its pre-activation):
/// <c>dc = dcₜ₊₁ + dh ⊙ oₜ ⊙ φ'</c>, <c>δo = dh ⊙ φ(cₜ) ⊙ σ'</c>, <c>δi = dc ⊙ gₜ ⊙ σ'</c>, <c>δg = dc ⊙ iₜ ⊙ φ'</c>,
/// <c>δf = dc ⊙ cₜ₋₁ ⊙ σ'</c>, <c>dcₜ = dc ⊙ fₜ</c>, <c>dhₜ₋₁ = δ·Uᵀ</c>; <c>dU += hₜ₋₁ᵀ·δ</c>.</para>
/// </remarks>
public sealed class LSTM : Recurrent, IConfigurableLayer<LSTM>
{
    /// <summary>Creates the layer (weights are made when it is first applied).</summary>
    /// <param name="units">H, the state size.</param>
    /// <param name="activation">φ, "tanh" by default.</param>
    /// <param name="recurrentActivation">σ of the gates, "sigmoid" by default.</param>
    /// <param name="useBias">Whether the gates have a bias.</param>
    /// <param name="kernelInitializer">W's (glorot_uniform).</param>
    /// <param name="recurrentInitializer">U's (orthogonal).</param>
    /// <param name="biasInitializer">b's (zeros).</param>
    /// <param name="unitForgetBias">Set the forget gate's bias to 1 after initialisation (Jozefowicz et al. 2015), as Keras does.</param>
    /// <param name="kernelRegularizer">Penalty on W.</param>
    /// <param name="recurrentRegularizer">Penalty on U.</param>
    /// <param name="biasRegularizer">Penalty on b.</param>
    /// <param name="activityRegularizer">Penalty on the output.</param>
    /// <param name="returnSequences">Output every step's h (B, T, H) instead of the last (B, H).</param>
    /// <param name="goBackwards">Read the sequence backwards.</param>
    /// <param name="returnState">Also output the final h and c (<see cref="Layer.ApplyAll"/>).</param>
    /// <param name="name">Layer name; generated when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="ArgumentException">An unknown activation or initializer name, or softmax.</exception>
    public LSTM(int units, string? activation = "tanh", string? recurrentActivation = "sigmoid", bool useBias = true,
                Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
                bool unitForgetBias = true, Regularizer? kernelRegularizer = null, Regularizer? recurrentRegularizer = null,
                Regularizer? biasRegularizer = null, Regularizer? activityRegularizer = null,
                bool returnSequences = false, bool goBackwards = false, bool returnState = false, string? name = null)
        : base(units, activation, recurrentActivation, useBias, kernelInitializer, recurrentInitializer, biasInitializer,
               kernelRegularizer, recurrentRegularizer, biasRegularizer, activityRegularizer, returnSequences, returnState, goBackwards, name)
        => UnitForgetBias = unitForgetBias;

    /// <summary>Whether the forget gate's bias starts at 1.</summary>
    public bool UnitForgetBias { get; }

    /// <inheritdoc />
    private protected override int Gates => 4;

    /// <inheritdoc />
    private protected override int StateCount => 2;

    /// <inheritdoc />
    private protected override void InitializeBias(Span<float> bias)
    {
        if (UnitForgetBias) bias.Slice(Units, Units).Fill(1);
    }

    /// <summary>Gates (T·4H), φ(c) (T·H), the states before each step (2·T·H), the last states (2H), dh and dc (2H), scratch (2H),
    /// a repeated input's projection (4H).</summary>
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape)
    {
        int t = inputShapes[0][0], h = Units;
        return checked(t * 4 * h + t * h + 2 * t * h + 10 * h);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private (int T, int D) Layout(NodeContext ctx, out Span<float> gates, out Span<float> tanhC, out Span<float> hBefore, out Span<float> cBefore,
                                  out Span<float> hLast, out Span<float> cLast, out Span<float> dh, out Span<float> dc, out Span<float> scratch,
                                  out Span<float> once)
    {
        int b = ctx.Batch, t = ctx.InputShape(0)[0], d = ctx.InputShape(0)[1], h = Units;
        var ws = ctx.Workspace;
        gates = ws[..(b * t * 4 * h)]; ws = ws[gates.Length..];     // (B, T, 4H): pre-activations, then activations, then δ
        tanhC = ws[..(b * t * h)]; ws = ws[tanhC.Length..];         // (B, T, H): φ(cₜ)
        hBefore = ws[..(b * t * h)]; ws = ws[hBefore.Length..];     // (B, T, H): hₜ₋₁, the state each step reads
        cBefore = ws[..(b * t * h)]; ws = ws[cBefore.Length..];     // (B, T, H): cₜ₋₁
        hLast = ws[..(b * h)]; ws = ws[hLast.Length..];             // (B, H): the state after the last step
        cLast = ws[..(b * h)]; ws = ws[cLast.Length..];
        dh = ws[..(b * h)]; ws = ws[dh.Length..];                   // (B, H): ∂loss/∂h from later steps
        dc = ws[..(b * h)]; ws = ws[dc.Length..];                   // (B, H): ∂loss/∂c from later steps
        scratch = ws[..(b * 2 * h)]; ws = ws[scratch.Length..];     // the general path's two rows of H
        once = ws[..(b * 4 * h)];                                   // (B, 4H): a repeated input's projection, then its δ summed over steps
        return (t, d);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        int batch = ctx.Batch, h = Units, g4 = 4 * h;
        var (steps, d) = Layout(ctx, out var gates, out var tanhC, out var hBefore, out var cBefore, out var hLast, out var cLast, out _, out _, out _,
                                out var once);
        ProjectInputs(ctx, gates, once, steps, d, g4, Bias is null ? default : Bias.Values);
        InitialState(ctx, hBefore, steps, 1);
        InitialState(ctx, cBefore, steps, 2);
        var packedU = PackRecurrent(RecurrentKernel!.Values, h, g4, transposed: false);
        bool fused = FusedCells;
        var mask = ctx.Mask;
        for (int s = 0; s < steps; s++)
        {
            int t = TimeOfStep(s, steps);
            // The four gates' recurrent products in one: (B, H)·(H, 4H) added to rows (b, t) of the projections.
            Gemm.MultiplyPacked(false, batch, g4, h, hBefore[(t * h)..], steps * h, packedU, gates[(t * g4)..], steps * g4, accumulate: true);
            for (int b = 0; b < batch; b++)
            {
                var row = gates.Slice((b * steps + t) * g4, g4);
                var cPrev = cBefore.Slice((b * steps + t) * h, h);
                var c = StateAfter(cBefore, cLast, b, t, steps);
                var tc = tanhC.Slice((b * steps + t) * h, h);
                var hNext = StateAfter(hBefore, hLast, b, t, steps);
                if (Skips(mask, b, t, steps))
                {
                    cPrev.CopyTo(c);                                                           // a masked step keeps the states
                    hBefore.Slice((b * steps + t) * h, h).CopyTo(hNext);
                    continue;
                }
                if (fused)
                {
                    RecurrentCells.LstmForward(row, cPrev, c, tc, hNext, h);
                    continue;
                }
                RecurrentActivation.Forward(row[..(2 * h)], row[..(2 * h)], 2 * h);
                Activation.Forward(row.Slice(2 * h, h), row.Slice(2 * h, h), h);
                RecurrentActivation.Forward(row[(3 * h)..], row[(3 * h)..], h);
                TensorPrimitives.Multiply(row.Slice(h, h), cPrev, c);                           // f ⊙ cₜ₋₁
                TensorPrimitives.FusedMultiplyAdd(row[..h], row.Slice(2 * h, h), c, c);        // + i ⊙ g
                Activation.Forward(c, tc, h);
                TensorPrimitives.Multiply(row[(3 * h)..], tc, hNext);                          // o ⊙ φ(c)
            }
        }
        WriteOutput(ctx, hBefore, hLast, steps, cLast);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        int batch = ctx.Batch, h = Units, g4 = 4 * h;
        var (steps, d) = Layout(ctx, out var gates, out var tanhC, out var hBefore, out var cBefore, out _, out _, out var dhAll, out var dcAll, out var scratch,
                                out var once);
        var t1 = scratch[..h];
        var t2 = scratch.Slice(h, h);
        SeedStateGradients(ctx, dhAll, dcAll);
        var packedUt = PackRecurrent(RecurrentKernel!.Values, h, g4, transposed: true);
        bool fused = FusedCells;
        var mask = ctx.Mask;
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = TimeOfStep(s, steps), tNext = s > 0 ? TimeOfStep(s - 1, steps) : -1;
            for (int b = 0; b < batch; b++)
            {
                var row = gates.Slice((b * steps + t) * g4, g4);
                var tc = tanhC.Slice((b * steps + t) * h, h);
                var cPrev = cBefore.Slice((b * steps + t) * h, h);
                if (tNext >= 0)
                {
                    // The next step's rows sit T rows apart, written in the forward pass long ago: ask for them a step ahead.
                    Simd.PrefetchL2(gates.Slice((b * steps + tNext) * g4, g4));
                    Simd.PrefetchL2(tanhC.Slice((b * steps + tNext) * h, h));
                    Simd.PrefetchL2(cBefore.Slice((b * steps + tNext) * h, h));
                }
                var dh = dhAll.Slice(b * h, h);
                var dc = dcAll.Slice(b * h, h);
                if (Skips(mask, b, t, steps))
                {
                    row.Clear();                // no gate acted: dh and dc pass to the step before unchanged
                    continue;
                }
                var dy = OutputGradAt(ctx, b, s, steps);
                if (fused)
                {
                    RecurrentCells.LstmBackward(row, tc, cPrev, dh, dy, dc, h);
                    if (!mask.IsEmpty) dh.Clear();  // the product below adds δ·Uᵀ, keeping masked rows' dh
                    continue;
                }
                var i = row[..h];
                var f = row.Slice(h, h);
                var g = row.Slice(2 * h, h);
                var o = row[(3 * h)..];
                if (!dy.IsEmpty) TensorPrimitives.Add(dh, dy, dh);
                TensorPrimitives.Multiply(dh, o, t1);
                Activation.Backward(tc, t1, t1, h);
                TensorPrimitives.Add(dc, t1, dc);                  // dc = dcₜ₊₁ + dh ⊙ o ⊙ φ'(c)
                TensorPrimitives.Multiply(dh, tc, t1);
                RecurrentActivation.Backward(o, t1, o, h);        // δo
                TensorPrimitives.Multiply(dc, i, t1);              // dg
                TensorPrimitives.Multiply(dc, g, t2);              // di
                Activation.Backward(g, t1, g, h);                  // δg
                RecurrentActivation.Backward(i, t2, i, h);        // δi
                TensorPrimitives.Multiply(dc, cPrev, t1);          // df
                TensorPrimitives.Multiply(dc, f, dc);              // dcₜ₋₁
                RecurrentActivation.Backward(f, t1, f, h);        // δf
                if (!mask.IsEmpty) dh.Clear();
            }
            // dhₜ₋₁ = δₜ·Uᵀ, rows (b, t) of δ at stride T·4H.
            Gemm.MultiplyPacked(false, batch, h, g4, gates[(t * g4)..], steps * g4, packedUt, dhAll, h, accumulate: !mask.IsEmpty);
        }
        if (Trainable)
            Gemm.Multiply(true, false, h, g4, batch * steps, hBefore, h, gates, g4, ctx.WeightGrad(RecurrentKernel), g4, accumulate: true); // dU += Hᵀ·δ
        InputSideGradients(ctx, gates, once, steps, d, g4, Bias is null ? default : ctx.WeightGrad(Bias));
        if (ctx.InputCount > 1 && ctx.NeedsInputGrad(1)) TensorPrimitives.Add(ctx.InputGrad(1), dhAll, ctx.InputGrad(1));
        if (ctx.InputCount > 2 && ctx.NeedsInputGrad(2)) TensorPrimitives.Add(ctx.InputGrad(2), dcAll, ctx.InputGrad(2));
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        base.GetConfig(config);
        config.Set("unit_forget_bias", UnitForgetBias);
    }

    /// <inheritdoc />
    public static LSTM FromConfig(LayerConfig c) =>
        new(c.GetInt("units"), c.GetActivation("activation").Name, c.GetActivation("recurrent_activation").Name, c.GetBool("use_bias", true),
            c.GetInitializer("kernel_initializer"), c.GetInitializer("recurrent_initializer"), c.GetInitializer("bias_initializer"),
            c.GetBool("unit_forget_bias", true), c.GetRegularizer("kernel_regularizer"), c.GetRegularizer("recurrent_regularizer"),
            c.GetRegularizer("bias_regularizer"), c.GetRegularizer("activity_regularizer"),
            c.GetBool("return_sequences", false), c.GetBool("go_backwards", false), c.GetBool("return_state", false), c.Name);
}
