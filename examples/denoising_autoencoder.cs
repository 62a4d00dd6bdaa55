#:project ../src/Latent/Latent.csproj
// The blog post's denoising autoencoder: MNIST digits with Gaussian noise are restored by a convolutional
// autoencoder trained noisy → clean.
//   dotnet run -c Release examples/denoising_autoencoder.cs -- [epochs] [training images]   (default 100 and all 60,000, as in the post)
// Writes examples/out/denoise.png: noisy test digits, their restorations, and the clean digits.
using Latent;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 100;
int samples = args.Length > 1 ? int.Parse(args[1]) : 60000;
Randomness.SetSeed(1);

var (xTrain, _, xTest, _) = Mnist.Load(flatten: false);
if (samples < xTrain.Rows) xTrain = xTrain.SliceRows(0, samples);

// x + 0.5·N(0, 1), clipped to [0, 1]
double noiseFactor = 0.5;
Tensor xTrainNoisy = Noise.AddGaussian(xTrain, noiseFactor, seed: 1);
Tensor xTestNoisy = Noise.AddGaussian(xTest, noiseFactor, seed: 2);

var inputImg = Input.Create(28, 28, 1);
var x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(inputImg);
x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(x);
var encoded = new MaxPooling2D((2, 2), padding: "same").Apply(x);

// at this point the representation is (7, 7, 32)

x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(encoded);
x = new UpSampling2D((2, 2)).Apply(x);
x = new Conv2D(32, (3, 3), activation: "relu", padding: "same").Apply(x);
x = new UpSampling2D((2, 2)).Apply(x);
var decoded = new Conv2D(1, (3, 3), activation: "sigmoid", padding: "same").Apply(x);

var autoencoder = new Model(inputImg, decoded);
autoencoder.Compile(optimizer: "adadelta", loss: "binary_crossentropy");

autoencoder.Fit(xTrainNoisy, xTrain, epochs: epochs, batchSize: 128, shuffle: true,
                validationData: (xTestNoisy, xTest), verbose: 2, seed: 1);

var restored = autoencoder.Predict(xTestNoisy.SliceRows(0, 10));
Console.WriteLine($"test loss {autoencoder.Evaluate(xTestNoisy, xTest, batchSize: 128):F4}");

Directory.CreateDirectory(Path.Combine("examples", "out"));
Figures.ImageRows(Path.Combine("examples", "out", "denoise.png"),
[
    ("noisy", xTestNoisy.SliceRows(0, 10), 28, 28, false, 4),
    ("restored", restored, 28, 28, false, 4),
    ("clean", xTest.SliceRows(0, 10), 28, 28, false, 4),
], $"denoising autoencoder, noise {noiseFactor}, {epochs} epochs");
