using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Latent.Bench;

/// <summary>
/// What the FMA peak does not see of a shared machine: the memory bandwidth a core gets (a triad <c>a = b + s·c</c> over
/// arrays far larger than any cache, on one thread and on every core at once; 12 bytes an element counted, best of five)
/// and how long a cache line takes to go from one core to another and back (two threads, on the first two CPUs when
/// the process may pin them, passing a counter; the median of eleven rounds). Printed by <c>ceiling</c> beside the peak,
/// before and after <c>bench/compare.py</c>'s runs, so a run's table says what the machine gave it.
/// </summary>
internal static class MachineProbe
{
    private const int Floats = 1 << 23;   // 32 MB an array, three arrays a thread

    /// <summary>Triad bandwidth in GB/s over <paramref name="threads"/> threads, one dedicated thread each, released together.</summary>
    public static double MemoryGBps(int threads)
    {
        var arrays = Enumerable.Range(0, threads).Select(_ => (A: new float[Floats], B: Fill(1f), C: Fill(2f))).ToArray();
        double best = 0;
        for (int rep = 0; rep < 6; rep++)
        {
            double seconds = FmaPeak.SecondsOnThreads(threads, t => Triad(arrays[t].A, arrays[t].B, arrays[t].C, 0.5f));
            if (rep > 0) best = Math.Max(best, threads * 12.0 * Floats / seconds / 1e9);   // the first touches the pages
        }
        return best;
    }

    private static float[] Fill(float v)
    {
        var x = new float[Floats];
        Array.Fill(x, v);
        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Triad(float[] a, float[] b, float[] c, float s)
    {
        ref float ra = ref a[0], rb = ref b[0], rc = ref c[0];
        var vs = Vector256.Create(s);
        for (nuint i = 0; i < (nuint)a.Length; i += 8)
            Vector256.FusedMultiplyAdd(vs, Vector256.LoadUnsafe(ref rc, i), Vector256.LoadUnsafe(ref rb, i)).StoreUnsafe(ref ra, i);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, nint size, ref ulong mask);

    /// <summary>Pins the calling thread to <paramref name="cpu"/> (Linux; nothing elsewhere).</summary>
    public static void PinTo(int cpu) => Pin(cpu);

    private static void Pin(int cpu)
    {
        if (!OperatingSystem.IsLinux() || cpu >= 64) return;
        ulong mask = 1UL << cpu;
        try { sched_setaffinity(0, sizeof(ulong), ref mask); }
        catch (EntryPointNotFoundException) { }
        catch (DllNotFoundException) { }
    }

    /// <summary>Nanoseconds for a cache line to go from one core to another and back (0 on a single core).</summary>
    public static double RoundTripNs() => Environment.ProcessorCount < 2 ? 0 : PingPongNs(200_000, null);

    /// <summary>
    /// Microseconds for <paramref name="floats"/> floats written on one core to be read and rewritten on the other (two
    /// pinned threads taking turns: each reads the whole buffer the other wrote, then writes it all), and the same turns
    /// on one thread, where the buffer stays in its L2; the medians of eleven rounds.
    /// </summary>
    public static (double CrossUs, double LocalUs) HandOffUs(int floats)
    {
        const int trips = 2000, rounds = 11;
        var buffer = GC.AllocateArray<float>(floats, pinned: true);
        double cross = PingPongNs(trips, () => Turn(buffer)) / 2 / 1000;   // a trip is two turns, one on each core
        var local = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 2 * trips; i++) Turn(buffer);
            local[round] = sw.Elapsed.TotalMicroseconds / (2 * trips);
        }
        return (cross, Stats.Median(local));
    }

    /// <summary>
    /// Nanoseconds a trip, the median of eleven rounds of <paramref name="trips"/>: two threads on the first two CPUs (when
    /// the process may pin them) pass a counter on a line of its own back and forth, each running
    /// <paramref name="turn"/> (if any) before it passes the counter on, so a trip is one turn on each core.
    /// </summary>
    private static double PingPongNs(int trips, Action? turn)
    {
        const int rounds = 11;
        var line = new long[32];                  // the counter sits mid-array, on a line of its own
        var times = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            var echo = new Thread(() =>
            {
                Pin(1);
                for (long i = 1; i <= trips; i++)
                {
                    while (Volatile.Read(ref line[16]) != 2 * i - 1) { }
                    turn?.Invoke();
                    Volatile.Write(ref line[16], 2 * i);
                }
            }) { IsBackground = true };
            var caller = new Thread(() =>
            {
                Pin(0);
                var sw = Stopwatch.StartNew();
                for (long i = 1; i <= trips; i++)
                {
                    turn?.Invoke();
                    Volatile.Write(ref line[16], 2 * i - 1);
                    while (Volatile.Read(ref line[16]) != 2 * i) { }
                }
                times[round] = sw.Elapsed.TotalNanoseconds / trips;
            }) { IsBackground = true };
            line[16] = 0;
            echo.Start();
            caller.Start();
            caller.Join();
            echo.Join();
        }
        return Stats.Median(times);
    }

    /// <summary>Reads every value of <paramref name="buffer"/>, then adds one to each.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Turn(float[] buffer)
    {
        ref float b = ref buffer[0];
        var sum = Vector256<float>.Zero;
        for (nuint i = 0; i < (nuint)buffer.Length; i += 8) sum += Vector256.LoadUnsafe(ref b, i);
        var one = Vector256.Create(1f) + (sum * Vector256<float>.Zero);
        for (nuint i = 0; i < (nuint)buffer.Length; i += 8) (Vector256.LoadUnsafe(ref b, i) + one).StoreUnsafe(ref b, i);
    }
}
