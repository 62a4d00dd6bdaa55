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
        if (IsZombie(pid)) return false;
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

    /// <summary>
    /// Whether Linux lists <paramref name="pid"/> as a zombie: a killed process whose parent has not reaped it yet
    /// (in a container whose init never reaps, for good). It still has a /proc entry, so it would look alive.
    /// </summary>
    private static bool IsZombie(int pid)
    {
        try
        {
            // /proc/PID/stat is "PID (comm) STATE ...", and comm may itself contain ") ".
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            int close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;   // no such file: not Linux, or no such process (GetProcessById decides)
        }
    }

    public void Dispose()
    {
        try { File.Delete(_path); } catch (IOException) { }
    }
}
