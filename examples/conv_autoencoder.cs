#:project ../src/Latent/Latent.csproj
// The blog post's convolutional autoencoder, in the order the post reads:
//   dotnet run -c Release examples/conv_autoencoder.cs -- [epochs] [training images]   (default 50 and all 60,000, as in the post)
// Writes examples/out/conv.png: ten test digits over their reconstructions, and their 4×4×8 codes.
using Latent;
using Latent.Datasets;
using Latent.Layers;
using Latent.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 50;
int samples = args.Length > 1 ? int.Parse(args[1]) : 60000;
Randomness.SetSeed(1);

var inputImg = Input.Create(28, 28, 1);   // adapt this if using `channels_first` image data format

var x = new Conv2D(16, (3, 3), activation: "relu", padding: "same").Apply(inputImg);
x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
var encoded = new MaxPooling2D((2, 2), padding: "same").Apply(x);

// at this point the representation is (4, 4, 8) i.e. 128-dimensional

x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(encoded);
x = new UpSampling2D((2, 2)).Apply(x);
x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
x = new UpSampling2D((2, 2)).Apply(x);
x = new Conv2D(16, (3, 3), activation: "relu").Apply(x);
x = new UpSampling2D((2, 2)).Apply(x);
var decoded = new Conv2D(1, (3, 3), activation: "sigmoid", padding: "same").Apply(x);

var autoencoder = new Model(inputImg, decoded);
autoencoder.Compile(optimizer: "adadelta", loss: "binary_crossentropy");
autoencoder.Summary();

// MNIST as (samples, 28, 28, 1) in [0, 1].
var (xTrain, _, xTest, _) = Mnist.Load(flatten: false);
if (samples < xTrain.Rows) xTrain = xTrain.SliceRows(0, samples);

autoencoder.Fit(xTrain, xTrain, epochs: epochs, batchSize: 128, shuffle: true, validationData: (xTest, xTest), verbose: 2, seed: 1);

var decodedImgs = autoencoder.Predict(xTest.SliceRows(0, 10));
var encoder = new Model(inputImg, encoded);
var encodedImgs = encoder.Predict(xTest.SliceRows(0, 10));
Console.WriteLine($"test loss {autoencoder.Evaluate(xTest, xTest, batchSize: 128):F4}");

Directory.CreateDirectory(Path.Combine("examples", "out"));
Figures.ImageRows(Path.Combine("examples", "out", "conv.png"),
[
    ("original", xTest.SliceRows(0, 10), 28, 28, false, 4),
    ("reconstruction", decodedImgs, 28, 28, false, 4),
    ("code 4×32", encodedImgs.Reshape(10, 128), 4, 32, true, 3),
], $"convolutional autoencoder, {epochs} epochs");
