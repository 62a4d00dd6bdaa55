using System.Text.Json.Nodes;
using Latent.Initializers;
using Latent.Layers;
using Latent.Losses;
using Latent.Optimizers;

namespace Latent.Serialization;

/// <summary>
/// Layer, optimizer and loss configurations as JSON, and the reverse. Layers go through <see cref="LayerRegistry"/>;
/// optimizers and losses are the known classes listed here. Loading only ever constructs registered or listed
/// classes from plain values: nothing in a file can name code to run.
/// </summary>
internal static class ModelConfig
{
    public static JsonObject Layer(Layer layer) =>
        new() { ["class"] = LayerRegistry.ClassNameOf(layer), ["config"] = layer.Config().ToJson().DeepClone() };

    public static Layer CreateLayer(JsonObject spec)
    {
        string cls = Str(spec, "class");
        string shown = Data.SafeText.Printable(cls);   // text from a file: never raw to the terminal
        var c = spec["config"] as JsonObject ?? throw new FormatException($"layer '{shown}' has no config object");
        try
        {
            return LayerRegistry.Create(cls, new LayerConfig((JsonObject)c.DeepClone()));
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new FormatException($"layer '{shown}' ({Data.SafeText.Printable((c["name"] as JsonValue)?.ToString() ?? "unnamed")}): {e.Message}");
        }
    }

    public static JsonObject Optimizer(Optimizer o)
    {
        var c = new JsonObject { ["name"] = o.Name, ["learning_rate"] = o.LearningRate, ["iterations"] = o.Iterations };
        if (o.ClipNorm is double cn) c["clipnorm"] = cn;
        if (o.ClipValue is double cv) c["clipvalue"] = cv;
        if (o.GlobalClipNorm is double gn) c["global_clipnorm"] = gn;
        switch (o)
        {
            case Sgd s: c["momentum"] = s.Momentum; c["nesterov"] = s.Nesterov; break;
            case Adagrad a: c["epsilon"] = a.Epsilon; c["initial_accumulator_value"] = a.InitialAccumulator; break;
            case Adadelta a: c["rho"] = a.Rho; c["epsilon"] = a.Epsilon; break;
            case RmsProp r: c["rho"] = r.Rho; c["epsilon"] = r.Epsilon; break;
            case Adam a: c["beta_1"] = a.Beta1; c["beta_2"] = a.Beta2; c["epsilon"] = a.Epsilon; break;
            default: throw new NotSupportedException($"Optimizer {o.GetType().Name} cannot be saved yet.");
        }
        return c;
    }

    public static Optimizer CreateOptimizer(JsonObject c)
    {
        double lr = Num(c, "learning_rate");
        double? Opt(string key) => c[key] is JsonValue v ? v.GetValue<double>() : null;
        Optimizer o = Str(c, "name") switch
        {
            "sgd" => new Sgd(lr, Num(c, "momentum"), Bool(c, "nesterov")) { ClipNorm = Opt("clipnorm"), ClipValue = Opt("clipvalue"), GlobalClipNorm = Opt("global_clipnorm") },
            "adagrad" => new Adagrad(lr, Num(c, "epsilon"), Num(c, "initial_accumulator_value")) { ClipNorm = Opt("clipnorm"), ClipValue = Opt("clipvalue"), GlobalClipNorm = Opt("global_clipnorm") },
            "adadelta" => new Adadelta(lr, Num(c, "rho"), Num(c, "epsilon")) { ClipNorm = Opt("clipnorm"), ClipValue = Opt("clipvalue"), GlobalClipNorm = Opt("global_clipnorm") },
            "rmsprop" => new RmsProp(lr, Num(c, "rho"), Num(c, "epsilon")) { ClipNorm = Opt("clipnorm"), ClipValue = Opt("clipvalue"), GlobalClipNorm = Opt("global_clipnorm") },
            "adam" => new Adam(lr, Num(c, "beta_1"), Num(c, "beta_2"), Num(c, "epsilon")) { ClipNorm = Opt("clipnorm"), ClipValue = Opt("clipvalue"), GlobalClipNorm = Opt("global_clipnorm") },
            var other => throw new FormatException($"unknown optimizer '{other}'"),
        };
        return o;
    }

    public static JsonObject Loss(Loss loss)
    {
        var c = loss switch
        {
            BinaryCrossentropy b => new JsonObject { ["name"] = b.Name, ["epsilon"] = b.Epsilon },
            MeanSquaredError or MeanAbsoluteError => new JsonObject { ["name"] = loss.Name },
            _ => throw new NotSupportedException($"Loss {loss.GetType().Name} cannot be saved yet."),
        };
        c["reduction"] = loss.Reduction == LossReduction.Mean ? "mean" : "sum_over_features";
        return c;
    }

    public static Loss CreateLoss(JsonObject c)
    {
        var reduction = (c["reduction"] is JsonValue v && v.TryGetValue<string>(out var r) ? r : "mean") switch
        {
            "mean" => LossReduction.Mean,
            "sum_over_features" => LossReduction.SumOverFeatures,
            var other => throw new FormatException($"unknown loss reduction '{other}'"),
        };
        return Str(c, "name") switch
        {
            "binary_crossentropy" => new BinaryCrossentropy(Num(c, "epsilon"), reduction),
            "mean_squared_error" => new MeanSquaredError(reduction),
            "mean_absolute_error" => new MeanAbsoluteError(reduction),
            var other => throw new FormatException($"unknown loss '{other}'"),
        };
    }

    public static string Str(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"missing or non-string '{key}'");
    public static int Int(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw new FormatException($"missing or non-integer '{key}'");
    public static double Num(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw new FormatException($"missing or non-numeric '{key}'");
    public static bool Bool(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw new FormatException($"missing or non-boolean '{key}'");
}
