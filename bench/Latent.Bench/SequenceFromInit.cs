using Latent.Data;
using Latent.Datasets;
using Latent.Layers;

namespace Latent.Bench;

/// <summary>
/// The sequence issue's contract model trained from PyTorch's initial weights (<c>bench/pytorch/sequence.py --save-init</c>),
/// to tell whether the gap between the two engines' test MSE comes from the initial draws or from training.
/// </summary>
internal static class SequenceFromInit
{
    private static double Std(float[] v)
    {
        double m = v.Average();
        return Math.Sqrt(v.Select(x => (x - m) * (x - m)).Average());
    }

    public static void Run(string npz, int epochs, int seed)
    {
        var init = Npz.Read(npz);
        Randomness.SetSeed(seed);
        var (xTrain, _, xTest, _) = Mnist.Load(flatten: false);
        Tensor seqTrain = xTrain.Reshape(60000, 28, 28), seqTest = xTest.Reshape(10000, 28, 28);
        var inputs = Input.Create(28, 28);
        var encoded = new LSTM(64).Apply(inputs);
        var decoded = new LSTM(28, returnSequences: true).Apply(new RepeatVector(28).Apply(encoded));
        var model = new Model(inputs, decoded);
        model.Compile(optimizer: "adam", loss: "mse");
        // Weights in the model's order: encoder kernel, recurrent kernel, bias; then the decoder's.
        string[] names = ["enc_W", "enc_U", "enc_b", "dec_W", "dec_U", "dec_b"];
        Console.WriteLine(string.Join(", ", model.Weights.Select((w, i) => $"{w.Name} <- {names[i]}")));
        for (int i = 0; i < names.Length; i++)
        {
            float[] own = model.Weights[i].Values.ToArray(), theirs = init[names[i]].Span.ToArray();
            Console.WriteLine($"{names[i]}: Latent's own draw mean {own.Average():F4} std {Std(own):F4} max {own.Max(MathF.Abs):F4}; PyTorch's mean {theirs.Average():F4} std {Std(theirs):F4} max {theirs.Max(MathF.Abs):F4}");
        }
        if (Environment.GetEnvironmentVariable("LATENT_OWN_INIT") == "1")
        {
            model.Fit(seqTrain, seqTrain, epochs: epochs, batchSize: 128, shuffle: true, validationData: (seqTest, seqTest), verbose: 2, seed: seed);
            return;
        }
        model.SetWeights(names.Select(n => init[n].Span.ToArray()).ToArray());
        model.Fit(seqTrain, seqTrain, epochs: epochs, batchSize: 128, shuffle: true, validationData: (seqTest, seqTest), verbose: 2, seed: seed);
    }
}
