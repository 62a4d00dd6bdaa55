using Latent.Layers;

namespace Latent;

/// <summary>
/// A placeholder for a batch of values flowing through a graph, like Keras's <c>KerasTensor</c>: it knows its
/// per-sample shape and the layer call (node) that produces it, but holds no data. Applying a layer to it
/// records a node and returns the layer's output placeholder.
/// </summary>
public sealed class SymbolicTensor
{
    internal SymbolicTensor(Node producer, int[] shape)
    {
        Producer = producer;
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

    /// <summary>"dense_1" for the first call of a layer, "dense_1:1" for its second.</summary>
    public string Name => Producer.CallIndex == 0 ? Producer.Layer.Name : $"{Producer.Layer.Name}:{Producer.CallIndex}";

    internal int[] ShapeArray => (int[])Shape;

    /// <inheritdoc />
    public override string ToString() => $"SymbolicTensor(shape={ShapeUtil.FormatBatch(ShapeArray)}, name={Name})";
}

/// <summary>One call of a layer on symbolic inputs.</summary>
internal sealed class Node
{
    public Node(Layer layer, SymbolicTensor[] inputs, int[] outputShape, int callIndex)
    {
        Layer = layer;
        Inputs = inputs;
        CallIndex = callIndex;
        Output = new SymbolicTensor(this, outputShape);
    }

    public Layer Layer { get; }
    public SymbolicTensor[] Inputs { get; }
    public SymbolicTensor Output { get; }
    public int CallIndex { get; }
}
