using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Latent.Initializers;
using Latent.Kernels;
using Latent.Serialization;

namespace Latent.Layers;

/// <summary>
/// Gated recurrent unit (Cho et al. 2014), as Keras's <c>GRU</c> with <c>reset_after=True</c> (its default, and
/// PyTorch's <c>nn.GRU</c>). For each step t, with σ the recurrent activation (sigmoid) and φ the activation (tanh):
/// <code>
/// [a_z a_r a_h] = xₜ·W + b_in           [r_z r_r r_h] = hₜ₋₁·U + b_rec      W (D, 3H), U (H, 3H), b (2, 3H)
/// zₜ = σ(a_z + r_z)    rₜ = σ(a_r + r_r)    h̃ₜ = φ(a_h + rₜ ⊙ r_h)
/// hₜ = zₜ ⊙ hₜ₋₁ + (1 − zₜ) ⊙ h̃ₜ
/// </code>
/// </summary>
/// <remarks>
/// <para>Gates in Keras's order z (update), r (reset), h. PyTorch orders them r, z, n: its <c>weight_ih</c> is Wᵀ
/// with the first two blocks of H rows swapped, <c>weight_hh</c> likewise from U, and <c>bias_ih</c>, <c>bias_hh</c> are
/// b's two rows, swapped the same way.</para>
/// <para>Backward (δ of a gate is ∂loss/∂ its pre-activation): <c>δz = dh ⊙ (hₜ₋₁ − h̃) ⊙ σ'</c>,
/// <c>δh = dh ⊙ (1 − z) ⊙ φ'</c>, <c>δr = δh ⊙ r_h ⊙ σ'</c>; the input side gets [δz δr δh], the recurrent side
/// [δz δr δh ⊙ r]; <c>dhₜ₋₁ = dh ⊙ z + [δz δr δh ⊙ r]·Uᵀ</c>.</para>
/// </remarks>
public sealed class GRU : Recurrent, IConfigurableLayer<GRU>
{
    /// <summary>Creates the layer (weights are made when it is first applied).</summary>
    /// <param name="units">H, the state size.</param>
    /// <param name="activation">φ, "tanh" by default.</param>
    /// <param name="recurrentActivation">σ of the gates, "sigmoid" by default.</param>
    /// <param name="useBias">Whether the gates have biases.</param>
    /// <param name="kernelInitializer">W's (glorot_uniform).</param>
    /// <param name="recurrentInitializer">U's (orthogonal).</param>
    /// <param name="biasInitializer">b's (zeros).</param>
    /// <param name="kernelRegularizer">Penalty on W.</param>
    /// <param name="recurrentRegularizer">Penalty on U.</param>
    /// <param name="biasRegularizer">Penalty on b.</param>
    /// <param name="activityRegularizer">Penalty on the output.</param>
    /// <param name="returnSequences">Output every step's h (B, T, H) instead of the last (B, H).</param>
    /// <param name="goBackwards">Read the sequence backwards.</param>
    /// <param name="returnState">Also output the final h (<see cref="Layer.ApplyAll"/>).</param>
    /// <param name="resetAfter">Apply the reset gate after the recurrent product (Keras's default and PyTorch's form).
    /// Only true is offered: the other form, <c>φ(a_h + (r ⊙ hₜ₋₁)·U_h)</c>, is not implemented.</param>
    /// <param name="name">Layer name; generated when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="ArgumentException">An unknown activation or initializer name, softmax, or resetAfter false.</exception>
    public GRU(int units, string? activation = "tanh", string? recurrentActivation = "sigmoid", bool useBias = true,
               Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
               Regularizer? kernelRegularizer = null, Regularizer? recurrentRegularizer = null,
               Regularizer? biasRegularizer = null, Regularizer? activityRegularizer = null,
               bool returnSequences = false, bool goBackwards = false, bool resetAfter = true, bool returnState = false, string? name = null)
        : base(units, activation, recurrentActivation, useBias, kernelInitializer, recurrentInitializer, biasInitializer,
               kernelRegularizer, recurrentRegularizer, biasRegularizer, activityRegularizer, returnSequences, returnState, goBackwards, name)
    {
        if (!resetAfter)
            throw new ArgumentException("GRU supports resetAfter: true only (Keras's default, and PyTorch's nn.GRU). Received: resetAfter=False.", nameof(resetAfter));
    }

    /// <summary>Always true: the reset gate multiplies the recurrent product.</summary>
    public bool ResetAfter => true;

