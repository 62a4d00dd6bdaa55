#:project ../src/Latent/Latent.csproj
// The notebook's sparse autoencoder: the simple one with an L1 activity regularizer (1e-4) on the code.
//   dotnet run -c Release examples/sparse_autoencoder.cs -- [epochs] [batch]     (default 100 epochs, batch 32)
// The penalty is summed over the batch (Keras 2), so its weight grows with the batch size.
using Latent;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 100;
int batch = args.Length > 1 ? int.Parse(args[1]) : 32;
Randomness.SetSeed(1);

int encodingDim = 32;
var inputImg = Input.Create(784);
// Add a Dense layer with an L1 activity regularizer: the codes are pushed towards zero.
var encoded = new Dense(encodingDim, activation: "relu", activityRegularizer: Regularizers.L1(1e-4)).Apply(inputImg);
var decoded = new Dense(784, activation: "sigmoid").Apply(encoded);
var autoencoder = new Model(inputImg, decoded);
var encoder = new Model(inputImg, encoded);

autoencoder.Compile(optimizer: "adagrad", loss: "binary_crossentropy");
var (xTrain, _, xTest, _) = Mnist.Load();
var history = autoencoder.Fit(xTrain, xTrain, epochs: epochs, batchSize: batch, shuffle: true,
                              validationData: (xTest, xTest), verbose: 2, seed: 1);

var (loss, penalty) = autoencoder.EvaluateParts(xTest, xTest, batch);
var codes = encoder.Predict(xTest);
Console.WriteLine($"train loss {history.Loss[^1]:F4} (penalty {history.Penalty[^1]:F4}); test loss {loss:F4} " +
                  $"(reconstruction {loss - penalty:F4}); mean code value {codes.Mean():F3}");

Directory.CreateDirectory(Path.Combine("examples", "out"));
Figures.ImageRows(Path.Combine("examples", "out", "sparse.png"),
[
    ("original", xTest.SliceRows(0, 10), 28, 28, false, 4),
    ("reconstruction", autoencoder.Predict(xTest.SliceRows(0, 10)), 28, 28, false, 4),
    ("code 4×8", codes.SliceRows(0, 10), 4, 8, true, 14),
], $"sparse autoencoder (L1 1e-4), {epochs} epochs");
