using Latent.Datasets;
using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

/// <summary>The sequence issue's code, compiled and run as written on a slice of MNIST; recurrent models checked
/// end to end (gradients, one and two cores, save and load).</summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Model.ParallelStepMinRows
public class SequenceContractTests
{
    [Fact]
    public void SequenceAutoencoderCodeRunsAsWritten()
    {
        int timesteps = 28, inputDim = 28, latentDim = 64;
        var (xTrain, _, xTest, _) = Mnist.Load(flatten: false);
        Tensor seqTrain = xTrain.Reshape(60000, 28, 28), seqTest = xTest.Reshape(10000, 28, 28); // rows as time steps
        seqTrain = seqTrain.SliceRows(0, 512);
        seqTest = seqTest.SliceRows(0, 128);
        var inputs  = Input.Create(timesteps, inputDim);
        var encoded = new LSTM(latentDim).Apply(inputs);
        var decoded = new RepeatVector(timesteps).Apply(encoded);
        decoded = new LSTM(inputDim, returnSequences: true).Apply(decoded);
        var sequenceAutoencoder = new Model(inputs, decoded);
        var encoder = new Model(inputs, encoded);
        sequenceAutoencoder.Compile(optimizer: "adam", loss: "mse");
        var history = sequenceAutoencoder.Fit(seqTrain, seqTrain, epochs: 2, batchSize: 128, shuffle: true,
                                              validationData: (seqTest, seqTest), verbose: 0);
        Tensor codes = encoder.Predict(seqTest);                                  // (10000, 64)

        Assert.Equal([128, 64], codes.Shape);
        Assert.Equal([28, 28], decoded.Shape);
        Assert.True(history.Loss[1] < history.Loss[0], $"loss {history.Loss[0]} -> {history.Loss[1]}");
        Assert.Equal(2, history.ValLoss.Count);
    }

    /// <summary>Every sequence layer in one small model; tanh keeps the loss smooth for finite differences.</summary>
    private static Model SmallSequenceAutoencoder(int seed)
    {
        Randomness.SetSeed(seed);
        var input = Input.Create(5, 3);
        var x = new GRU(4, returnSequences: true, goBackwards: true).Apply(input);
        var code = new LSTM(3).Apply(x);
        x = new RepeatVector(5).Apply(code);
        x = new LSTM(4, returnSequences: true).Apply(x);
        var model = new Model(input, new Dense(3, "sigmoid").Apply(x));
        model.Compile("adam", "mse");
        return model;
    }

    [Fact]
    public void ASequenceModelHasTheRightGradients() =>
        ModelChecker.CheckGradients(SmallSequenceAutoencoder(1), batch: 3, seed: 5, h: 1e-3, scale: 1000);

    [Fact]
    public void ASequenceModelTrainsAlikeOnOneAndTwoCoresAndSavesAndLoads()
    {
        ModelChecker.TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads(() => SmallSequenceAutoencoder(2), Tensor.FromArray(Synthetic.Uniform(64 * 15, 2, 0, 1), 64, 5, 3));
    }
}
