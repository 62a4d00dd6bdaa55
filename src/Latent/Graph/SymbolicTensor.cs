using Latent.Layers;

namespace Latent;

/// <summary>
/// A placeholder for a batch of values flowing through a graph, like Keras's <c>KerasTensor</c>: it knows its
/// per-sample shape and the layer call (node) that produces it, but holds no data. Applying a layer to it
/// records a node and returns the layer's output placeholder.
/// </summary>
public sealed class SymbolicTensor
{
    internal SymbolicTensor(Node producer, int[] shape, int outputIndex = 0)
    {
        Producer = producer;
        OutputIndex = outputIndex;
        Shape = shape;
        Size = ShapeUtil.Product(shape);
    }

    /// <summary>The per-sample shape (no batch axis): (784,) for a flattened image.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Elements per sample.</summary>
    public int Size { get; }

    /// <summary>The layer whose call produced this tensor.</summary>
    public Layer Layer => Producer.Layer;

    /// <summary>The node (layer call) that produced it.</summary>
    internal Node Producer { get; }

    /// <summary>Which of its node's outputs this is: 0, or 1, 2 for an LSTM's states with <c>returnState</c>.</summary>
    public int OutputIndex { get; }

    /// <summary>
    /// The mask of a sequence (per sample, one value per step: 1 to use the step, 0 to skip it), when the tensor comes
    /// from a <see cref="Masking"/> layer through layers that keep the steps; null otherwise. Recurrent layers skip the
    /// masked steps, and a model output that carries a mask leaves them out of its loss.
    /// </summary>
    public SymbolicTensor? Mask { get; internal set; }

    /// <summary>"dense_1" for the first call of a layer, "dense_1:1" for its second; "lstm_1[2]" for a further output of a call.</summary>
    public string Name => (Producer.CallIndex == 0 ? Producer.Layer.Name : $"{Producer.Layer.Name}:{Producer.CallIndex}") +
                          (OutputIndex == 0 ? "" : $"[{OutputIndex}]");

    internal int[] ShapeArray => (int[])Shape;

    /// <inheritdoc />
    public override string ToString() => $"SymbolicTensor(shape={ShapeUtil.FormatBatch(ShapeArray)}, name={Name})";
}

/// <summary>One call of a layer on symbolic inputs: one output, or several (a recurrent layer's states).</summary>
internal sealed class Node
{
    public Node(Layer layer, SymbolicTensor[] inputs, int[][] outputShapes, int callIndex, SymbolicTensor? mask = null)
    {
        Layer = layer;
        Inputs = inputs;
        CallIndex = callIndex;
        InputMask = mask;
        Outputs = [.. outputShapes.Select((shape, k) => new SymbolicTensor(this, shape, k))];
    }

    public Layer Layer { get; }

    /// <summary>The tensors the layer was applied to (saved with the model).</summary>
    public SymbolicTensor[] Inputs { get; }

    /// <summary>The mask of the first input, handed to a layer that uses masks (<see cref="Layer.UsesMask"/>); not saved: applying the layer again finds it.</summary>
    public SymbolicTensor? InputMask { get; }

    /// <summary>The mask passed with <see cref="Layer.ApplyWithMask"/> (saved with the model), or null when it came with the input.</summary>
    public SymbolicTensor? MaskGiven { get; init; }

    /// <summary><see cref="Inputs"/> and, last, the masks: every tensor the call reads or depends on.</summary>
    public IEnumerable<SymbolicTensor> Reads =>
        Inputs.Concat(new[] { InputMask, MaskGiven }.Where(m => m is not null).Distinct(ReferenceEqualityComparer.Instance).Cast<SymbolicTensor>());

    public SymbolicTensor[] Outputs { get; }
    public SymbolicTensor Output => Outputs[0];
    public int CallIndex { get; }
}
