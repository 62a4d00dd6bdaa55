namespace Latent.Bench;

/// <summary>
/// How dense deep-100's hidden layers are as it trains: after each of its first epochs, the share of nonzero outputs of
/// each of the five ReLU layers on 2,000 training images (`Latent.Bench density`). Only a layer reading the model's own
/// inputs multiplies them as sparse rows (below <see cref="Layers.Dense.SparseInputDensity"/> nonzero); this says
/// whether the hidden layers' inputs would be sparse enough for it too.
/// </summary>
internal static class Density
{
    public static void Run(int epochs = 3)
    {
        var x = Datasets.Mnist.LoadBytes().XTrain;
        var (model, batch) = EpochTimer.Build("deep-100");
        var probe = x.SliceRows(0, 2000);
        for (int epoch = 0; epoch <= epochs; epoch++)
        {
            if (epoch > 0) model.Fit(x, x, epochs: 1, batchSize: batch, shuffle: true, verbose: 0, seed: epoch);
            var shares = new List<string>();
            for (int l = 1; l <= 5; l++)
            {
                var hidden = new Model(model.Inputs[0], model.GetLayerOutput(model.Layers[l].Name));
                var y = hidden.Predict(probe, batchSize: 256).ToArray();
                shares.Add(FormattableString.Invariant($"{model.Layers[l].Name} {100.0 * y.Count(v => v != 0) / y.Length:F0}%"));
            }
            Console.WriteLine($"after epoch {epoch}: nonzero outputs {string.Join(", ", shares)}");
        }
    }
}
