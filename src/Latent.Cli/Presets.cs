using Latent.Layers;
using Latent.Optimizers;

namespace Latent.Cli;

/// <summary>Everything that defines a training run; saved as run.json and reloaded by --resume.</summary>
internal sealed record RunConfig(
    string Model, string Dataset, int CodeSize, string Optimizer, double? LearningRate, int BatchSize,
    int Epochs, int Seed, double L1, int CheckpointEvery, string L1Reduction = "sum", double Noise = 0,
    int ImageSize = 0, int Channels = 1, double KlWeight = 1, int KlWarmup = 0, string Header = "auto", string? Columns = null, string? Drop = null,
    int Timesteps = 0, float[]? FeatureMin = null, float[]? FeatureMax = null, double? MaskValue = null,
    string Scaling = "minmax", float[]? FeatureMean = null, float[]? FeatureStd = null)
{
    /// <summary>The models the tool trains by name.</summary>
    public static readonly string[] Models = ["simple", "sparse", "deep", "conv", "denoise", "vae", "conv-vae", "lstm"];

    /// <summary>
    /// The notebook's models: simple (32 relu, adagrad, batch 32), sparse (+ L1 1e-4 on the code), deep
    /// (128-64-32-64-128, adadelta, batch 100); the blog's convolutional autoencoder (conv, adadelta, batch 128, 50
    /// epochs) and its denoising one (denoise: Conv32-Pool-Conv32-Pool / Conv32-Up-Conv32-Up-Conv1, trained on
    /// inputs with Gaussian noise 0.5 clipped to [0, 1] against the clean images, 100 epochs); the blog's variational
    /// autoencoder (vae: 784-256-2, rmsprop, batch 100, 50 epochs) and keras.io's convolutional one (conv-vae: adam,
    /// batch 128, 30 epochs), whose code size is the latent size; the blog's sequence-to-sequence autoencoder (lstm:
    /// LSTM(64) code, RepeatVector, LSTM back to the features, MSE, adam, batch 128, 10 epochs, on MNIST's rows).
    /// </summary>
    public static RunConfig Preset(string model) => model switch
    {
        "simple" => new("simple", "mnist", 32, "adagrad", null, 32, 100, 0, 0, 0),
        "sparse" => new("sparse", "mnist", 32, "adagrad", null, 32, 100, 0, 1e-4, 0),
        "deep" => new("deep", "mnist", 32, "adadelta", null, 100, 100, 0, 0, 0),
        "conv" => new("conv", "mnist", 8, "adadelta", null, 128, 50, 0, 0, 0),
        "denoise" => new("denoise", "mnist", 32, "adadelta", null, 128, 100, 0, 0, 0, Noise: 0.5),
        "vae" => new("vae", "mnist", 2, "rmsprop", null, 100, 50, 0, 0, 0),
        "conv-vae" => new("conv-vae", "mnist", 2, "adam", null, 128, 30, 0, 0, 0),
        "lstm" => new("lstm", "mnist-rows", 64, "adam", null, 128, 10, 0, 0, 0),
        _ => throw new ArgumentException($"Unknown model '{model}'. Expected one of: {string.Join(", ", Models)}."),
    };

    /// <summary>Whether the model is convolutional (takes images as height × width × channels).</summary>
    public bool IsConvolutional => Model is "conv" or "denoise" or "conv-vae";

    /// <summary>Whether the model reads sequences (timesteps × features).</summary>
    public bool IsSequence => Model is "lstm";

    /// <summary>The per-feature scaling recorded for a sequence run, or null.</summary>
    public Latent.Data.FeatureScaler? CreateScaler() =>
        FeatureMean is not null && FeatureStd is not null ? Latent.Data.FeatureScaler.FromLists(FeatureMean, FeatureStd, Latent.Data.FeatureScaling.Standard)
        : FeatureMin is null || FeatureMax is null ? null : Latent.Data.FeatureScaler.FromLists(FeatureMin, FeatureMax);

    /// <summary>The scaling of a table's columns: min-max into [0, 1] (the default) or standard.</summary>
    public Latent.Data.FeatureScaling ScalingKind => Scaling switch
    {
        "minmax" => Latent.Data.FeatureScaling.MinMax,
        "standard" => Latent.Data.FeatureScaling.Standard,
        _ => throw new ArgumentException($"--scaling must be minmax or standard, received '{Scaling}'."),
    };

    /// <summary>This configuration with <paramref name="scaler"/>'s statistics recorded (for run.json and --resume).</summary>
    public RunConfig WithScaler(Latent.Data.FeatureScaler scaler) => scaler.Kind == Latent.Data.FeatureScaling.Standard
        ? this with { FeatureMean = [.. scaler.Mean], FeatureStd = [.. scaler.Std] }
        : this with { FeatureMin = [.. scaler.Min], FeatureMax = [.. scaler.Max] };

    /// <summary>
    /// Whether the data set is a .csv or .parquet table. Its models reconstruct with mean squared error: binary
    /// cross-entropy suits pixels in [0, 1], but scaled table values of new rows leave that range, and its score then
    /// falls where the error grows.
    /// </summary>
    public bool IsTable => DataSource.IsTable(Dataset);

    /// <summary>Standard-scaled columns are unbounded: a linear reconstruction; else a sigmoid.</summary>
    private string OutputActivation => Scaling == "standard" ? "linear" : "sigmoid";

    /// <summary>Whether the model is a variational autoencoder (its code is z_mean; it can generate).</summary>
    public bool IsVariational => Model is "vae" or "conv-vae";

    /// <summary>Builds (autoencoder, encoder) for images of <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>; the encoder shares the autoencoder's layers.</summary>
    public (Model Autoencoder, Model Encoder) Build(int height, int width, int channels)
    {
        if (IsVariational) return BuildVariational(height, width, channels);
        if (IsSequence) return BuildSequence(height, width);
        if (IsConvolutional) return BuildConvolutional(height, width, channels);
        Randomness.SetSeed(Seed);
        int features = height * width * channels;
        var input = Input.Create(features, name: "image");
        SymbolicTensor code, output;
        if (Model == "deep")
        {
            var h = new Dense(4 * CodeSize, "relu").Apply(input);
            h = new Dense(2 * CodeSize, "relu").Apply(h);
            code = new Dense(CodeSize, "relu", activityRegularizer: Penalty(), name: "code").Apply(h);
            h = new Dense(2 * CodeSize, "relu").Apply(code);
            h = new Dense(4 * CodeSize, "relu").Apply(h);
            output = new Dense(features, OutputActivation, name: "reconstruction").Apply(h);
        }
        else
        {
            code = new Dense(CodeSize, "relu", activityRegularizer: Penalty(), name: "code").Apply(input);
            output = new Dense(features, OutputActivation, name: "reconstruction").Apply(code);
        }
        var autoencoder = new Model(input, output, name: $"{Model}_autoencoder");
        autoencoder.Compile(CreateOptimizer(), IsTable ? "mse" : "binary_crossentropy");
        return (autoencoder, new Model(input, code, name: "encoder"));
    }

    /// <summary>
    /// The blog's convolutional autoencoders, for images whose sides are multiples of 4 (conv pools three times with
    /// "same" padding and so takes any size that its up-sampling and one valid convolution bring back: 28 → 4 → 28).
    /// </summary>
    private (Model Autoencoder, Model Encoder) BuildConvolutional(int height, int width, int channels)
    {
        Randomness.SetSeed(Seed);
        var input = Input.Create([height, width, channels], name: "image");
        SymbolicTensor x, code;
        if (Model == "conv")
        {
            if (height != 28 || width != 28)
                throw new ArgumentException($"--model conv is the blog's architecture for 28×28 images (its valid convolution maps 16 to 14); received {height}×{width}. Use --model denoise, which takes any size divisible by 4.");
            x = new Conv2D(16, (3, 3), activation: "relu", padding: "same").Apply(input);
            x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(x);
            x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(x);
            code = new MaxPooling2D((2, 2), padding: "same", name: "code").Apply(x);      // (4, 4, 8)
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(code);
            x = new UpSampling2D((2, 2)).Apply(x);
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(x);
            x = new UpSampling2D((2, 2)).Apply(x);
            x = new Conv2D(16, (3, 3), activation: "relu").Apply(x);                        // valid: 16 → 14
            x = new UpSampling2D((2, 2)).Apply(x);
        }
        else
        {
            if (height % 4 != 0 || width % 4 != 0)
                throw new ArgumentException($"--model denoise pools twice and up-samples twice: image sides must be multiples of 4, received {height}×{width} (use --image-size).");
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(input);
            x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(x);
            code = new MaxPooling2D((2, 2), padding: "same", name: "code").Apply(x);      // (7, 7, 32)
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(code);
            x = new UpSampling2D((2, 2)).Apply(x);
            x = new Conv2D(CodeSize, (3, 3), activation: "relu", padding: "same").Apply(x);
            x = new UpSampling2D((2, 2)).Apply(x);
        }
        var output = new Conv2D(channels, (3, 3), activation: "sigmoid", padding: "same", name: "reconstruction").Apply(x);
        var autoencoder = new Model(input, output, name: $"{Model}_autoencoder");
        autoencoder.Compile(CreateOptimizer(), "binary_crossentropy");
        return (autoencoder, new Model(input, code, name: "encoder"));
    }

    /// <summary>
    /// The blog's sequence-to-sequence autoencoder for <paramref name="steps"/> × <paramref name="features"/> sequences:
    /// an LSTM reads the sequence into its last state (the code), RepeatVector hands the code to every step of a second
    /// LSTM that writes the features back; mean squared error.
    /// </summary>
    private (Model Autoencoder, Model Encoder) BuildSequence(int steps, int features)
    {
        Randomness.SetSeed(Seed);
        var input = Input.Create([steps, features], name: "sequence");
        if (MaskValue is not null)
        {
            // Padded steps arrive as FeatureScaler.ScaledPadding: both LSTMs skip them and the loss leaves them out.
            var masked = new Masking(Latent.Data.FeatureScaler.ScaledPadding, name: "padding").Apply(input);
            var maskedCode = new LSTM(CodeSize, name: "code").Apply(masked);
            var decoder = new LSTM(features, returnSequences: true, name: "reconstruction");
            var rebuilt = decoder.ApplyWithMask(new RepeatVector(steps).Apply(maskedCode), masked.Mask!)[0];
            var masking = new Model(input, rebuilt, name: "lstm_autoencoder");
            masking.Compile(CreateOptimizer(), "mse");
            return (masking, new Model(input, maskedCode, name: "encoder"));
        }
        var code = new LSTM(CodeSize, name: "code").Apply(input);
        var repeated = new RepeatVector(steps).Apply(code);
        var output = new LSTM(features, returnSequences: true, name: "reconstruction").Apply(repeated);
        var autoencoder = new Model(input, output, name: "lstm_autoencoder");
        autoencoder.Compile(CreateOptimizer(), "mse");
        return (autoencoder, new Model(input, code, name: "encoder"));
    }

    /// <summary>The VAEs of Latent.Models; the encoder gives z_mean, the deterministic code.</summary>
    private (Model Autoencoder, Model Encoder) BuildVariational(int height, int width, int channels)
    {
        Randomness.SetSeed(Seed);
        var vae = Model == "vae"
            ? Latent.Models.VariationalAutoencoder.Dense(height * width * channels, 256, CodeSize, KlWeight, CreateOptimizer())
            : Latent.Models.VariationalAutoencoder.Convolutional(height, width, channels, CodeSize, KlWeight, CreateOptimizer());
        return (vae.Model, MeanEncoder(vae));
    }

    private static Model MeanEncoder(Latent.Models.VariationalAutoencoder vae) =>
        new(vae.Model.Inputs[0], vae.Encoder.Outputs[0], name: "encoder");

    /// <summary>The code's L1 activity penalty, summed over the batch (Keras 2) or averaged ("mean", Keras 1.0.x / tf.keras).</summary>
    private Regularizer? Penalty() => L1 <= 0 ? null : Regularizers.L1(L1, L1Reduction switch
    {
        "sum" => ActivityReduction.Sum,
        "mean" => ActivityReduction.Mean,
        _ => throw new ArgumentException($"--l1-reduction must be sum or mean, received '{L1Reduction}'."),
    });

    public Optimizer CreateOptimizer()
    {
        var o = Latent.Optimizers.Optimizer.Get(Optimizer);
        if (LearningRate is double lr) o.LearningRate = lr;
        return o;
    }

    /// <summary>The encoder of a loaded autoencoder: from its input to the layer named "code", or to z_mean for a VAE.</summary>
    public static Model EncoderOf(Model autoencoder) => autoencoder.Layers.OfType<Sampling>().Any()
        ? MeanEncoder(Latent.Models.VariationalAutoencoder.FromModel(autoencoder))
        : new(autoencoder.Inputs[0], autoencoder.GetLayerOutput("code"), name: "encoder");

    /// <summary>The parts of the VAE in <paramref name="runPath"/>'s model, or a clear error when it is not one.</summary>
    public static Latent.Models.VariationalAutoencoder VaeOf(Model model, string runPath) =>
        model.Layers.OfType<Sampling>().Any() ? Latent.Models.VariationalAutoencoder.FromModel(model)
            : throw new ArgumentException($"{runPath} holds '{model.Name}', not a variational autoencoder: train one with --model vae or conv-vae.");
}
