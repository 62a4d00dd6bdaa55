using System.Diagnostics;
using System.IO.Compression;

namespace Latent.Tests.Packaging;

/// <summary>
/// The NuGet packages as a user gets them: `dotnet pack` makes Latent (library) and Latent.Cli (the tool
/// `latent`); the tool installs from a local folder feed and runs; a fresh console project that references the
/// Latent package (not the project) trains one epoch.
/// </summary>
[Collection(Examples.BuildsCollection.Name)]   // packs what the solution build made: never beside another build
public sealed class PackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("latent-pack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Latent.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Latent.sln not found above the test binaries.");
    }

    private static string Run(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: exit {p.ExitCode}\n{stdout.Result}\n{stderr}");
        return stdout.Result;
    }

    [Fact]
    public void PackagesInstallAndWorkOutsideTheRepository()
    {
        string root = RepoRoot(), feed = Path.Combine(_dir, "feed");
        string version = typeof(Model).Assembly.GetName().Version!.ToString(3);
        Run("dotnet", root, "pack", "src/Latent", "-c", "Release", "--no-build", "-o", feed);
        Run("dotnet", root, "pack", "src/Latent.Cli", "-c", "Release", "--no-build", "-o", feed);
        using (var lib = ZipFile.OpenRead(Path.Combine(feed, $"Latent.{version}.nupkg")))
        {
            var entries = lib.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("lib/net10.0/Latent.dll", entries);
            Assert.Contains("lib/net10.0/Latent.xml", entries);            // XML docs
            Assert.Contains("README.md", entries);
            string nuspec = new StreamReader(lib.GetEntry("Latent.nuspec")!.Open()).ReadToEnd();
            Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
            Assert.Contains("System.Numerics.Tensors", nuspec);
        }
        Assert.True(File.Exists(Path.Combine(feed, $"Latent.{version}.snupkg")));   // symbols

        // The tool, from the folder feed.
        string tools = Path.Combine(_dir, "tools");
        Run("dotnet", _dir, "tool", "install", "Latent.Cli", "--tool-path", tools, "--add-source", feed, "--version", version);
        string help = Run(Path.Combine(tools, "latent"), _dir, "--help");
        Assert.Contains("latent [command] [options]", help);
        Assert.Contains("train", help);

        // A console project on the library package.
        string app = Path.Combine(_dir, "app");
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><add key="local" value="{feed}" /></packageSources></configuration>
            """);
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup><PackageReference Include="Latent" Version="{version}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Latent;
            using Latent.Layers;
            var rng = new Random(1);
            var x = new Tensor([256, 16]);
            for (int i = 0; i < x.Length; i++) x.Span[i] = (float)rng.NextDouble();
            var input = Input.Create(16);
            var model = new Model(input, new Dense(16, "sigmoid").Apply(new Dense(4, "relu").Apply(input)));
            model.Compile("adam", "binary_crossentropy");
            var history = model.Fit(x, x, epochs: 1, batchSize: 32, verbose: 0);
            Console.WriteLine($"trained: loss {history.Loss[0]:F4}");
            """);
        string output = Run("dotnet", app, "run", "-c", "Release");
        Assert.Matches(@"trained: loss 0\.\d{4}", output);
    }
}
