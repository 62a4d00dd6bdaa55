namespace Latent;

/// <summary>
/// One contiguous buffer of parameter values and one of gradients with the same layout: each
/// <see cref="Weight"/> is a slice of both, so an optimizer step is one flat loop and zeroing the
/// gradients one clear.
/// </summary>
internal sealed class ParameterStore(int length)
{
    public float[] Values { get; } = new float[length];
    public float[] Grads { get; } = new float[length];
    public int Length => Values.Length;
}
