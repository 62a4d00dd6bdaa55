using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

/// <summary>The one buffer a compiled model's weights live in: alignment, layout, gaps.</summary>
public class ParameterStoreTests
{
    internal static unsafe long Address(Span<float> s) => (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(s));

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

/// <summary>
/// The store's other arrays in phase with its values. In the collection that runs alone: the placement relies on the
/// pinned heap's order, which another test's pinned allocations on another thread could interleave.
/// </summary>
[Collection(Latent.Tests.Kernels.GemmSettingsCollection.Name)]
public class ParameterStorePhaseTests
{
    private static long Address(Span<float> s) => ParameterStoreTests.Address(s);

    [Fact]
    public void GradientsStateAndReplicaGradientsStartOnTheSameBoundariesAsTheValues()
    {
        // A data-parallel step's second gradient array and Adam's two state arrays are laid out like the values:
        // each weight's first element on a 64-byte boundary in every one of them.
        Randomness.SetSeed(32);
        var input = Input.Create(20);
        var output = new Dense(20, "sigmoid").Apply(new Dense(3, "relu").Apply(input));
        var model = new Model(input, output);
        model.Compile("adam", "binary_crossentropy");
        var x = Tensor.FromArray(Synthetic.Uniform(64 * 20, 2, 0, 1), 64, 20);
        model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0, seed: 1);
        var store = model.Weights[0].Store;
        var arrays = new List<float[]> { store.Grads };
        arrays.AddRange(model.Optimizer!.Slots);
        Assert.Equal(2, model.Optimizer.Slots.Length);
        foreach (var a in arrays)
        {
            Assert.True(a.Length >= store.Length, $"an array of {a.Length} floats for a store of {store.Length}");
            foreach (var w in model.Weights) Assert.Equal(0, Address(a.AsSpan(w.Offset)) % 64);
        }
        // NewInPhase itself, many times over: the pinned heap's order is the runtime's, so this checks the
        // filler arithmetic rather than luck.
        for (int length = 1; length < 200; length += 7)
        {
            var a = store.NewInPhase(length);
            Assert.Equal(length, a.Length);
            Assert.All(a, v => Assert.Equal(0f, v));
            Assert.Equal(ParameterStore.FloatsPastBoundary(store.Values), ParameterStore.FloatsPastBoundary(a));
        }
    }
}
