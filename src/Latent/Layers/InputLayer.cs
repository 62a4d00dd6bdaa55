using Latent.Serialization;

namespace Latent.Layers;

/// <summary>The source of a graph: holds no weights and does no math; an executor writes the batch into its output.</summary>
public sealed class InputLayer : Layer, IConfigurableLayer<InputLayer>
{
    /// <summary>Creates an input of the given per-sample shape.</summary>
    /// <exception cref="ArgumentException">A dimension is not positive.</exception>
    public InputLayer(int[] shape, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw new ArgumentException($"Input dimensions must be positive integers. Received: shape={ShapeUtil.Format(shape)}.", nameof(shape));
        var copy = (int[])shape.Clone();
        InputShape = copy;
        Output = new Node(this, [], [copy], 0).Output;
    }

    /// <summary>Per-sample shape.</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>The symbolic tensor this input produces.</summary>
    public SymbolicTensor Output { get; }

    /// <inheritdoc />
    protected override string DefaultNamePrefix => "input";

    /// <inheritdoc />
    protected override int InputArity => 0;

    /// <inheritdoc />
    protected internal override int[] ComputeOutputShape(IReadOnlyList<int[]> inputShapes) => (int[])InputShape;

    /// <inheritdoc />
    protected internal override void GetConfig(LayerConfig config) => config.Set("shape", InputShape);

    /// <inheritdoc />
    public static InputLayer FromConfig(LayerConfig c) => new(c.GetInts("shape"), c.Name);

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Forward(NodeContext ctx) { }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    protected internal override void Backward(NodeContext ctx) { }
}

/// <summary>Keras's <c>Input(shape=...)</c>: creates an <see cref="InputLayer"/> and returns its symbolic output.</summary>
public static class Input
{
    /// <summary>An input of <paramref name="size"/> features per sample: <c>Input.Create(784)</c>.</summary>
    public static SymbolicTensor Create(int size, string? name = null) => new InputLayer([size], name).Output;

    /// <summary>An input of per-sample shape (d0, d1, …): <c>Input.Create(28, 28, 1)</c> for images, channels last.</summary>
    public static SymbolicTensor Create(int d0, int d1, params int[] rest) => new InputLayer([d0, d1, .. rest]).Output;

    /// <summary>An input of any per-sample shape: <c>Input.Create([28, 28, 1])</c>.</summary>
    public static SymbolicTensor Create(int[] shape, string? name = null) => new InputLayer(shape, name).Output;
}
