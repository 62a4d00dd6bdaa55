using Latent.Datasets;
using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

/// <summary>The convolutional issue's code, compiled and run as written on a slice of MNIST; conv models on several cores, saved and loaded.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)] // changes Model.ParallelStepMinRows
public class ConvContractTests
{
    [Fact]
    public void ConvolutionalAutoencoderCodeRunsAsWritten()
    {
        var (trainAll, _, testAll, _) = Mnist.Load(flatten: false);               // (60000, 28, 28, 1), channels last
        Tensor xTrain = trainAll.SliceRows(0, 512), xTest = testAll.SliceRows(0, 128);
        Assert.Equal([60000, 28, 28, 1], trainAll.Shape);

        var input = Input.Create(28, 28, 1);
        var x = new Conv2D(16, (3, 3), activation: "relu", padding: "same").Apply(input);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
        var encoded = new MaxPooling2D((2, 2), padding: "same").Apply(x);     // (4, 4, 8)
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(encoded);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2D(16, (3, 3), activation: "relu").Apply(x);              // valid padding: 16 -> 14
        x = new UpSampling2D((2, 2)).Apply(x);
        var decoded = new Conv2D(1, (3, 3), activation: "sigmoid", padding: "same").Apply(x);
        var autoencoder = new Model(input, decoded);
        autoencoder.Compile(optimizer: "adadelta", loss: "binary_crossentropy");
        var history = autoencoder.Fit(xTrain, xTrain, epochs: 2, batchSize: 128, shuffle: true, validationData: (xTest, xTest), verbose: 0);

        Tensor xTrainNoisy = Noise.AddGaussian(xTrain, noiseFactor: 0.5, seed: 1);  // x + 0.5·N(0,1), clipped to [0, 1]

        Assert.Equal([4, 4, 8], encoded.Shape);
        Assert.Equal([28, 28, 1], decoded.Shape);
        Assert.Equal(2, history.ValLoss.Count);
        Assert.True(history.Loss[1] < history.Loss[0], $"loss {history.Loss[0]} -> {history.Loss[1]}");
        Assert.Equal(xTrain.Shape, xTrainNoisy.Shape);
        Assert.Equal([128, 28, 28, 1], autoencoder.Predict(xTest).Shape);
    }

    /// <summary>Every image layer in one model; <paramref name="activation"/> "tanh" keeps the loss smooth for finite differences.</summary>
    private static Model SmallConvAutoencoder(int seed, string activation = "relu")
    {
        Randomness.SetSeed(seed);
        var input = Input.Create(8, 8, 1);
        var x = new GaussianNoise(0.1).Apply(input);
        x = new Conv2D(4, (3, 3), strides: (2, 2), padding: "same", activation: activation).Apply(x);   // 4×4×4
        x = new MaxPooling2D((2, 2)).Apply(x);                                                        // 2×2×4
        x = new Flatten().Apply(x);
        x = new Dense(16, activation).Apply(x);
        x = new Reshape([2, 2, 4]).Apply(x);
        x = new Conv2DTranspose(4, (3, 3), strides: (2, 2), padding: "same", activation: activation).Apply(x); // 4×4×4
        x = new UpSampling2D((2, 2)).Apply(x);                                                        // 8×8×4
        x = new ZeroPadding2D(1).Apply(x);                                                            // 10×10×4
        x = new Cropping2D(1).Apply(x);                                                               // 8×8×4
        var model = new Model(input, new Conv2D(1, (3, 3), padding: "same", activation: "sigmoid").Apply(x));
        model.Compile("adam", "binary_crossentropy");
        return model;
    }

    [Fact]
    public void AConvModelHasTheRightGradients()
    {
        // ReLU kinks and max-pool switches break central differences; tanh and a small step keep them away.
        var model = SmallConvAutoencoder(1, "tanh");
        ModelChecker.CheckGradients(model, batch: 3, seed: 5, h: 1e-3, scale: 1000);
    }

    [Fact]
    public void AConvModelTrainsAlikeOnOneAndTwoCoresAndSavesAndLoads()
    {
        ModelChecker.TrainsAlikeOnOneAndTwoCoresAndSavesAndLoads(() => SmallConvAutoencoder(2), Tensor.FromArray(Synthetic.Uniform(64 * 64, 2, 0, 1), 64, 8, 8, 1));
    }
}
