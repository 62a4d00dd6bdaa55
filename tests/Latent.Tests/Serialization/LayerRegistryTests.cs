using System.Text;
using System.Text.Json.Nodes;
using Latent.Data;
using Latent.Layers;
using Latent.Serialization;

namespace Latent.Tests.Serialization;

/// <summary>The registry of savable layer types: built-ins register themselves; files can only name registered types.</summary>
public class LayerRegistryTests
{
    [Fact]
    public void EveryLibraryLayerRegistersItself()
    {
        foreach (var type in typeof(Layer).Assembly.GetTypes().Where(t => typeof(Layer).IsAssignableFrom(t) && !t.IsAbstract && t.IsPublic))
            Assert.True(LayerRegistry.IsRegistered(type), $"{type.Name} has no FromConfig registration");
        Assert.Contains("Dense", LayerRegistry.ClassNames);
        Assert.Contains("InputLayer", LayerRegistry.ClassNames);
    }

    [Fact]
    public void ANameTakenByAnotherTypeIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => LayerRegistry.Register(c => new Dropout(0.1, c.Name), "Dense"));
        Assert.Contains("already registered", e.Message);
    }

    [Fact]
    public void AFileNamingAnUnknownClassIsRefused()
    {
        Randomness.SetSeed(1);
        var input = Input.Create(3);
        var model = new Model(input, new Dense(2, name: "d").Apply(input));
        string path = Path.Combine(Path.GetTempPath(), $"reg-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            // Rewrite the class name in the header (same length keeps the offsets valid).
            var bytes = File.ReadAllBytes(path);
            var text = Encoding.Latin1.GetString(bytes).Replace("\\u0022class\\u0022:\\u0022Dense\\u0022", "\\u0022class\\u0022:\\u0022Dunce\\u0022")
                                                       .Replace("\\\"class\\\":\\\"Dense\\\"", "\\\"class\\\":\\\"Dunce\\\"");
            Assert.NotEqual(Encoding.Latin1.GetString(bytes), text);
            File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text));
            var e = Assert.Throws<DataFormatException>(() => Model.Load(path));
            Assert.Contains("unknown layer class 'Dunce'", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ConfigurationRoundTripsThroughJson()
    {
        var dense = new Dense(7, "selu", useBias: false, kernelInitializer: "lecun_normal",
                              activityRegularizer: Regularizers.L1(1e-3, ActivityReduction.Mean), name: "cfg");
        dense.Trainable = false;
        var config = dense.Config();
        var copy = new LayerConfig((JsonObject)JsonNode.Parse(config.ToString())!);
        var rebuilt = Assert.IsType<Dense>(LayerRegistry.Create("Dense", copy));
        Assert.Equal(("cfg", 7, "selu", false, "lecun_normal", false), (rebuilt.Name, rebuilt.Units, rebuilt.Activation.Name, rebuilt.UseBias, rebuilt.KernelInitializer.Name, rebuilt.Trainable));
        Assert.Equal(ActivityReduction.Mean, rebuilt.ActivityRegularizer!.Reduction);
        var bad = new LayerConfig((JsonObject)JsonNode.Parse("""{"name":"x","units":"seven"}""")!);
        var e = Assert.Throws<FormatException>(() => LayerRegistry.Create("Dense", bad));
        Assert.Contains("'units'", e.Message);
    }
}
