using System.Runtime.CompilerServices;
using Latent.Initializers;
using Latent.Layers;

namespace Latent;

/// <summary>
/// A trainable tensor owned by a layer (a Dense kernel, a bias). Its storage is a slice of a
/// <see cref="ParameterStore"/>; when a model is compiled its weights are moved into one store of its own, and
/// every model sharing the layer reads the same slice, so training one model changes what the others compute.
/// </summary>
public sealed class Weight
{
    internal Weight(Layer layer, string name, int[] shape, Initializer initializer, Regularizer? regularizer, bool trainable = true)
    {
        IsTrainableWeight = trainable;
        Layer = layer;
        Name = $"{layer.Name}/{name}";
        Shape = shape;
        Length = ShapeUtil.Product(shape);
        Initializer = initializer;
        Regularizer = regularizer;
        Store = new ParameterStore(Length);
        Offset = Store.Base;
        var rng = new Rng(Randomness.NextSeed());
        initializer.Fill(Values, shape, ref rng);
    }

    /// <summary>"layer/kernel", "layer/bias".</summary>
    public string Name { get; }

    /// <summary>The tensor's shape; a Dense kernel is (inputs, units).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The layer that owns it.</summary>
    public Layer Layer { get; }

    /// <summary>How it was initialised.</summary>
    public Initializer Initializer { get; }

    /// <summary>The penalty on it, if any.</summary>
    public Regularizer? Regularizer { get; }

    /// <summary>Whether optimizers update it: a trainable weight (not a batch norm's moving statistics) of a trainable layer.</summary>
    public bool Trainable => IsTrainableWeight && Layer.Trainable;

    /// <summary>False for state the layer updates itself (moving statistics), which no optimizer touches.</summary>
    public bool IsTrainableWeight { get; }

    internal ParameterStore Store { get; private set; }
    internal int Offset { get; private set; }

    /// <summary>The values, row-major (live: writes change the model).</summary>
    public Span<float> Values
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // called from the per-step methods, which the runtime does not tier
        get => Store.Values.AsSpan(Offset, Length);
    }

    /// <summary>The gradient from the last training step.</summary>
    internal Span<float> Grads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // as Values
        get => Store.Grads.AsSpan(Offset, Length);
    }

    /// <summary>Copies the values into <paramref name="store"/> at <paramref name="offset"/> and reads them from there from now on.</summary>
    internal void MoveTo(ParameterStore store, int offset)
    {
        var destination = store.Values.AsSpan(offset, Length);
        Values.CopyTo(destination);
        Store = store;
        Offset = offset;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {ShapeUtil.Format(Shape.ToArray())}";
}
