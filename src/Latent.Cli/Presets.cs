using Latent.Layers;
using Latent.Optimizers;

namespace Latent.Cli;

/// <summary>Everything that defines a training run; saved as run.json and reloaded by --resume.</summary>
internal sealed record RunConfig(
    string Model, string Dataset, int CodeSize, string Optimizer, double? LearningRate, int BatchSize,
    int Epochs, int Seed, double L1, int CheckpointEvery, string L1Reduction = "sum")
{
    /// <summary>The notebook's models: simple (32 relu, adagrad, batch 32), sparse (+ L1 1e-4 on the code), deep (128-64-32-64-128, adadelta, batch 100).</summary>
    public static RunConfig Preset(string model) => model switch
    {
        "simple" => new("simple", "mnist", 32, "adagrad", null, 32, 100, 0, 0, 0),
        "sparse" => new("sparse", "mnist", 32, "adagrad", null, 32, 100, 0, 1e-4, 0),
        "deep" => new("deep", "mnist", 32, "adadelta", null, 100, 100, 0, 0, 0),
        _ => throw new ArgumentException($"Unknown model '{model}'. Expected simple, sparse or deep."),
    };

    /// <summary>Builds (autoencoder, encoder) for <paramref name="features"/> inputs; the encoder shares the autoencoder's layers.</summary>
    public (Model Autoencoder, Model Encoder) Build(int features)
    {
        Randomness.SetSeed(Seed);
        var input = Input.Create(features, name: "image");
        SymbolicTensor code, output;
        if (Model == "deep")
        {
            var h = new Dense(4 * CodeSize, "relu").Apply(input);
            h = new Dense(2 * CodeSize, "relu").Apply(h);
            code = new Dense(CodeSize, "relu", activityRegularizer: Penalty(), name: "code").Apply(h);
            h = new Dense(2 * CodeSize, "relu").Apply(code);
            h = new Dense(4 * CodeSize, "relu").Apply(h);
            output = new Dense(features, "sigmoid", name: "reconstruction").Apply(h);
        }
        else
        {
            code = new Dense(CodeSize, "relu", activityRegularizer: Penalty(), name: "code").Apply(input);
            output = new Dense(features, "sigmoid", name: "reconstruction").Apply(code);
        }
        var autoencoder = new Model(input, output, name: $"{Model}_autoencoder");
        autoencoder.Compile(CreateOptimizer(), "binary_crossentropy");
        return (autoencoder, new Model(input, code, name: "encoder"));
    }

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

    /// <summary>The encoder of a loaded autoencoder: from its input to the layer named "code".</summary>
    public static Model EncoderOf(Model autoencoder) =>
        new(autoencoder.Inputs[0], autoencoder.GetLayerOutput("code"), name: "encoder");
}
