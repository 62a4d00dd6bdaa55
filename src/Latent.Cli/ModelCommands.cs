using Latent.Data;
using Latent.Plotting;

namespace Latent.Cli;

/// <summary><c>latent evaluate | reconstruct | encode | summary</c> on a run folder.</summary>
internal static class ModelCommands
{
    public static int Evaluate(string runPath, string? dataset)
    {
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        var config = RunFolder.ReadConfig(runPath);
        var data = TrainCommand.LoadData(dataset ?? config.Dataset);
        var (loss, penalty) = model.EvaluateParts(data.Test, data.Test, config.BatchSize);
        Console.WriteLine($"{model.Name} after {epochs} epochs: test loss {Describe(loss, penalty)} ({model.Loss?.Name}, {data.Test.Rows:N0} samples of {data.Name}, batch {config.BatchSize})");
        return 0;
    }

    /// <summary>"0.0917", or "0.1540 (reconstruction 0.1316 + penalty 0.0224)" when there is a penalty.</summary>
    public static string Describe(double loss, double penalty) =>
        penalty == 0 ? $"{loss:F4}" : $"{loss:F4} (reconstruction {loss - penalty:F4} + penalty {penalty:F4})";

    public static int Reconstruct(string runPath, string? dataset, int n, string output)
    {
        if (n <= 0) throw new ArgumentException($"--n must be positive, received {n}.");
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        var data = TrainCommand.LoadData(dataset ?? RunFolder.ReadConfig(runPath).Dataset);
        var samples = data.TestHead(n);
        var recon = model.Predict(samples);
        int scale = data.ImageHeight == 1 ? 1 : 4;
        Figures.ImageRows(output,
        [
            ("original", samples, data.ImageHeight, data.ImageWidth, false, scale),
            ("reconstruction", recon, data.ImageHeight, data.ImageWidth, false, scale),
        ], $"{model.Name}, {data.Name}, {epochs} epochs");
        Console.WriteLine($"Wrote {output}");
        return 0;
    }

    public static int Encode(string runPath, string? dataset, string output)
    {
        var run = new RunFolder(runPath);
        var (model, _) = run.LoadModel();
        var encoder = RunConfig.EncoderOf(model);
        var data = TrainCommand.LoadData(dataset ?? RunFolder.ReadConfig(runPath).Dataset);
        var codes = encoder.Predict(data.Test, batchSize: 256);
        Npy.Write(output, codes);
        Console.WriteLine($"Wrote {output}: codes of shape ({codes.Shape[0]}, {codes.Shape[1]}) for the {data.Name} test set");
        return 0;
    }

    public static int Summary(string runPath)
    {
        var run = new RunFolder(runPath);
        var (model, epochs) = run.LoadModel();
        model.Summary();
        Console.WriteLine($"Epochs done: {epochs}; optimizer: {model.Optimizer}; loss: {model.Loss?.Name}");
        return 0;
    }
}
