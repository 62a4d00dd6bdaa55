using Latent.Layers;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Graph;

public class GraphTests
{
    private static (Model Autoencoder, Model Encoder, Model Decoder) Build()
    {
        var input = Input.Create(20);
        var code = new Dense(4, "relu").Apply(input);
        var output = new Dense(20, "sigmoid").Apply(code);
        var autoencoder = new Model(input, output);
        var codeInput = Input.Create(4);
        return (autoencoder, new Model(input, code), new Model(codeInput, autoencoder.Layers[^1].Apply(codeInput)));
    }

    [Fact]
    public void SubModelsShareWeightsLive()
    {
        Randomness.SetSeed(1);
        var (ae, encoder, decoder) = Build();
        Tensor x = Synthetic.LowRank(64, 20, 2, 3);
        var before = encoder.Predict(x).ToArray();
        ae.Compile("adam", "binary_crossentropy");
        ae.Fit(x, x, epochs: 2, batchSize: 16, verbose: 0, seed: 1);
        var after = encoder.Predict(x).ToArray();
        Assert.NotEqual(before, after); // training the autoencoder changed the encoder
        Assert.Same(ae.Layers[1], encoder.Layers[1]);
        Assert.Same(ae.Layers[^1].Weights[0], decoder.Layers[^1].Weights[0]);
        var recon = decoder.Predict(encoder.Predict(x));
        Assert.Equal(ae.Predict(x).ToArray(), recon.ToArray());

        // Training the encoder alone afterwards moves the shared weights into its store; the autoencoder still sees them.
        encoder.Compile("sgd", "mean_squared_error");
        encoder.Fit(x, Tensor.FromArray(new float[64 * 4], 64, 4), epochs: 1, verbose: 0, seed: 2);
        Assert.Equal(ae.Predict(x).ToArray(), decoder.Predict(encoder.Predict(x)).ToArray());
    }

    [Fact]
    public void DisconnectedGraphIsAKerasStyleError()
    {
        var input1 = Input.Create(8, name: "in_a");
        var input2 = Input.Create(8, name: "in_b");
        var output = new Dense(3, name: "out_dense").Apply(input2);
        var e = Assert.Throws<ArgumentException>(() => new Model(input1, output));
        Assert.StartsWith("Graph disconnected: cannot reach in_b from output out_dense", e.Message);
        Assert.Contains("[in_a]", e.Message);
    }

    [Fact]
    public void WrongFeatureCountIsNamedAtApply()
    {
        var dense = new Dense(5, name: "d784");
        dense.Apply(Input.Create(784));
        var e = Assert.Throws<ArgumentException>(() => dense.Apply(Input.Create(100)));
        Assert.Contains("Dense 'd784' expects 784 features, received 100", e.Message);
    }

    [Fact]
    public void SummaryListsLayersShapesAndParamsLikeKeras()
    {
        var input = Input.Create(784, name: "input_s");
        var code = new Dense(32, "relu", name: "enc").Apply(input);
        var model = new Model(input, new Dense(784, "sigmoid", name: "dec").Apply(code), name: "ae");
        var text = model.SummaryText();
        Assert.Contains("Model: \"ae\"", text);
        Assert.Matches(@"input_s \(InputLayer\)\s+\(None, 784\)\s+0", text);
        Assert.Matches(@"enc \(Dense\)\s+\(None, 32\)\s+25,120", text);
        Assert.Matches(@"dec \(Dense\)\s+\(None, 784\)\s+25,872", text);
        Assert.Contains("Total params: 50,992", text);
        Assert.Contains("Trainable params: 50,992", text);
    }

    [Fact]
    public void LayerNamesAreUniqueAndLayersListStartsWithInputs()
    {
        var a = new Dense(2);
        var b = new Dense(2);
        Assert.NotEqual(a.Name, b.Name);
        Assert.StartsWith("dense", a.Name);
        var input = Input.Create(3);
        var model = new Model(input, b.Apply(a.Apply(input)));
        Assert.IsType<InputLayer>(model.Layers[0]);
        Assert.Equal([a, b], model.Layers.Skip(1));
    }

    [Fact]
    public void SharedLayerAppearsOnceWithMultipleShape()
    {
        var input = Input.Create(4);
        var shared = new Dense(4, "tanh");
        var model = new Model(input, shared.Apply(shared.Apply(input)));
        Assert.Equal(2, model.Layers.Count);
        Assert.Equal(20, model.CountParams());
        Assert.Contains("multiple", model.SummaryText());
    }

    [Fact]
    public void SequentialAndCallingAModelAsALayerBuildTheSameStack()
    {
        Randomness.SetSeed(5);
        var seq = new Sequential([10], new Dense(3, "relu"), new Dense(10, "sigmoid"));
        Assert.Equal(3, seq.Layers.Count);
        Assert.Equal(10 * 3 + 3 + 3 * 10 + 10, seq.CountParams());
        var input = Input.Create(10);
        var wrapped = new Model(input, seq.Apply(input));
        Tensor x = Synthetic.LowRank(5, 10, 2, 1);
        Assert.Equal(seq.Predict(x).ToArray(), wrapped.Predict(x).ToArray());
    }

    [Fact]
    public void IntermediateTensorCanBeAModelInput()
    {
        var input = Input.Create(6);
        var code = new Dense(2, "relu").Apply(input);
        var output = new Dense(6, "sigmoid").Apply(code);
        var decoder = new Model(code, output);
        Assert.Single(decoder.Nodes);
        Assert.Equal(2, decoder.Inputs[0].Size);
    }

    [Fact]
    public void AddRejectsMismatchedShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Add().Apply(Input.Create(3), Input.Create(4)));
        Assert.Contains("(None, 3) and (None, 4)", e.Message);
    }

    [Fact]
    public void InputRejectsNonPositiveShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Input.Create(0));
        Assert.Contains("shape=(0,)", e.Message);
    }
}
