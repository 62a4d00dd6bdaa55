using System.Text;
using Latent.Layers;

namespace Latent.Tests.TestSupport;

/// <summary>The outcome of comparing an analytic gradient with central differences.</summary>
internal sealed record GradientReport(bool Passed, int Checked, string Message);

/// <summary>
/// Central finite differences <c>(L(θ+h) − L(θ−h)) / 2h</c> against analytic gradients. The loss is a double
/// sum over float32 computations, so the check uses a tolerance that combines absolute and relative error:
/// <c>|analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|)</c>.
/// </summary>
internal static class GradientChecker
{
    public static GradientReport Compare(string what, Span<float> values, ReadOnlySpan<float> analytic, Func<double> loss,
                                         double h = 1e-3, double atol = 2e-3, double rtol = 2e-2, int maxChecks = 150)
    {
        var failures = new StringBuilder();
        int n = values.Length, step = Math.Max(1, n / maxChecks), checkedCount = 0, failed = 0;
        for (int i = 0; i < n; i += step)
        {
            float original = values[i];
            values[i] = (float)(original + h);
            double plus = loss();
            values[i] = (float)(original - h);
            double minus = loss();
            values[i] = original;
            double actualStep = (double)(float)(original + h) - (float)(original - h);
            double numeric = (plus - minus) / actualStep;
            double a = analytic[i];
            checkedCount++;
            if (!(Math.Abs(a - numeric) <= atol + rtol * Math.Max(Math.Abs(a), Math.Abs(numeric))))
            {
                if (failed++ < 5) failures.Append($"\n  {what}[{i}]: analytic {a:G6}, numeric {numeric:G6}");
            }
        }
        loss(); // leave the forward state as it was
        return failed == 0
            ? new GradientReport(true, checkedCount, $"{what}: {checkedCount} elements agree")
            : new GradientReport(false, checkedCount, $"{what}: {failed} of {checkedCount} elements disagree:{failures}");
    }

    /// <summary>
    /// Checks one layer call in isolation (with its declared output activation applied as the executor does):
    /// loss <c>L = Σ wᵢ·yᵢ + added loss</c> with fixed random w, so ∂L/∂y = w; compares ∂L/∂x and
    /// ∂L/∂(each weight) with central differences.
    /// </summary>
    public static List<GradientReport> CheckLayer(Layer layer, int[] inputShape, int batch, int seed,
                                                  bool training = false, Func<int, float>? input = null, bool writeInputGrads = false) =>
        CheckLayer(layer, [inputShape], batch, seed, training, input, writeInputGrads: writeInputGrads);

    /// <summary>As above for a layer of several inputs; <paramref name="input"/> maps (flat index) to a value for every input.</summary>
    /// <remarks>
    /// Every output of the layer counts (<c>L = Σₖ Σᵢ wₖᵢ·yₖᵢ</c>, a recurrent layer's states included); <paramref name="mask"/>
    /// (batch × timesteps of the first input, 1 keep, 0 skip) is handed to a layer that uses masks.
    /// </remarks>
    /// <param name="writeInputGrads">Let the layer write its input gradients instead of adding (as the executor does when
    /// it can); they are filled with a large value first, so a cell the layer leaves unwritten fails the check.</param>
    public static List<GradientReport> CheckLayer(Layer layer, int[][] inputShapes, int batch, int seed,
                                                  bool training = false, Func<int, float>? input = null, float[]? mask = null,
                                                  bool writeInputGrads = false)
    {
        var outputs = layer.ApplyAll(inputShapes.Select(s => Input.Create(s)).ToArray());
        var inBufs = inputShapes.Select(s => new TensorBuffer(s, batch, withGrad: true)).ToArray();
        var outBufs = outputs.Select(o => new TensorBuffer(o.ShapeArray, batch, withGrad: true)).ToArray();
        var outBuf = outBufs[0];
        int ws = layer.WorkspacePerSample(inputShapes, outputs[0].ShapeArray);
        TensorBuffer? maskBuf = null;
        if (mask is not null)
        {
            maskBuf = new TensorBuffer([inputShapes[0][0]], batch, withGrad: false);
            mask.CopyTo(maskBuf.Value, 0);
        }
        var ctx = new NodeContext(inBufs, outBufs, inBufs.Select(_ => true).ToArray(), ws, batch, (ulong)seed, maskBuf)
        {
            Batch = batch, FullBatch = batch, Training = training,
            FreshInputGrads = writeInputGrads ? inBufs.Select(_ => true).ToArray() : null,
        };
        var activation = layer.OutputActivation;
        for (int b = 0; b < inBufs.Length; b++)
        {
            var x = Synthetic.Uniform(inBufs[b].Value.Length, seed + 10 * b);
            for (int i = 0; i < x.Length; i++) inBufs[b].Value[i] = input is null ? x[i] : input(i);
        }
        var lossWeights = outBufs.Select((o, k) => Synthetic.Uniform(o.Value.Length, seed + 1 + 100 * k)).ToArray();

        double Loss()
        {
            ctx.Random.Reset((ulong)seed); // same random numbers every time
            ctx.Random.BeginStep(0, batch);
            ctx.AddedLoss = 0;
            layer.Forward(ctx);
            if (activation is not null) activation.Forward(ctx.OutputValues, ctx.OutputValues, outBuf.SampleShape[^1]);
            double s = ctx.AddedLoss;
            for (int k = 0; k < outBufs.Length; k++)
            {
                var y = ctx.OutputValuesAt(k);
                for (int i = 0; i < y.Length; i++) s += (double)lossWeights[k][i] * y[i];
            }
            return s;
        }

        Loss();
        for (int k = 0; k < outBufs.Length; k++) lossWeights[k].CopyTo(outBufs[k].Grad!, 0);
        foreach (var b in inBufs) Array.Fill(b.Grad!, writeInputGrads ? 1e3f : 0f);
        foreach (var wt in layer.Weights) wt.Grads.Clear();
        if (activation is not null) activation.Backward(ctx.OutputValues, ctx.OutputGrad, ctx.OutputGrad, outBuf.SampleShape[^1]);
        layer.Backward(ctx);

        var reports = new List<GradientReport>();
        for (int b = 0; b < inBufs.Length; b++)
            reports.Add(Compare($"{layer.Name} dx{b}", inBufs[b].Value, (float[])inBufs[b].Grad!.Clone(), Loss));
        foreach (var wt in layer.Weights)
            reports.Add(Compare($"d{wt.Name}", wt.Values, wt.Grads.ToArray(), Loss));
        return reports;
    }

    public static void AssertAll(IEnumerable<GradientReport> reports)
    {
        foreach (var r in reports) Assert.True(r.Passed, r.Message);
    }
}
