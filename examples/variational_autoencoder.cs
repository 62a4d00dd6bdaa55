#:project ../src/Latent/Latent.csproj
// The blog post's variational autoencoder, in the order the post reads:
//   dotnet run -c Release examples/variational_autoencoder.cs -- [epochs] [training images] [mnist|fashion-mnist]
//   (default 50 epochs on all 60,000 MNIST digits, as in the post)
// Writes examples/out/vae_latent.png (the test set in the latent plane, by class) and examples/out/vae_manifold.png
// (a 15×15 grid of digits decoded from the plane).
using Latent;
using Latent.Datasets;
using Latent.Layers;
using Latent.Losses;
using Latent.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 50;
int samples = args.Length > 1 ? int.Parse(args[1]) : 60000;
bool fashion = args.Length > 2 && args[2] == "fashion-mnist";
Randomness.SetSeed(1);

int batchSize = 100, originalDim = 784, latentDim = 2, intermediateDim = 256;

// the encoder: a mean and a log-variance for each latent dimension
var x = Input.Create(originalDim);
var h = new Dense(intermediateDim, activation: "relu").Apply(x);
var zMean = new Dense(latentDim, name: "z_mean").Apply(h);
var zLogVar = new Dense(latentDim, name: "z_log_var").Apply(h);

// z = mean + exp(logVar / 2)·ε, ε ~ N(0, I); the layer also adds the KL divergence from the prior to the loss,
// summed over the latent dimensions and averaged over the batch
var z = new Sampling(klWeight: 1.0).Apply(zMean, zLogVar);

// we instantiate these layers separately so as to reuse them later
var decoderH = new Dense(intermediateDim, activation: "relu");
var decoderMean = new Dense(originalDim, activation: "sigmoid");
var xDecodedMean = decoderMean.Apply(decoderH.Apply(z));

// end-to-end autoencoder; the reconstruction term is the cross-entropy summed over the 784 pixels, so that it and
// the KL term are the two parts of the negative evidence lower bound
var vae = new Model(x, xDecodedMean);
vae.Compile(optimizer: "rmsprop", loss: new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));

var (xTrainAll, _, xTest, yTest) = fashion ? FashionMnist.Load() : Mnist.Load();
var xTrain = xTrainAll.SliceRows(0, Math.Min(samples, xTrainAll.Rows));
vae.Fit(xTrain, xTrain, epochs: epochs, batchSize: batchSize, shuffle: true, validationData: (xTest, xTest), verbose: 2, seed: 1);

// encoder, from inputs to latent space
var encoder = new Model(x, zMean);

// generator, from latent space to reconstructed inputs
var decoderInput = Input.Create(latentDim);
var generator = new Model(decoderInput, decoderMean.Apply(decoderH.Apply(decoderInput)));

// a 2D plot of the digit classes in the latent space
Tensor xTestEncoded = encoder.Predict(xTest, batchSize: batchSize);
Directory.CreateDirectory(Path.Combine("examples", "out"));
Figures.LatentScatter(Path.Combine("examples", "out", "vae_latent.png"), xTestEncoded, yTest,
                      $"z_mean of the {(fashion ? "Fashion-MNIST" : "MNIST")} test set after {epochs} epochs",
                      fashion ? FashionMnist.ClassNames : null);

// display a 2D manifold of the digits: 15×15 points over the plane, spaced by the prior's quantiles
Tensor grid = Figures.LatentGrid(15);                 // norm.ppf(linspace(0.05, 0.95, 15)) on each axis
Tensor digits = generator.Predict(grid);              // (225, 784)
Figures.ImageGrid(Path.Combine("examples", "out", "vae_manifold.png"), digits, 28, 28, columns: 15,
                  "Decoded 15×15 grid over the latent plane");

var test = vae.EvaluateAll(xTest, xTest, batchSize);
Console.WriteLine($"test loss {test.Loss:F4} (reconstruction {test.Loss - test.AddedLoss:F4} + KL {test.AddedLoss:F4}); " +
                  "wrote examples/out/vae_latent.png and examples/out/vae_manifold.png");
