namespace Latent;

/// <summary>
/// The global seed, like <c>keras.utils.set_random_seed</c>. Weight initialisers draw their seeds from it
/// when a layer is built, and <c>Model.Fit</c> draws its shuffling seed from it when none is given, so
/// <c>Randomness.SetSeed(42)</c> before building a model makes a whole run reproducible on one machine.
/// </summary>
public static class Randomness
{
    private static readonly object Gate = new();
    private static Rng _global = new((ulong)Environment.TickCount64 ^ 0x5DEECE66DUL);

    /// <summary>Restarts the global stream from <paramref name="seed"/>.</summary>
    public static void SetSeed(int seed)
    {
        lock (Gate) _global = new Rng((ulong)(uint)seed);
    }

    /// <summary>Draws a fresh 64-bit seed from the global stream.</summary>
    public static ulong NextSeed()
    {
        lock (Gate) return _global.NextULong();
    }
}
