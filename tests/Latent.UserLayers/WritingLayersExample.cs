using Latent;
using Latent.Layers;
using Latent.Losses;
using Latent.Serialization;

namespace Latent.UserLayers;

/// <summary>The usage part of docs/WRITING-LAYERS.md, run by a test on a slice of MNIST.</summary>
public static class WritingLayersExample
{
    public static (History History, Model Vae, Model Loaded) Run(Tensor xTrain, int epochs, string path)
    {
        // --8<-- [start:usage]
        LayerRegistry.Register<FeatureScale>();         // once per program, before Model.Load
        LayerRegistry.Register<GaussianSampling>();

        var input   = Input.Create(784);
        var h       = new Dense(256, activation: "relu").Apply(input);
        var mean    = new Dense(2, name: "z_mean").Apply(h);
        var logVar  = new Dense(2, name: "z_log_var").Apply(h);
        var z       = new GaussianSampling(klWeight: 1).Apply(mean, logVar);
        var hidden  = new FeatureScale("relu").Apply(new Dense(256).Apply(z));
        var decoded = new Dense(784, activation: "sigmoid").Apply(hidden);
        var vae = new Model(input, decoded);
        vae.Compile("rmsprop", new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
        History history = vae.Fit(xTrain, xTrain, epochs: epochs, batchSize: 100, seed: 1, verbose: 0);
        // history.Loss = reconstruction (summed over pixels) + history.AddedLoss (the KL term)
        vae.Save(path);
        Model loaded = Model.Load(path);
        // --8<-- [end:usage]
        return (history, vae, loaded);
    }
}
