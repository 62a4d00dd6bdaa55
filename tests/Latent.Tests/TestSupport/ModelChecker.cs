namespace Latent.Tests.TestSupport;

/// <summary>Whole-model checks through the training executor: gradients of the total loss against central differences.</summary>
internal static class ModelChecker
{
    /// <summary>
    /// Compiles nothing: <paramref name="model"/> must be compiled. Fills each input and target with values in
    /// (0, 1), computes every weight's gradient of the total loss (data losses, penalties, added losses) and
    /// compares it with central differences, reseeding the random streams so every evaluation draws alike.
    /// </summary>
    /// <param name="editInput">Changes input i's values after they are drawn (to pad sequences for a mask).</param>
    public static void CheckGradients(Model model, int batch, int seed, double h = 1e-2, double atol = 5e-3, double scale = 1000,
                                      Action<int, Span<float>>? editInput = null)
    {
        var ex = model.CreateTrainingExecutor(batch, (ulong)seed);
        for (int i = 0; i < model.Inputs.Count; i++)
        {
            Synthetic.Uniform(batch * model.Inputs[i].Size, seed + i, 0, 1).CopyTo(ex.Input(i, batch));
            editInput?.Invoke(i, ex.Input(i, batch));
        }
        for (int j = 0; j < model.Outputs.Count; j++)
            Synthetic.Uniform(batch * model.Outputs[j].Size, seed + 100 + j, 0.05f, 0.95f).CopyTo(ex.Targets(j), 0);
        ex.Reseed((ulong)seed);
        double total = model.ComputeStepGradients(ex, batch);
        Assert.True(double.IsFinite(total));
        var analytic = model.Weights.Select(w => w.Grads.ToArray()).ToArray();
        double Loss()
        {
            ex.Reseed((ulong)seed);
            return model.ComputeTotalLoss(ex, batch) * scale; // scaled so gradients are O(1) for the absolute tolerance
        }
        Assert.Equal(total * scale, Loss(), 6);
        for (int i = 0; i < model.Weights.Count; i++)
        {
            var w = model.Weights[i];
            if (!w.Trainable) continue;
            var report = GradientChecker.Compare(w.Name, w.Values, analytic[i].Select(v => (float)(v * scale)).ToArray(), Loss, h: h, atol: atol);
            Assert.True(report.Passed, report.Message);
        }
    }

    /// <summary>
    /// Saves <paramref name="model"/> (trained one epoch on <paramref name="x"/>), loads it, lets <paramref name="check"/>
    /// look at the loaded model, then trains both one more epoch from epoch 1 and requires identical weights: the
    /// file carries the architecture, the weights and the optimizer state.
    /// </summary>
    public static void AssertSavesLoadsAndResumes(Model model, Tensor x, Action<Model> check)
    {
        string path = Path.Combine(Path.GetTempPath(), $"latent-resume-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Model.Load(path);
            check(loaded);
            model.Fit(x, x, epochs: 2, initialEpoch: 1, batchSize: 8, verbose: 0, seed: 2);
            loaded.Fit(x, x, epochs: 2, initialEpoch: 1, batchSize: 8, verbose: 0, seed: 2);
            for (int w = 0; w < model.Weights.Count; w++) Assert.Equal(model.GetWeights()[w], loaded.GetWeights()[w]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Trains <paramref name="build"/>'s model (seeded the same each time) for two epochs on one core and on two
    /// (data-parallel), asserts the weights agree to 1e-4 relative, then saves the two-core model, loads it back and
    /// asserts the same layers and bit-identical predictions. Changes Model.ParallelStepMinRows: callers belong to
    /// the GemmSettings collection. Both runs start from the first build's weights: the global seed is shared with
    /// tests running in parallel, which may draw from it between the builder's SetSeed and its layers.
    /// </summary>
    public static void TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads(Func<Model> build, Tensor data)
    {
        float[][]? start = null;
        (float[][] Weights, Model Model) Train(bool parallel)
        {
            int saved = Model.ParallelStepMinRows;
            Model.ParallelStepMinRows = parallel ? 8 : int.MaxValue;
            try
            {
                var model = build();
                if (start is null) start = model.GetWeights();
                else model.SetWeights(start);
                model.Fit(data, data, epochs: 2, batchSize: 32, verbose: 0, seed: 3);
                Assert.Equal(parallel && Latent.Kernels.ComputePool.Shared.Threads >= 2, model.StepIsParallel);
                return (model.GetWeights(), model);
            }
            finally
            {
                Model.ParallelStepMinRows = saved;
            }
        }
        var one = Train(false);
        var two = Train(true);
        for (int w = 0; w < one.Weights.Length; w++)
            for (int i = 0; i < one.Weights[w].Length; i++)
                Assert.True(Math.Abs(one.Weights[w][i] - two.Weights[w][i]) <= 1e-4f * (1 + Math.Abs(one.Weights[w][i])),
                            $"weight {w}[{i}]: one core {one.Weights[w][i]}, two {two.Weights[w][i]}");

        string path = Path.Combine(Path.GetTempPath(), $"model-{Guid.NewGuid():N}.safetensors");
        try
        {
            two.Model.Save(path);
            var loaded = Model.Load(path);
            Assert.Equal(two.Model.Layers.Select(l => l.Config().ToString()), loaded.Layers.Select(l => l.Config().ToString()));
            Assert.Equal(two.Model.Predict(data).Span.ToArray(), loaded.Predict(data).Span.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
