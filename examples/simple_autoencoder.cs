#:project ../src/Latent/Latent.csproj
// The notebook's simple autoencoder, in the order the notebook reads:
//   dotnet run -c Release examples/simple_autoencoder.cs -- [epochs]     (default 100, as in the notebook)
// Writes examples/out/simple.png: ten test digits over their reconstructions.
using Latent;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 100;
Randomness.SetSeed(1);

// This is the size of our encoded representations: 32 floats, a compression factor of 24.5 for 784 inputs.
int encodingDim = 32;
var inputImg = Input.Create(784);
var encoded = new Dense(encodingDim, activation: "relu").Apply(inputImg);   // the encoded representation
var decoded = new Dense(784, activation: "sigmoid").Apply(encoded);         // the lossy reconstruction
var autoencoder = new Model(inputImg, decoded);

// A separate encoder and decoder that share the autoencoder's layers.
var encoder = new Model(inputImg, encoded);
var encodedInput = Input.Create(encodingDim);
var decoderLayer = autoencoder.Layers[^1];
var decoder = new Model(encodedInput, decoderLayer.Apply(encodedInput));

autoencoder.Compile(optimizer: "adagrad", loss: "binary_crossentropy");

// MNIST, scaled to [0, 1] and flattened to 784-vectors.
var (xTrain, _, xTest, _) = Mnist.Load();
Console.WriteLine($"x_train {string.Join("x", xTrain.Shape)}, x_test {string.Join("x", xTest.Shape)}");

autoencoder.Fit(xTrain, xTrain, epochs: epochs, batchSize: 32, shuffle: true, validationData: (xTest, xTest), verbose: 2, seed: 1);

var encodedImgs = encoder.Predict(xTest);
var decodedImgs = decoder.Predict(encodedImgs);
Console.WriteLine($"test loss {autoencoder.Evaluate(xTest, xTest):F4}; mean code value {encodedImgs.Mean():F3}");

var n = 10;
Directory.CreateDirectory(Path.Combine("examples", "out"));
Figures.ImageRows(Path.Combine("examples", "out", "simple.png"),
[
    ("original", xTest.SliceRows(0, n), 28, 28, false, 4),
    ("reconstruction", decodedImgs.SliceRows(0, n), 28, 28, false, 4),
], $"simple autoencoder, {epochs} epochs");
