using Latent.Layers;

namespace Latent;

/// <summary>
/// A linear stack of layers, like Keras's <c>Sequential</c>:
/// <c>new Sequential([784], new Dense(32, "relu"), new Dense(784, "sigmoid"))</c>.
/// </summary>
public sealed class Sequential : Model
{
    private readonly SymbolicTensor _input;
    private SymbolicTensor _last;

    /// <summary>A stack on inputs of <paramref name="inputShape"/> (per sample).</summary>
    public Sequential(int[] inputShape, params Layer[] layers) : base(null)
    {
        _input = Input.Create(inputShape);
        _last = _input;
        SetGraph([_input], [_last]);
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>Appends a layer on top of the stack.</summary>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        _last = layer.Apply(_last);
        SetGraph([_input], [_last]);
    }
}
