using Latent.Datasets;
using Latent.Layers;

namespace Latent.Bench;

/// <summary>
/// The Latent half of the convolutional step-parity check (bench/parity/conv_parity.py replays it in PyTorch): the
/// blog's convolutional autoencoder (the conv issue's contract model) from a fixed seed, trained for 200 steps
/// with each optimizer under binary cross-entropy on MNIST's first 200 × 32 training images in order. Writes the
/// initial weights, the per-step losses and the final weights.
/// </summary>
internal static class ConvParity
{
    public static void Run(string outDir, int steps, int batch)
    {
        Directory.CreateDirectory(outDir);
        var (xTrain, _, _, _) = Mnist.Load(flatten: false);
        var x = xTrain.SliceRows(0, steps * batch);
        foreach (var opt in new[] { "sgd", "adadelta", "adam" })
        {
            var model = Build();
            model.Compile(Parity.Optimizer(opt), "binary_crossentropy");
            Parity.Record(model, x, steps, batch, outDir, $"conv-{opt}");
        }
    }

    /// <summary>The contract model, its layers named c1…c7 in order for the PyTorch side.</summary>
    private static Model Build()
    {
        Randomness.SetSeed(7);
        var input = Input.Create(28, 28, 1);
        var x = new Conv2D(16, (3, 3), activation: "relu", padding: "same", name: "c1").Apply(input);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same", name: "c2").Apply(x);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same", name: "c3").Apply(x);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same", name: "c4").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same", name: "c5").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2D(16, (3, 3), activation: "relu", name: "c6").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        return new Model(input, new Conv2D(1, (3, 3), activation: "sigmoid", padding: "same", name: "c7").Apply(x));
    }
}
