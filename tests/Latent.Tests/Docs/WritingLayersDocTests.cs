using System.Text.RegularExpressions;
using Latent.UserLayers;

namespace Latent.Tests.Docs;

/// <summary>docs/WRITING-LAYERS.md: every C# block is quoted from code that compiles, and the usage runs.</summary>
public class WritingLayersDocTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Latent.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Latent.sln not found above the test binaries.");
    }

    private static string Normalize(string code) =>
        string.Join("\n", code.Replace("\r", "").Split('\n').Select(l => l.TrimEnd())).Trim();

    /// <summary>Dedents a snippet cut from inside a method to column 0.</summary>
    private static string Dedent(string code)
    {
        var lines = code.Replace("\r", "").Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    [Fact]
    public void EveryCodeBlockIsQuotedFromCompiledSources()
    {
        string root = RepoRoot();
        string doc = File.ReadAllText(Path.Combine(root, "docs", "WRITING-LAYERS.md"));
        var snippets = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "tests", "Latent.UserLayers"), "*.cs"))
            foreach (Match m in Regex.Matches(File.ReadAllText(file), @"// --8<-- \[start:[\w-]+\]\r?\n(.*?)\r?\n\s*// --8<-- \[end:", RegexOptions.Singleline))
                snippets.Add(Normalize(Dedent(m.Groups[1].Value)));
        Assert.Equal(4, snippets.Count);
        var blocks = Regex.Matches(doc, @"```csharp\r?\n(.*?)```", RegexOptions.Singleline).Select(m => Normalize(m.Groups[1].Value)).ToList();
        Assert.True(blocks.Count >= 5, $"expected the four quoted blocks and the custom-loop one, found {blocks.Count}");
        foreach (var snippet in snippets) Assert.Contains(snippet, blocks);
        // The custom-loop block names API that exists (compiled in CustomLoopTests).
        Assert.Contains(blocks, b => b.Contains("model.ComputeGradients([x], [y])") && b.Contains("model.ApplyGradients()"));
    }

    [Fact]
    public void TheUsageCodeTrainsSavesAndLoads()
    {
        var (all, _, _, _) = Latent.Datasets.Mnist.Load();
        var x = all.SliceRows(0, 1000);
        string path = Path.Combine(Path.GetTempPath(), $"writing-layers-{Guid.NewGuid():N}.safetensors");
        try
        {
            var (history, vae, loaded) = WritingLayersExample.Run(x, epochs: 2, path);
            Assert.True(history.Loss[1] < history.Loss[0], $"loss {history.Loss[0]} -> {history.Loss[1]}");
            Assert.All(history.AddedLoss, kl => Assert.True(kl > 0));
            Assert.InRange(history.Loss[0], 100, 600); // per digit, summed over 784 pixels
            var probe = x.SliceRows(0, 50);
            Assert.Equal(vae.Predict(probe).Span.ToArray(), loaded.Predict(probe).Span.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
