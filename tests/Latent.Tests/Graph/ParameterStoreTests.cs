using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

/// <summary>The one buffer a compiled model's weights live in: alignment, layout, gaps.</summary>
public class ParameterStoreTests
{
    private static unsafe long Address(Span<float> s) => (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(s));

    [Fact]
    public void EveryWeightStartsOnA64ByteBoundaryAndTheGapsStayZero()
    {
        // Odd lengths (a bias of 3, a kernel of 5×3) would put every later weight off a cache-line boundary if packed.
        Randomness.SetSeed(31);
        var input = Input.Create(5);
        var h = new Dense(3, "tanh").Apply(input);
        var output = new Dense(5, "sigmoid").Apply(new Dense(7, "relu").Apply(h));
        var model = new Model(input, output);
        Assert.All(model.Weights, w => Assert.Equal(0, Address(w.Values) % 64));   // each in its own store, before compiling
        model.Compile("adam", "binary_crossentropy");
        var x = Tensor.FromArray(Synthetic.Uniform(40 * 5, 1, 0, 1), 40, 5);
        model.Fit(x, x, epochs: 2, batchSize: 8, verbose: 0, seed: 1);
        Assert.All(model.Weights, w => Assert.Equal(0, Address(w.Values) % 64));
        var store = model.Weights[0].Store;
        Assert.All(model.Weights, w => Assert.Same(store, w.Store));
        Assert.True(store.Holds([.. model.Weights]));
        // Everything outside the weights' slices is still zero after training, in values and gradients.
        var inUse = new bool[store.Length];
        foreach (var w in model.Weights) inUse.AsSpan(w.Offset, w.Length).Fill(true);
        for (int i = 0; i < store.Length; i++)
        {
            if (inUse[i]) continue;
            Assert.Equal(0f, store.Values[i]);
            Assert.Equal(0f, store.Grads[i]);
        }
    }
}
