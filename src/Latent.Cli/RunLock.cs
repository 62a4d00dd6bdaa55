using System.Diagnostics;
using System.Globalization;

namespace Latent.Cli;

/// <summary>
/// One writer per run folder: <c>.lock</c> holds the writing process's id, created exclusively. A second
/// <c>latent train</c> on the folder is refused naming that process; a lock left by a process that no longer runs
/// (a kill) is taken over. Removed when training ends.
/// </summary>
internal sealed class RunLock : IDisposable
{
    private readonly string _path;

    private RunLock(string path) => _path = path;

    public static RunLock Acquire(string folder)
    {
        string path = Path.Combine(folder, ".lock");
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                using (var writer = new StreamWriter(stream))
                    writer.Write(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
                return new RunLock(path);
            }
            catch (IOException) when (File.Exists(path))
            {
                string text = "";
                try { text = File.ReadAllText(path).Trim(); } catch (IOException) { }
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && IsRunning(pid))
                    throw new InvalidOperationException($"{folder} is being written by another latent process (pid {pid}); wait for it to finish, or train into another folder.");
                File.Delete(path);   // left by a process that is gone: take it over
            }
        }
        throw new InvalidOperationException($"Could not lock {folder}: {path} keeps reappearing.");
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try { File.Delete(_path); } catch (IOException) { }
    }
}
