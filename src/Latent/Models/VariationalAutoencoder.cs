using Latent.Layers;
using Latent.Losses;

namespace Latent.Models;

/// <summary>
/// A variational autoencoder and its parts, sharing layers: <see cref="Model"/> (x → reconstruction, trained on
/// the negative ELBO: reconstruction summed over features plus the KL the <see cref="Layers.Sampling"/> layer
/// adds), <see cref="Encoder"/> (x → [z_mean, z_log_var, z]) and <see cref="Generator"/> (z → x).
/// <see cref="Dense"/> and <see cref="Convolutional"/> are the blog's and keras.io's architectures;
/// <see cref="FromModel"/> finds the parts again in a loaded model.
/// </summary>
public sealed record VariationalAutoencoder(Model Model, Model Encoder, Model Generator, Sampling Sampling)
{
    /// <summary>The latent size d.</summary>
    public int LatentSize => Generator.Inputs[0].Size;

    /// <summary>
    /// The blog's VAE: x (features) → Dense(hidden, relu) → z_mean, z_log_var Dense(latent) → Sampling →
    /// Dense(hidden, relu) → Dense(features, sigmoid); compiled with <paramref name="optimizer"/> (RMSprop by default) and binary cross-entropy summed
    /// over the features (the blog trains 50 epochs at batch 100).
    /// </summary>
    public static VariationalAutoencoder Dense(int features = 784, int hidden = 256, int latent = 2, double klWeight = 1, Optimizers.Optimizer? optimizer = null)
    {
        Positive(features, nameof(features)); Positive(hidden, nameof(hidden)); Positive(latent, nameof(latent));
        var inputs = Input.Create(features, name: "x");
        var h = new Layers.Dense(hidden, "relu", name: "encoder_hidden").Apply(inputs);
        var zMean = new Layers.Dense(latent, name: "z_mean").Apply(h);
        var zLogVar = new Layers.Dense(latent, name: "z_log_var").Apply(h);
        var sampling = new Sampling(klWeight, name: "z");
        var z = sampling.Apply(zMean, zLogVar);
        var output = new Layers.Dense(features, "sigmoid", name: "reconstruction").Apply(new Layers.Dense(hidden, "relu", name: "decoder_hidden").Apply(z));
        return Assemble(new Model(inputs, output, name: "vae"), optimizer ?? new Optimizers.RmsProp());
    }

    /// <summary>
    /// keras.io's convolutional VAE (<c>vae.py</c>): Conv2D(32, 3, stride 2, same, relu) → Conv2D(64, 3, stride 2,
    /// same, relu) → Flatten → Dense(16, relu) → z_mean, z_log_var Dense(latent) → Sampling → Dense(h/4·w/4·64,
    /// relu) → Reshape → Conv2DTranspose(64, 3, stride 2, same, relu) → Conv2DTranspose(32, 3, stride 2, same,
    /// relu) → Conv2DTranspose(channels, 3, same, sigmoid); <paramref name="optimizer"/> (Adam by default); reconstruction summed over pixels (keras.io trains
    /// 30 epochs at batch 128 on all 70,000 digits).
    /// </summary>
    /// <exception cref="ArgumentException">Image sides that are not multiples of 4.</exception>
    public static VariationalAutoencoder Convolutional(int height = 28, int width = 28, int channels = 1, int latent = 2, double klWeight = 1, Optimizers.Optimizer? optimizer = null)
    {
        Positive(height, nameof(height)); Positive(width, nameof(width)); Positive(channels, nameof(channels)); Positive(latent, nameof(latent));
        if (height % 4 != 0 || width % 4 != 0)
            throw new ArgumentException($"The convolutional VAE halves the image twice: sides must be multiples of 4, received {height}×{width}.");
        var inputs = Input.Create([height, width, channels], name: "x");
        var x = new Conv2D(32, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(inputs);
        x = new Conv2D(64, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(x);
        x = new Flatten().Apply(x);
        x = new Layers.Dense(16, "relu", name: "encoder_hidden").Apply(x);
        var zMean = new Layers.Dense(latent, name: "z_mean").Apply(x);
        var zLogVar = new Layers.Dense(latent, name: "z_log_var").Apply(x);
        var sampling = new Sampling(klWeight, name: "z");
        var z = sampling.Apply(zMean, zLogVar);
        var y = new Layers.Dense(height / 4 * (width / 4) * 64, "relu", name: "decoder_hidden").Apply(z);
        y = new Reshape([height / 4, width / 4, 64]).Apply(y);
        y = new Conv2DTranspose(64, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(y);
        y = new Conv2DTranspose(32, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(y);
        var output = new Conv2DTranspose(channels, (3, 3), padding: "same", activation: "sigmoid", name: "reconstruction").Apply(y);
        return Assemble(new Model(inputs, output, name: "conv_vae"), optimizer ?? new Optimizers.Adam());
    }

    /// <summary>
    /// The parts of a VAE built by hand or loaded from a file: the model's one <see cref="Layers.Sampling"/> layer
    /// marks z; its two inputs are z_mean and z_log_var. Compiles nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no Sampling layer, or calls one more than once.</exception>
    public static VariationalAutoencoder FromModel(Model vae)
    {
        ArgumentNullException.ThrowIfNull(vae);
        var nodes = vae.Nodes.Where(n => n.Layer is Sampling).ToArray();
        if (nodes.Length != 1)
            throw new ArgumentException(nodes.Length == 0
                ? $"Model '{vae.Name}' has no Sampling layer: it is not a variational autoencoder."
                : $"Model '{vae.Name}' calls Sampling {nodes.Length} times; which one is the latent is ambiguous.", nameof(vae));
        var node = nodes[0];
        var encoder = new Model(vae.Inputs, [node.Inputs[0], node.Inputs[1], node.Output], name: "encoder");
        return new VariationalAutoencoder(vae, encoder, vae.SubModel(node.Output, name: "generator"), (Sampling)node.Layer);
    }

    /// <summary>Decodes <paramref name="count"/> draws of z ~ N(0, I) (seeded): random samples of the model.</summary>
    public Tensor Sample(int count, int seed = 0)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, $"Expected a positive number of samples. Received: count={count}.");
        var z = new Tensor([count, LatentSize]);
        var rng = new Rng((ulong)seed * 0x9E3779B97F4A7C15UL + 3);
        var s = z.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)rng.NextGaussianPair().A;
        return Generator.Predict(z, batchSize: 256);
    }

    private static VariationalAutoencoder Assemble(Model vae, Optimizers.Optimizer optimizer)
    {
        vae.Compile(optimizer, new BinaryCrossentropy(reduction: LossReduction.SumOverFeatures));
        return FromModel(vae);
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"Expected a positive {name}. Received: {name}={value}.");
    }
}
