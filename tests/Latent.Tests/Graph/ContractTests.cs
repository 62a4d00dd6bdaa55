using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

/// <summary>The code from the core issue, compiled and run as written (on small synthetic data).</summary>
public class ContractTests
{
    [Fact]
    public void NotebookCodeRunsAsWritten()
    {
        Randomness.SetSeed(1);
        float[,] all = Synthetic.LowRank(640, 784, 4, seed: 1);
        float[,] xTrain = Synthetic.Rows(all, 0, 512), xTest = Synthetic.Rows(all, 512, 128);

        var input   = Input.Create(784);
        var encoded = new Dense(32, activation: "relu",
                                activityRegularizer: Regularizers.L1(1e-4)).Apply(input);
        var decoded = new Dense(784, activation: "sigmoid").Apply(encoded);
        var autoencoder = new Model(input, decoded);
        var encoder     = new Model(input, encoded);
        var codeInput   = Input.Create(32);
        var decoder     = new Model(codeInput, autoencoder.Layers[^1].Apply(codeInput));

        autoencoder.Compile(optimizer: "adagrad", loss: "binary_crossentropy");
        History history = autoencoder.Fit(xTrain, xTrain, epochs: 3, batchSize: 32, shuffle: true,
                                          validationData: (xTest, xTest), verbose: 0);
        Tensor codes = encoder.Predict(xTest);
        Tensor recon = decoder.Predict(codes);
        double testLoss = autoencoder.Evaluate(xTest, xTest);
        var summary = new StringWriter();
        autoencoder.Summary(summary);

        Assert.Equal(3, history.Loss.Count);
        Assert.Equal(3, history.ValLoss.Count);
        Assert.True(history.Loss[^1] < history.Loss[0], $"loss went {history.Loss[0]} -> {history.Loss[^1]}");
        Assert.Equal([128, 32], codes.Shape);
        Assert.Equal([128, 784], recon.Shape);
        // decoder(encoder(x)) is the autoencoder's output: the sub-models share its layers.
        var direct = autoencoder.Predict(xTest);
        for (int i = 0; i < direct.Length; i += 97) Assert.Equal(direct.Span[i], recon.Span[i], 5);
        // Evaluate after training = the last val_loss (same weights, same data, same batches).
        Assert.Equal(history.ValLoss[^1], testLoss, 9);
        Assert.Contains("Total params: 50,992", summary.ToString());
    }
}
