namespace Latent;

/// <summary>
/// The global seed, like <c>keras.utils.set_random_seed</c>. Weight initialisers draw their seeds from it
/// when a layer is built, and <c>Model.Fit</c> draws its shuffling seed from it when none is given, so
/// <c>Randomness.SetSeed(42)</c> before building a model makes a whole run reproducible on one machine.
/// </summary>
/// <remarks>
/// The thread that calls <see cref="SetSeed"/> draws from a stream of its own from then on, so that what it builds
/// next does not depend on other threads drawing at the same time (tests run in parallel; so may a user's
/// experiments). Other threads draw from the shared stream, which <see cref="SetSeed"/> restarts too: a program that
/// seeds once and builds on one thread gets the same numbers either way.
/// </remarks>
public static class Randomness
{
    private static readonly object Gate = new();
    private static Rng _global = new((ulong)Environment.TickCount64 ^ 0x5DEECE66DUL);
    [ThreadStatic] private static bool t_seeded;
    [ThreadStatic] private static Rng t_stream;

    /// <summary>Restarts the global stream, and the calling thread's, from <paramref name="seed"/>.</summary>
    public static void SetSeed(int seed)
    {
        var rng = new Rng((ulong)(uint)seed);
        lock (Gate) _global = rng;
        t_stream = rng;
        t_seeded = true;
    }

    /// <summary>Draws a fresh 64-bit seed: from the calling thread's stream if it called <see cref="SetSeed"/>, else the global one.</summary>
    public static ulong NextSeed()
    {
        if (t_seeded) return t_stream.NextULong();
        lock (Gate) return _global.NextULong();
    }
}
