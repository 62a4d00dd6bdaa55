using Latent.Data;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Data;

/// <summary>
/// The seeded mutation fuzzer (<see cref="Fuzzing"/>) over every file format Latent reads, a 10⁴-input slice: each
/// damaged file is read or refused with one <see cref="DataFormatException"/> naming it; never another exception
/// type, a hang, or an allocation above the file's size plus 64 MB.
/// </summary>
public sealed class MutationFuzzTests() : TestSupport.TempFolder("latent-fuzz-")
{
    /// <summary>Per format: 1,250 inputs, 10⁴ over the library's eight formats (the bench run takes 10⁶ each).</summary>
    private const int Inputs = 1250;

    public static TheoryData<string> Formats() => [.. Fuzzing.LibraryFormats().Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(Formats))]
    public void EveryFormat(string name)
    {
        var format = Fuzzing.LibraryFormats().Single(f => f.Name == name);
        var result = Fuzzing.Run(format, Dir, Inputs, seed: name.Length * 7919);
        Assert.True(result.Unexpected.Count == 0, string.Join("\n", result.Unexpected.Take(5)));
        Assert.True(result.Refused >= Inputs / 4, $"{name}: only {result.Refused} of {Inputs} damaged files were refused; the mutations miss the format");
    }

    [Fact]
    public void RunConfigurations()
    {
        string run = Path.Combine(Dir, "run");
        Directory.CreateDirectory(run);
        var config = Latent.Cli.RunConfig.Preset("simple") with { Dataset = "table.csv", FeatureMin = [0, 1], FeatureMax = [2, 3] };
        var format = new Fuzzing.Format("run.json", ".json", dir =>
        {
            string path = Path.Combine(dir, "valid.json");
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new { config }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return path;
        }, p =>
        {
            File.Copy(p, Path.Combine(run, "run.json"), overwrite: true);
            try
            {
                var read = Latent.Cli.RunFolder.ReadConfig(run);
                read.CreateScaler();
            }
            catch (DataFormatException e)
            {
                throw new DataFormatException(p, e.Message);   // named after the damaged file, as the fuzzer checks
            }
        });
        var result = Fuzzing.Run(format, Dir, Inputs, seed: 18);
        Assert.True(result.Unexpected.Count == 0, string.Join("\n", result.Unexpected.Take(5)));
        Assert.True(result.Refused >= Inputs / 4, $"run.json: only {result.Refused} of {Inputs} refused");
    }
}
