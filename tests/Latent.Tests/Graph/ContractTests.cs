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

/// <summary>The code from the "Engine 2" issue, compiled and run as written on a slice of MNIST.</summary>
public class Engine2ContractTests
{
    [Fact]
    public void TwoOutputModelCodeRunsAsWritten()
    {
        var (trainAll, _, testAll, _) = Latent.Datasets.Mnist.Load();
        Tensor xTrain = trainAll.SliceRows(0, 1024), xTest = testAll.SliceRows(0, 200);
        string path = Path.Combine(Path.GetTempPath(), $"two-{Guid.NewGuid():N}.safetensors");
        try
        {
            var input = Input.Create(784);
            var code  = new Dense(32, activation: "relu", kernelInitializer: "orthogonal", biasInitializer: "constant").Apply(input);
            var a = new Dense(784, activation: "sigmoid", kernelInitializer: "he_normal", name: "bce_out").Apply(code);
            var b = new Dense(784, activation: "sigmoid", kernelInitializer: "lecun_normal", name: "mse_out").Apply(code);
            var model = new Model([input], [a, b]);
            model.Compile(optimizer: "adam",
                          losses: [new Latent.Losses.BinaryCrossentropy(reduction: Latent.Losses.LossReduction.SumOverFeatures), new Latent.Losses.MeanSquaredError()],
                          lossWeights: [1.0, 100.0]);
            History history = model.Fit([xTrain], [xTrain, xTrain], epochs: 3, batchSize: 64, seed: 1, verbose: 0);
            IReadOnlyList<Tensor> outputs = model.PredictAll(xTest);         // one tensor per output, in order
            model.Save(path);
            IReadOnlyList<Tensor> again = Model.Load(path).PredictAll(xTest);   // bit-identical

            Assert.Equal(2, outputs.Count);
            Assert.Equal([200, 784], outputs[0].Shape);
            Assert.Equal([200, 784], outputs[1].Shape);
            for (int j = 0; j < 2; j++) Assert.Equal(outputs[j].Span.ToArray(), again[j].Span.ToArray());
            var bce = history.OutputLosses["bce_out_loss"];
            var mse = history.OutputLosses["mse_out_loss"];
            for (int e = 0; e < 3; e++) Assert.Equal(history.Loss[e], bce[e] + 100 * mse[e], 6);
            Assert.True(bce[^1] < bce[0] && mse[^1] < mse[0], $"bce {bce[0]} -> {bce[^1]}, mse {mse[0]} -> {mse[^1]}");
            Assert.InRange(bce[0], 50, 600);        // summed over 784 pixels: ~784 × a per-pixel loss
            Assert.InRange(mse[0], 0.001, 0.3);     // a mean over pixels (sigmoid outputs start near 0.5)
        }
        finally
        {
            File.Delete(path);
        }
    }
}
