using Latent.Layers;

namespace Latent.Bench;

/// <summary>The blog post's models as the benchmarks use them (uncompiled: each benchmark compiles as it is run).</summary>
internal static class BlogModels
{
    /// <summary>The blog's convolutional autoencoder (the conv issue's contract): 28×28×1 → 4×4×8 code → 28×28×1 sigmoid.</summary>
    public static Model ConvAutoencoder(string name = "conv_autoencoder")
    {
        var img = Input.Create(28, 28, 1);
        var x = new Conv2D(16, (3, 3), activation: "relu", padding: "same").Apply(img);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new MaxPooling2D((2, 2), padding: "same").Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2D(8, (3, 3), activation: "relu", padding: "same").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        x = new Conv2D(16, (3, 3), activation: "relu").Apply(x);
        x = new UpSampling2D((2, 2)).Apply(x);
        return new Model(img, new Conv2D(1, (3, 3), activation: "sigmoid", padding: "same").Apply(x), name: name);
    }
}
