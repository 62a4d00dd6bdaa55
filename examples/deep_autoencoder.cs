#:project ../src/Latent/Latent.csproj
// The notebook's deep autoencoder: 784 -> 128 -> 64 -> 32 -> 64 -> 128 -> 784, Adadelta, batch 100.
//   dotnet run -c Release examples/deep_autoencoder.cs -- [epochs]     (default 100, as in the notebook)
using Latent;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 100;
Randomness.SetSeed(1);

var inputImg = Input.Create(784);
var encoded = new Dense(128, activation: "relu").Apply(inputImg);
encoded = new Dense(64, activation: "relu").Apply(encoded);
encoded = new Dense(32, activation: "relu").Apply(encoded);

var decoded = new Dense(64, activation: "relu").Apply(encoded);
decoded = new Dense(128, activation: "relu").Apply(decoded);
decoded = new Dense(784, activation: "sigmoid").Apply(decoded);

var autoencoder = new Model(inputImg, decoded);
autoencoder.Compile(optimizer: "adadelta", loss: "binary_crossentropy");
autoencoder.Summary();

var (xTrain, _, xTest, _) = Mnist.Load();
autoencoder.Fit(xTrain, xTrain, epochs: epochs, batchSize: 100, shuffle: true, validationData: (xTest, xTest), verbose: 2, seed: 1);
Console.WriteLine($"test loss {autoencoder.Evaluate(xTest, xTest, batchSize: 100):F4}");

Directory.CreateDirectory(Path.Combine("examples", "out"));
Figures.ImageRows(Path.Combine("examples", "out", "deep.png"),
[
    ("original", xTest.SliceRows(0, 10), 28, 28, false, 4),
    ("reconstruction", autoencoder.Predict(xTest.SliceRows(0, 10)), 28, 28, false, 4),
], $"deep autoencoder, {epochs} epochs");
