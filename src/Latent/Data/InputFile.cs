using System.Runtime.InteropServices;

namespace Latent.Data;

/// <summary>
/// Input files are regular files: a named pipe (FIFO), a device or a socket given as a data or model file would block
/// the reader (opening a FIFO waits for a writer) or stream without end, so each reader checks its path first.
/// </summary>
internal static class InputFile
{
    private const int TypeMask = 0xF000, Fifo = 0x1000, CharDevice = 0x2000, Directory = 0x4000, BlockDevice = 0x6000, Regular = 0x8000, Socket = 0xC000;

    /// <summary>The runtime's own stat (System.Native, shipped with .NET on Unix): its FileStatus has the mode, S_IF* bits included, at byte 4.</summary>
    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] status);

    /// <summary>Throws when <paramref name="path"/> exists and is not a regular file (symbolic links are followed).</summary>
    /// <exception cref="DataFormatException">A FIFO, a device, a socket or a directory.</exception>
    public static void RequireRegular(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows()) return;
        var status = new byte[512];   // larger than FileStatus on every platform
        int type;
        try
        {
            if (Stat(path, status) != 0) return;   // missing or unreadable: the open that follows says so
            type = BitConverter.ToInt32(status, 4) & TypeMask;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return;
        }
        string? what = type switch
        {
            Regular => null,
            Fifo => "a named pipe (FIFO)",
            CharDevice or BlockDevice => "a device",
            Socket => "a socket",
            Directory => "a directory",
            _ => "not a regular file",
        };
        if (what is not null)
            throw new DataFormatException(path, $"is {what}, not a regular file; Latent reads data and models from regular files only (save the stream to a file first).");
    }

    /// <summary><see cref="File.OpenRead"/> after <see cref="RequireRegular"/>.</summary>
    public static FileStream OpenRead(string path)
    {
        RequireRegular(path);
        return File.OpenRead(path);
    }
}
