using System.Globalization;
using System.Text.Json;
using Latent.Datasets;
using Latent.Layers;
using Latent.Optimizers;

namespace Latent.Bench;

/// <summary>
/// The Latent half of the step-parity check (bench/parity/parity.py is the PyTorch half): for each optimizer and
/// loss, a 784-32-784 autoencoder from a fixed seed is trained for 200 steps on MNIST's first 200 × 32 training
/// images in order, no shuffle. Writes the initial weights (safetensors), the per-step losses and the final
/// weights for PyTorch to replay and compare.
/// </summary>
internal static class Parity
{
    public static readonly string[] Optimizers = ["sgd", "adagrad", "adadelta", "rmsprop", "adam"];
    public static readonly string[] Losses = ["binary_crossentropy", "mean_squared_error", "mean_absolute_error"];

    public static void Run(string outDir, int steps, int batch)
    {
        Directory.CreateDirectory(outDir);
        var (xTrain, _, _, _) = Mnist.Load();
        var x = xTrain.SliceRows(0, steps * batch);
        foreach (var opt in Optimizers)
        foreach (var loss in Losses)
        {
            Randomness.SetSeed(7);
            var input = Input.Create(784);
            var code = new Dense(32, "relu", name: "encoder").Apply(input);
            var model = new Model(input, new Dense(784, "sigmoid", name: "decoder").Apply(code));
            model.Compile(Optimizer(opt), loss);
            Record(model, x, steps, batch, outDir, $"{opt}-{loss}");
        }
    }

    /// <summary>
    /// Saves <paramref name="model"/>'s initial weights, trains it on <paramref name="steps"/> consecutive batches of
    /// <paramref name="x"/> (no shuffle, targets = inputs), and saves the per-step losses and the final weights as
    /// OUT/NAME.{init,final}.safetensors and NAME.losses.json for the PyTorch side to replay.
    /// </summary>
    public static void Record(Model model, Tensor x, int steps, int batch, string outDir, string name)
    {
        model.Save(Path.Combine(outDir, name + ".init.safetensors"));
        var losses = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            var xb = x.SliceRows(s * batch, batch);
            losses[s] = model.TrainOnBatch(xb, xb);
        }
        model.Save(Path.Combine(outDir, name + ".final.safetensors"));
        File.WriteAllText(Path.Combine(outDir, name + ".losses.json"), JsonSerializer.Serialize(losses));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-35} first {losses[0]:F6} last {losses[^1]:F6}"));
    }

    /// <summary>Learning rates that make 200 steps move the weights visibly for every optimizer.</summary>
    public static Optimizer Optimizer(string name) => name switch
    {
        "sgd" => new Sgd(learningRate: 0.5, momentum: 0.9, nesterov: true),
        "adagrad" => new Adagrad(learningRate: 0.01),
        "adadelta" => new Adadelta(learningRate: 1.0),
        "rmsprop" => new RmsProp(learningRate: 0.001),
        "adam" => new Adam(learningRate: 0.001),
        _ => throw new ArgumentException(name),
    };
}
