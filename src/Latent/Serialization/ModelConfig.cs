using System.Text.Json.Nodes;
using Latent.Initializers;
using Latent.Layers;
using Latent.Losses;
using Latent.Optimizers;

namespace Latent.Serialization;

/// <summary>
/// Layer, optimizer and loss configurations as JSON, and the reverse. Loading only ever constructs the known
/// classes listed here from plain values: nothing in a file can name code to run.
/// </summary>
internal static class ModelConfig
{
    public static JsonObject Layer(Layer layer)
    {
        var config = new JsonObject { ["name"] = layer.Name, ["trainable"] = layer.Trainable };
        switch (layer)
        {
            case InputLayer il:
                config["shape"] = new JsonArray(il.InputShape.Select(d => (JsonNode)d).ToArray());
                break;
            case Dense d:
                config["units"] = d.Units;
                config["activation"] = d.Activation.Name;
                config["use_bias"] = d.UseBias;
                config["kernel_initializer"] = d.KernelInitializer.Name;
                config["bias_initializer"] = d.BiasInitializer.Name;
                config["kernel_regularizer"] = Regularizer(d.KernelRegularizer);
                config["bias_regularizer"] = Regularizer(d.BiasRegularizer);
                config["activity_regularizer"] = Regularizer(d.ActivityRegularizer);
                break;
            case Activation a:
                config["activation"] = a.Function.Name;
                break;
            case Dropout dr:
                config["rate"] = dr.Rate;
                break;
            case Add:
                break;
            default:
                throw new NotSupportedException($"Layer '{layer.Name}' of type {layer.GetType().Name} cannot be saved yet.");
        }
        return new JsonObject { ["class"] = layer.GetType().Name, ["config"] = config };
    }

    public static Layer CreateLayer(JsonObject spec)
    {
        string cls = Str(spec, "class");
        var c = spec["config"] as JsonObject ?? throw new FormatException($"layer '{cls}' has no config object");
        string name = Str(c, "name");
        Layer layer = cls switch
        {
            nameof(InputLayer) => new InputLayer(Arr(c, "shape"), name),
            nameof(Dense) => new Dense(Int(c, "units"), Str(c, "activation"), Bool(c, "use_bias"),
                                       Initializer.Get(Str(c, "kernel_initializer")), Initializer.Get(Str(c, "bias_initializer")),
                                       Regularizer(c["kernel_regularizer"]), Regularizer(c["bias_regularizer"]),
                                       Regularizer(c["activity_regularizer"]), name),
            nameof(Activation) => new Activation(Str(c, "activation"), name),
            nameof(Dropout) => new Dropout(Num(c, "rate"), name),
            nameof(Add) => new Add(name),
            _ => throw new FormatException($"unknown layer class '{cls}'"),
        };
        if (c["trainable"] is JsonValue t) layer.Trainable = t.GetValue<bool>();
        return layer;
    }

    private static JsonNode? Regularizer(Regularizer? r) => r switch
    {
        null => null,
        L1L2 l => new JsonObject { ["l1"] = l.L1, ["l2"] = l.L2, ["reduction"] = l.Reduction.ToString().ToLowerInvariant() },
        _ => throw new NotSupportedException($"Regularizer {r.GetType().Name} cannot be saved yet."),
    };

    private static Regularizer? Regularizer(JsonNode? node) => node is JsonObject o
        ? new L1L2(Num(o, "l1"), Num(o, "l2"))
        {
            Reduction = Str(o, "reduction") switch
            {
                "sum" => ActivityReduction.Sum,
                "mean" => ActivityReduction.Mean,
                var other => throw new FormatException($"unknown regularizer reduction '{other}'"),
            },
        }
        : null;

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

    public static JsonObject Loss(Loss loss) => loss switch
    {
        BinaryCrossentropy b => new JsonObject { ["name"] = b.Name, ["epsilon"] = b.Epsilon },
        MeanSquaredError or MeanAbsoluteError => new JsonObject { ["name"] = loss.Name },
        _ => throw new NotSupportedException($"Loss {loss.GetType().Name} cannot be saved yet."),
    };

    public static Loss CreateLoss(JsonObject c) => Str(c, "name") switch
    {
        "binary_crossentropy" => new BinaryCrossentropy(Num(c, "epsilon")),
        var other => Losses.Loss.Get(other),
    };

    public static string Str(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"missing or non-string '{key}'");
    public static int Int(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw new FormatException($"missing or non-integer '{key}'");
    public static double Num(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw new FormatException($"missing or non-numeric '{key}'");
    public static bool Bool(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw new FormatException($"missing or non-boolean '{key}'");
    public static int[] Arr(JsonObject o, string key) =>
        o[key] is JsonArray a ? a.Select(e => e is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw new FormatException($"'{key}' must hold integers")).ToArray()
                              : throw new FormatException($"missing array '{key}'");
}
