using System.Diagnostics;

namespace Latent.Bench;

/// <summary>
/// The first epochs of a row, with the sparse multiply on and off, in one process: two models of the row built alike,
/// each warmed up as `epoch` does (one epoch on 2,048 rows), then their epochs alternating, so both see the same phases
/// of the machine (`Latent.Bench first-epoch ROW [epochs]`). Prints each epoch's seconds.
/// </summary>
internal static class FirstEpoch
{
    public static void Run(string row, int epochs)
    {
        var x = Datasets.Mnist.LoadBytes().XTrain;
        var models = new[] { EpochTimer.Build(row), EpochTimer.Build(row) };
        double density = Layers.Dense.SparseInputDensity;
        var times = new double[2][];
        for (int m = 0; m < 2; m++)
        {
            Layers.Dense.SparseInputDensity = m == 0 ? density : 0;
            EpochTimer.WarmUp(models[m].Item1, models[m].Item2, x);
            times[m] = new double[epochs];
        }
        for (int e = 0; e < epochs; e++)
            for (int m = 0; m < 2; m++)
            {
                Layers.Dense.SparseInputDensity = m == 0 ? density : 0;
                var sw = Stopwatch.StartNew();
                models[m].Item1.Fit(x, x, epochs: 1, batchSize: models[m].Item2, shuffle: true, verbose: 0, seed: e);
                times[m][e] = sw.Elapsed.TotalSeconds;
            }
        Layers.Dense.SparseInputDensity = density;
        for (int m = 0; m < 2; m++)
            Console.WriteLine($"{row} sparse multiply {(m == 0 ? "on " : "off")}: " + string.Join(" ", times[m].Select(t => t.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
    }
}
