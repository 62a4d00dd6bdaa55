using Latent.Layers;

namespace Latent.Tests.TestSupport;

/// <summary>Small models several tests train.</summary>
internal static class TestModels
{
    /// <summary>
    /// A compiled convolutional autoencoder on <paramref name="side"/>² × 2 inputs: Conv2D(<paramref name="filters"/>, 3×3,
    /// stride 2, same, ReLU) → Conv2DTranspose(2, 3×3, stride 2, same, sigmoid), binary cross-entropy, weights drawn after
    /// <see cref="Randomness.SetSeed"/>(<paramref name="seed"/>).
    /// </summary>
    public static Model ConvAutoencoder(int side, int filters, string optimizer, int seed)
    {
        Randomness.SetSeed(seed);
        var input = Input.Create(side, side, 2);
        var h = new Conv2D(filters, (3, 3), strides: (2, 2), padding: "same", activation: "relu").Apply(input);
        var model = new Model(input, new Conv2DTranspose(2, (3, 3), strides: (2, 2), padding: "same", activation: "sigmoid").Apply(h));
        model.Compile(optimizer, "binary_crossentropy");
        return model;
    }
}
