using System.Diagnostics;

namespace Latent.Tests.Examples;

/// <summary>The notebook's models as file-based apps (examples/*.cs) build and run: one epoch each on MNIST.</summary>
[Collection(BuildsCollection.Name)]
public class ExampleTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Latent.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Latent.sln not found above the test binaries.");
    }

    [Theory]
    [InlineData("simple_autoencoder", "simple.png", null)]
    [InlineData("sparse_autoencoder", "sparse.png", null)]
    [InlineData("deep_autoencoder", "deep.png", null)]
    [InlineData("conv_autoencoder", "conv.png", "2000")]             // the blog's conv models on a slice, to stay quick
    [InlineData("denoising_autoencoder", "denoise.png", "1000")]
    [InlineData("variational_autoencoder", "vae_manifold.png", "3000")]
    [InlineData("sequence_autoencoder", "sequence.png", "2000")]
    public async Task ExampleRunsOneEpochAndDrawsItsFigure(string example, string figure, string? samples)
    {
        string root = RepoRoot();
        string png = Path.Combine(root, "examples", "out", figure);
        if (File.Exists(png)) File.Delete(png);
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "run", "-c", "Release", Path.Combine("examples", example + ".cs"), "--", "1" }) psi.ArgumentList.Add(a);
        if (samples is not null) psi.ArgumentList.Add(samples);
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        string stdout = await stdoutTask;
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}\n{stdout}\n{stderr}");
        Assert.Contains("Epoch 1/1", stdout);
        Assert.Matches(@"test loss \d+\.\d{4}", stdout);
        Assert.True(new FileInfo(png).Length > 5000, $"{png} missing or empty");
    }
}

/// <summary>Tests that build or pack the library's projects run one at a time: two builds of one project at once collide.</summary>
[CollectionDefinition(Name)]
public sealed class BuildsCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "builds";
}
