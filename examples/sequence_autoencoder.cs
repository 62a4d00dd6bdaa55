#:project ../src/Latent/Latent.csproj
// The blog post's sequence-to-sequence autoencoder, on MNIST read row by row (28 time steps of 28 features):
//   dotnet run -c Release examples/sequence_autoencoder.cs -- [epochs] [training sequences] [seed]
//   (default 10 epochs on all 60,000 training digits)
// An LSTM reads the whole sequence into one 64-value code; RepeatVector feeds that code to every step of a second
// LSTM, which writes the sequence back. Writes examples/out/sequence.png (test digits over their reconstructions)
// and examples/out/sequence_errors.png (each test sequence's reconstruction error).
using Latent;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 10;
int samples = args.Length > 1 ? int.Parse(args[1]) : 60000;
int seed = args.Length > 2 ? int.Parse(args[2]) : 1;
Randomness.SetSeed(seed);

int timesteps = 28, inputDim = 28, latentDim = 64;
var (xTrain, _, xTest, _) = Mnist.Load(flatten: false);
Tensor seqTrain = xTrain.Reshape(60000, 28, 28).SliceRows(0, samples), seqTest = xTest.Reshape(10000, 28, 28); // rows as time steps

var inputs  = Input.Create(timesteps, inputDim);
var encoded = new LSTM(latentDim).Apply(inputs);                          // the last step's state: (None, 64)
var decoded = new RepeatVector(timesteps).Apply(encoded);                 // the code at every step: (None, 28, 64)
decoded = new LSTM(inputDim, returnSequences: true).Apply(decoded);       // (None, 28, 28)
var sequenceAutoencoder = new Model(inputs, decoded);
var encoder = new Model(inputs, encoded);
sequenceAutoencoder.Compile(optimizer: "adam", loss: "mse");
sequenceAutoencoder.Fit(seqTrain, seqTrain, epochs: epochs, batchSize: 128, shuffle: true,
                        validationData: (seqTest, seqTest), verbose: 2, seed: seed);
Tensor codes = encoder.Predict(seqTest);                                  // (10000, 64)

// "Does it only learn the mean?": the error of always answering the training set's mean sequence, for comparison.
var mean = new float[timesteps * inputDim];
for (int i = 0; i < seqTrain.Rows; i++)
    for (int j = 0; j < mean.Length; j++) mean[j] += seqTrain.Row(i)[j] / seqTrain.Rows;
double meanMse = 0;
for (int i = 0; i < seqTest.Rows; i++)
    for (int j = 0; j < mean.Length; j++) meanMse += Math.Pow(seqTest.Row(i)[j] - mean[j], 2) / (seqTest.Rows * (double)mean.Length);

Directory.CreateDirectory(Path.Combine("examples", "out"));
var shown = seqTest.SliceRows(0, 10);
Figures.ImageRows(Path.Combine("examples", "out", "sequence.png"),
    [("original", shown, 28, 28, false, 2), ("reconstructed", sequenceAutoencoder.Predict(shown), 28, 28, false, 2)],
    $"MNIST rows as sequences: LSTM(64) code, {epochs} epochs");
double[] errors = sequenceAutoencoder.LossPerSample(seqTest, seqTest);
Figures.ScoreHistogram(Path.Combine("examples", "out", "sequence_errors.png"), errors, errors.OrderBy(e => e).ElementAt(errors.Length * 99 / 100),
                       "Reconstruction error (MSE) per test sequence; the line is the 99th percentile");

double test = sequenceAutoencoder.Evaluate(seqTest, seqTest, batchSize: 256);
Console.WriteLine($"test loss {test:F4} (the mean sequence scores {meanMse:F4}); codes {string.Join("×", codes.Shape)}; " +
                  "wrote examples/out/sequence.png and examples/out/sequence_errors.png");
