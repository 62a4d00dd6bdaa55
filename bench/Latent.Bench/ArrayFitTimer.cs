using System.Diagnostics;
using Latent.Datasets;
using Latent.Layers;

namespace Latent.Bench;

/// <summary>
/// What the notebook's way of passing data costs: MNIST as a <c>float[,]</c>, <c>Fit(x, x, epochs: 1)</c> called
/// repeatedly on the simple model at batch 32; prints the call's time, the epoch's own time (History.Seconds) and
/// the difference as a share of the epoch.
/// </summary>
internal static class ArrayFitTimer
{
    public static void Run(int calls)
    {
        var (xTrain, _, _, _) = Mnist.Load();
        float[,] x = xTrain.ToArray2D();
        Randomness.SetSeed(1);
        var input = Input.Create(784);
        var model = new Model(input, new Dense(784, "sigmoid").Apply(new Dense(32, "relu").Apply(input)));
        model.Compile("adagrad", "binary_crossentropy");
        float[,] head = Tensor.FromArray(x).SliceRows(0, 2048).ToArray2D();
        model.Fit(head, head, epochs: 1, batchSize: 32, verbose: 0, seed: 1);     // warm-up: JIT, pool
        for (int c = 0; c < calls; c++)
        {
            var sw = Stopwatch.StartNew();
            var h = model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0, seed: c);
            double call = sw.Elapsed.TotalSeconds, epoch = h.Seconds[0];
            Console.WriteLine($"Fit(float[,] 60000x784) call {call:F3} s, epoch {epoch:F3} s, overhead {call - epoch:F3} s = {100 * (call - epoch) / epoch:F1}% of the epoch");
        }
    }
}