    /// <inheritdoc />
    private protected override int Gates => 3;

    /// <inheritdoc />
    private protected override int StateCount => 1;

    /// <summary>(2, 3H): the input bias, then the recurrent bias.</summary>
    private protected override int[] BiasShape => [2, 3 * Units];

    /// <summary>Gates (T·3H), the recurrent products (T·3H), the states before each step (T·H), the last state (H), dh (H), scratch (2H),
    /// a repeated input's projection (3H).</summary>
    protected internal override int WorkspacePerSample(IReadOnlyList<int[]> inputShapes, int[] outputShape)
    {
        int t = inputShapes[0][0], h = Units;
        return checked(t * 3 * h + t * 3 * h + t * h + 7 * h);
    }

    private (int T, int D) Layout(NodeContext ctx, out Span<float> gates, out Span<float> rec, out Span<float> hBefore, out Span<float> hLast,
                                  out Span<float> dh, out Span<float> scratch, out Span<float> once)
    {
        int b = ctx.Batch, t = ctx.InputShape(0)[0], d = ctx.InputShape(0)[1], h = Units;
        var ws = ctx.Workspace;
        gates = ws[..(b * t * 3 * h)]; ws = ws[gates.Length..];     // (B, T, 3H): projections, then z, r, h̃, then the input side's δ
        rec = ws[..(b * t * 3 * h)]; ws = ws[rec.Length..];         // (B, T, 3H): hₜ₋₁·U + b_rec (r_h kept), then the recurrent side's δ
        hBefore = ws[..(b * t * h)]; ws = ws[hBefore.Length..];     // (B, T, H): hₜ₋₁, the state each step reads
        hLast = ws[..(b * h)]; ws = ws[hLast.Length..];             // (B, H): the state after the last step
        dh = ws[..(b * h)]; ws = ws[dh.Length..];                   // (B, H): ∂loss/∂h from later steps
        scratch = ws[..(b * 2 * h)]; ws = ws[scratch.Length..];     // the general path's two rows of H
        once = ws[..(b * 3 * h)];                                   // (B, 3H): a repeated input's projection, then its δ summed over steps
        return (t, d);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx)
    {
        int batch = ctx.Batch, h = Units, g3 = 3 * h;
        var (steps, d) = Layout(ctx, out var gates, out var rec, out var hBefore, out var hLast, out _, out _, out var once);
        var bias = Bias is null ? default : Bias.Values;
        ProjectInputs(ctx, gates, once, steps, d, g3, bias.IsEmpty ? default : bias[..g3]);
        if (bias.IsEmpty) rec.Clear();
        else for (int r = 0; r < batch * steps; r++) bias[g3..].CopyTo(rec.Slice(r * g3, g3));
        InitialState(ctx, hBefore, steps, 1);
        var packedU = PackRecurrent(RecurrentKernel!.Values, h, g3, transposed: false);
        bool fused = FusedCells;
        var mask = ctx.Mask;
        for (int s = 0; s < steps; s++)
        {
            int t = TimeOfStep(s, steps);
            Gemm.MultiplyPacked(false, batch, g3, h, hBefore[(t * h)..], steps * h, packedU, rec[(t * g3)..], steps * g3, accumulate: true);
            for (int b = 0; b < batch; b++)
            {
                var row = gates.Slice((b * steps + t) * g3, g3);
                var r = rec.Slice((b * steps + t) * g3, g3);
                var hPrev = hBefore.Slice((b * steps + t) * h, h);
                var hNext = StateAfter(hBefore, hLast, b, t, steps);
                if (Skips(mask, b, t, steps))
                {
                    hPrev.CopyTo(hNext);        // a masked step keeps the state
                    continue;
                }
                if (fused)
                {
                    RecurrentCells.GruForward(row, r, hPrev, hNext, h);
                    continue;
                }
                var zr = row[..(2 * h)];
                TensorPrimitives.Add(zr, r[..(2 * h)], zr);
                RecurrentActivation.Forward(zr, zr, 2 * h);
                var cand = row[(2 * h)..];
                TensorPrimitives.FusedMultiplyAdd(row.Slice(h, h), r[(2 * h)..], cand, cand);   // a_h + r ⊙ r_h
                Activation.Forward(cand, cand, h);
                TensorPrimitives.Subtract(hPrev, cand, hNext);
                TensorPrimitives.FusedMultiplyAdd(row[..h], hNext, cand, hNext);               // h̃ + z ⊙ (hₜ₋₁ − h̃)
            }
        }
        WriteOutput(ctx, hBefore, hLast, steps);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx)
    {
        int batch = ctx.Batch, h = Units, g3 = 3 * h;
        var (steps, d) = Layout(ctx, out var gates, out var rec, out var hBefore, out _, out var dhAll, out var scratch, out var once);
        var t1 = scratch[..h];
        var t2 = scratch.Slice(h, h);
        SeedStateGradients(ctx, dhAll, default);
        var packedUt = PackRecurrent(RecurrentKernel!.Values, h, g3, transposed: true);
        bool fused = FusedCells;
        var mask = ctx.Mask;
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = TimeOfStep(s, steps);
            for (int b = 0; b < batch; b++)
            {
                var row = gates.Slice((b * steps + t) * g3, g3);
                var dr = rec.Slice((b * steps + t) * g3, g3);      // r_h in, the recurrent side's δ out
                var hPrev = hBefore.Slice((b * steps + t) * h, h);
                var dh = dhAll.Slice(b * h, h);
                if (Skips(mask, b, t, steps))
                {
                    row.Clear();                // no gate acted: dh passes to the step before unchanged
                    dr.Clear();
                    continue;
                }
                var dy = OutputGradAt(ctx, b, s, steps);
                if (fused)
                {
                    RecurrentCells.GruBackward(row, dr, hPrev, dh, dy, h);
                    continue;
                }
                var z = row[..h];
                var r = row.Slice(h, h);
                var cand = row[(2 * h)..];
                if (!dy.IsEmpty) TensorPrimitives.Add(dh, dy, dh);
                TensorPrimitives.Subtract(hPrev, cand, t1);
                TensorPrimitives.Multiply(dh, t1, t1);            // dz
                TensorPrimitives.Multiply(dh, z, t2);
                TensorPrimitives.Subtract(dh, t2, t2);             // dh̃ = dh ⊙ (1 − z)
                TensorPrimitives.Multiply(dh, z, dh);              // the direct part of dhₜ₋₁
                RecurrentActivation.Backward(z, t1, z, h);         // δz
                Activation.Backward(cand, t2, cand, h);            // δh
                TensorPrimitives.Multiply(cand, dr[(2 * h)..], t1); // dr = δh ⊙ r_h
                TensorPrimitives.Multiply(cand, r, dr[(2 * h)..]); // δh ⊙ r, the recurrent side
                RecurrentActivation.Backward(r, t1, r, h);         // δr
                row[..(2 * h)].CopyTo(dr);
            }
            // dhₜ₋₁ += δ_rec·Uᵀ, rows (b, t) of δ_rec at stride T·3H.
            Gemm.MultiplyPacked(false, batch, h, g3, rec[(t * g3)..], steps * g3, packedUt, dhAll, h, accumulate: true);
        }
        int rows = batch * steps;
        if (Trainable)
        {
            Gemm.Multiply(true, false, h, g3, rows, hBefore, h, rec, g3, ctx.WeightGrad(RecurrentKernel), g3, accumulate: true); // dU += Hᵀ·δ_rec
            if (Bias is not null) Simd.AccumulateColumnSums(rec, ctx.WeightGrad(Bias)[g3..], rows);
        }
        InputSideGradients(ctx, gates, once, steps, d, g3, Bias is null ? default : ctx.WeightGrad(Bias)[..g3]);
        if (ctx.InputCount > 1 && ctx.NeedsInputGrad(1)) TensorPrimitives.Add(ctx.InputGrad(1), dhAll, ctx.InputGrad(1));
    }

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config)
    {
        base.GetConfig(config);
        config.Set("reset_after", true);
    }

    /// <inheritdoc />
    public static GRU FromConfig(LayerConfig c) =>
        new(c.GetInt("units"), c.GetActivation("activation").Name, c.GetActivation("recurrent_activation").Name, c.GetBool("use_bias", true),
            c.GetInitializer("kernel_initializer"), c.GetInitializer("recurrent_initializer"), c.GetInitializer("bias_initializer"),
            c.GetRegularizer("kernel_regularizer"), c.GetRegularizer("recurrent_regularizer"),
            c.GetRegularizer("bias_regularizer"), c.GetRegularizer("activity_regularizer"),
            c.GetBool("return_sequences", false), c.GetBool("go_backwards", false), c.GetBool("reset_after", true), c.GetBool("return_state", false), c.Name);
}
