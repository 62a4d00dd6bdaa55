namespace Latent.Tests.TestSupport;

/// <summary>A test class's own temporary folder, removed afterwards.</summary>
public abstract class TempFolder(string prefix) : IDisposable
{
    /// <summary>The folder.</summary>
    protected string Dir { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <inheritdoc />
    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
