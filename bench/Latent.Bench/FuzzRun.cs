using System.Globalization;
using Latent.Tests.TestSupport;

namespace Latent.Bench;

/// <summary>
/// The long fuzz run for docs/RELIABILITY.md: <see cref="Fuzzing"/> over every library format, N damaged inputs each
/// (files on tmpfs when /dev/shm exists). Prints a Markdown table; exit status 1 if anything unexpected happened.
/// Usage: fuzz [--inputs 1000000] [--formats model,npy,...] [--seed 1]
/// </summary>
internal static class FuzzRun
{
    public static int Run(string[] args)
    {
        string? Opt(string name) => Array.IndexOf(args, name) is int i and >= 0 ? args[i + 1] : null;
        int inputs = int.Parse(Opt("--inputs") ?? "1000000", CultureInfo.InvariantCulture);
        int seed = int.Parse(Opt("--seed") ?? "1", CultureInfo.InvariantCulture);
        var only = Opt("--formats")?.Split(',');
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string dir = Path.Combine(root, $"latent-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        Console.WriteLine($"CPU: {CpuModel()} ({Environment.ProcessorCount} cores); {inputs:N0} inputs per format; seed {seed}; files in {root}");
        Console.WriteLine();
        Console.WriteLine("| format | inputs | read | refused (DataFormatException) | unexpected | largest allocation | slowest read | seconds |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        int bad = 0;
        try
        {
            foreach (var format in Fuzzing.LibraryFormats().Where(f => only is null || only.Contains(f.Name)))
            {
                var r = Fuzzing.Run(format, dir, inputs, seed, allThreads: true);
                bad += r.Unexpected.Count;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Format} | {r.Inputs:N0} | {r.Read:N0} | {r.Refused:N0} | {r.Unexpected.Count} | {r.MaxAllocated / 1024.0:N0} KB | {r.MaxSeconds * 1000:F1} ms | {r.Seconds:F0} |"));
                foreach (var u in r.Unexpected.Take(10)) Console.Error.WriteLine(u);
            }
        }
        finally
        {
            if (bad == 0) Directory.Delete(dir, recursive: true);
            else Console.Error.WriteLine($"The inputs that went wrong are kept in {dir}.");
        }
        return bad == 0 ? 0 : 1;
    }

    internal static string CpuModel() =>
        File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) is { } line
            ? line[(line.IndexOf(':') + 1)..].Trim() : System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
}
