using Spectre.Console;

namespace Latent.Cli;

/// <summary><c>latent train</c>: a preset (or resumed) autoencoder, trained with a run folder of results.</summary>
internal static class TrainCommand
{
    public sealed record Options(
        string? Model, string? Dataset, int? Epochs, int? BatchSize, int? CodeSize, string? Optimizer,
        double? LearningRate, int? Seed, string? Out, string? Resume, int? CheckpointEvery, string? L1Reduction = null,
        double? Noise = null, int? ImageSize = null, int? Channels = null, double? KlWeight = null, int? KlWarmup = null,
        bool Overwrite = false, string? Header = null, string? Columns = null, string? Drop = null, int? Timesteps = null, double? MaskValue = null, string? Scaling = null);

    public static int Run(Options o)
    {
        if (o.CheckpointEvery is int every && every < 0)
            throw new ArgumentException($"--checkpoint-every must be 0 (off) or a positive number of epochs, received {every}.");
        if (o.Resume is not null)
        {
            // What a resumed run cannot change without becoming another run: refused, not ignored.
            var fixedOptions = new (string Name, object? Value)[]
            {
                ("--batch-size", o.BatchSize), ("--code-size", o.CodeSize), ("--optimizer", o.Optimizer), ("--learning-rate", o.LearningRate),
                ("--seed", o.Seed), ("--l1-reduction", o.L1Reduction), ("--noise", o.Noise), ("--image-size", o.ImageSize),
                ("--channels", o.Channels), ("--kl-weight", o.KlWeight), ("--kl-warmup", o.KlWarmup), ("--out", o.Out),
                ("--header", o.Header), ("--columns", o.Columns), ("--drop", o.Drop), ("--timesteps", o.Timesteps),
                ("--mask-value", o.MaskValue), ("--scaling", o.Scaling),
            }.Where(p => p.Value is not null).Select(p => p.Name).ToArray();
            if (fixedOptions.Length > 0)
                throw new ArgumentException($"--resume continues a run as it was configured; {string.Join(", ", fixedOptions)} cannot change it " +
                                            "(only --epochs and --checkpoint-every can). Start a new run in another folder instead.");
            if (o.Overwrite) throw new ArgumentException("--overwrite and --resume exclude each other.");
        }
        RunConfig config;
        RunFolder run;
        bool finaliseOnly = false;
        Model? resumed = null;
        List<EpochLogs>? checkpointHistory = null;
        int epochsDone = 0;
        if (o.Resume is not null)
        {
            run = new RunFolder(o.Resume);
            config = RunFolder.ReadConfig(o.Resume);
            if (o.Model is not null && o.Model != config.Model)
                throw new ArgumentException($"--model {o.Model} differs from the resumed run's model {config.Model}.");
            if (File.Exists(run.ModelFile)) (resumed, epochsDone, checkpointHistory) = run.LoadCheckpoint();
            else Console.WriteLine($"{run.Path} has its configuration but no checkpoint (stopped before its first save): starting it again from epoch 1.");
            config = config with
            {
                Epochs = o.Epochs ?? config.Epochs,
                CheckpointEvery = o.CheckpointEvery ?? config.CheckpointEvery,
            };
            if (config.Epochs <= epochsDone)
            {
                // Nothing left to train: a run killed after its last checkpoint gets what it is missing written;
                // a complete run asks for more epochs.
                if (run.IsFinalised(epochsDone))
                    throw new ArgumentException($"The run in {o.Resume} has done {epochsDone} epochs; pass --epochs above that to continue.");
                finaliseOnly = true;
                config = config with { Epochs = epochsDone };
            }
        }
        else
        {
            var preset = RunConfig.Preset(o.Model ?? "simple");
            config = preset with
            {
                Dataset = o.Dataset ?? preset.Dataset,
                Epochs = o.Epochs ?? preset.Epochs,
                BatchSize = o.BatchSize ?? preset.BatchSize,
                CodeSize = o.CodeSize ?? preset.CodeSize,
                Optimizer = o.Optimizer ?? preset.Optimizer,
                LearningRate = o.LearningRate ?? preset.LearningRate,
                Seed = o.Seed ?? Random.Shared.Next(),
                CheckpointEvery = o.CheckpointEvery ?? 0,
                L1Reduction = o.L1Reduction ?? preset.L1Reduction,
                Noise = o.Noise ?? preset.Noise,
                ImageSize = o.ImageSize ?? 0,
                Channels = o.Channels ?? 1,
                KlWeight = o.KlWeight ?? preset.KlWeight,
                KlWarmup = o.KlWarmup ?? preset.KlWarmup,
                Header = o.Header ?? "auto",
                Columns = o.Columns,
                Drop = o.Drop,
                Timesteps = o.Timesteps ?? preset.Timesteps,
                MaskValue = o.MaskValue,
                Scaling = o.Scaling ?? "minmax",
            };
            if (config.ScalingKind == Latent.Data.FeatureScaling.Standard && config.Model is not ("simple" or "sparse" or "deep"))
                throw new ArgumentException($"--scaling standard applies to the dense presets (simple, sparse, deep), whose reconstruction it makes linear with MSE; not to {config.Model}.");
            if (!config.IsSequence && o.MaskValue is not null)
                throw new ArgumentException($"--mask-value applies to --model lstm, not {config.Model}.");
            if (o.MaskValue is double mv && !double.IsFinite(mv))
                throw new ArgumentException($"--mask-value must be a finite number (the padding value), received {mv}.");
            if (!config.IsSequence && o.Timesteps is not null)
                throw new ArgumentException($"--timesteps applies to --model lstm, not {config.Model}.");
            if (config.Timesteps < 0) throw new ArgumentException($"--timesteps must be positive (or 0: from a 3-D .npy), received {config.Timesteps}.");
            if (config.IsSequence && config.Dataset is "mnist" or "fashion-mnist") config = config with { Dataset = config.Dataset + "-rows" };
            if (!config.IsVariational && (o.KlWeight is not null || o.KlWarmup is not null))
                throw new ArgumentException($"--kl-weight and --kl-warmup apply to --model vae or conv-vae, not {config.Model}.");
            if (!(config.KlWeight >= 0 && double.IsFinite(config.KlWeight)))
                throw new ArgumentException($"--kl-weight must be a finite number ≥ 0, received {config.KlWeight}.");
            if (config.KlWarmup < 0) throw new ArgumentException($"--kl-warmup must be 0 or more epochs, received {config.KlWarmup}.");
            if (!(config.Noise >= 0 && double.IsFinite(config.Noise)))
                throw new ArgumentException($"--noise must be a finite number ≥ 0, received {config.Noise}.");
            if (config.Epochs <= 0) throw new ArgumentException($"--epochs must be positive, received {config.Epochs}.");
            if (config.BatchSize <= 0) throw new ArgumentException($"--batch-size must be positive, received {config.BatchSize}.");
            if (config.CodeSize <= 0) throw new ArgumentException($"--code-size must be positive, received {config.CodeSize}.");
            run = new RunFolder(o.Out ?? Path.Combine("runs", config.Model));
            if (!o.Overwrite && (File.Exists(run.ModelFile) || File.Exists(run.RunFile)))
                throw new ArgumentException($"{run.Path} already holds a run: continue it with --resume {run.Path}, pass --overwrite to replace it, or choose another --out.");
        }
        if (o.Resume is not null && o.Dataset is not null && o.Dataset != config.Dataset)
            throw new ArgumentException($"--dataset {o.Dataset} differs from the resumed run's dataset {config.Dataset}.");

        var data = LoadData(config, newRun: o.Resume is null);
        if (data.Scaler is { } fitted && config.CreateScaler() is null) config = config.WithScaler(fitted);
        run.Scaler = data.Scaler;
        Model autoencoder, encoder;
        if (resumed is not null)
        {
            autoencoder = resumed;
            encoder = RunConfig.EncoderOf(autoencoder);
            if (autoencoder.Inputs[0].Size != data.Train.RowSize)
                throw new ArgumentException($"The resumed model takes {autoencoder.Inputs[0].Size} features; {config.Dataset} has {data.Train.RowSize}.");
        }
        else
        {
            (autoencoder, encoder) = config.Build(data.ImageHeight, data.ImageWidth, data.Channels);
        }
        Directory.CreateDirectory(run.Path);
        using var runLock = RunLock.Acquire(run.Path);
        run.RemoveOrphans();
        // The checkpoint carries its history; history.csv is only the fallback for runs saved before it did.
        var history = resumed is null ? [] : checkpointHistory ?? run.ReadHistory().Where(r => r.Epoch < epochsDone).ToList();
        run.WriteRun(config, data, autoencoder, history, null);

        Console.WriteLine($"Training {config.Model} autoencoder on {data.Name} ({data.Train.Rows:N0} train, {data.Test.Rows:N0} test), " +
                          $"{autoencoder.CountParams():N0} parameters, {config.Optimizer}, batch {config.BatchSize}, " +
                          $"epochs {epochsDone + 1}–{config.Epochs}, seed {config.Seed} -> {run.Path}");
        // A denoising run learns noisy → clean; the noisy copies are drawn once, as in the blog post.
        var (trainIn, testIn) = config.Noise > 0
            ? ((SampleSet)Noise.AddGaussian(data.Train, config.Noise, config.Seed), (SampleSet)Noise.AddGaussian(data.Test, config.Noise, config.Seed + 1))
            : (data.Train, data.Test);
        var recorder = new Recorder(run, autoencoder, history, config.CheckpointEvery);
        Callback[] schedule = config.KlWarmup > 0 ? [new KlWarmup(config.KlWarmup, config.KlWeight)] : [];
        bool live = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        History Fit(IReadOnlyList<Callback> extra) => autoencoder.Fit(
            trainIn, data.Train, epochs: config.Epochs, batchSize: config.BatchSize, shuffle: true,
            validationData: (testIn, data.Test), verbose: live ? 0 : 2, callbacks: [.. schedule, recorder, .. extra],
            seed: config.Seed, initialEpoch: epochsDone);
        if (finaliseOnly)
            Console.WriteLine($"Nothing left to train in {run.Path} ({epochsDone} epochs done): writing what the run is missing.");
        else if (live)
        {
            AnsiConsole.Progress().AutoClear(true).HideCompleted(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx => Fit([new ConsoleProgress(ctx, data.Train.Rows, config.BatchSize, config.Epochs)]));
        }
        else Fit([]);

        int done = history.Count == 0 ? epochsDone : history[^1].Epoch + 1;
        if (!finaliseOnly) run.SaveModel(autoencoder, done, history);
        run.WriteHistory(history);
        // At the training batch size, so a batch-summed activity penalty is on the same scale as val_loss.
        var (testLoss, testPenalty) = autoencoder.EvaluateParts(testIn, data.Test, config.BatchSize);
        var psnr = config.Noise > 0 ? ModelCommands.DenoisingPsnr(autoencoder, testIn, data.Test, config.BatchSize) : ((double, double)?)null;
        run.WriteRun(config, data, autoencoder, history, testLoss, psnr);
        string title = $"{config.Model} {(config.IsVariational ? "" : "autoencoder")}".TrimEnd() + $", {data.Name}, {done} epochs";
        var figures = run.WriteFigures(autoencoder, encoder, data, history, title, config.Noise > 0 ? testIn : null);
        if (psnr is { } p) Console.WriteLine(ModelCommands.DescribePsnr(p));
        Console.WriteLine($"Test loss {ModelCommands.Describe(testLoss, testPenalty, config.IsVariational)}. Wrote {run.Path}/: model.safetensors, history.csv, {string.Join(", ", figures)}, run.json");
        return 0;
    }

    /// <summary>The run's data set (or <paramref name="dataset"/> instead), read with the run's image and table settings.</summary>
    /// <param name="newRun">A run about to start: a table's per-column scaling is fitted. Otherwise a table run that
    /// recorded no scaling is one made before tables were scaled per column, and its data is scaled as it was then.</param>
    internal static DataSource LoadData(RunConfig config, string? dataset = null, bool newRun = false)
    {
        dataset ??= config.Dataset;
        var table = new TableOptions(config.Header, config.Columns, config.Drop);
        int imageSize = config.ImageSize, channels = config.Channels;
        int timesteps = config.IsSequence ? config.Timesteps : -1;
        var scaler = config.CreateScaler();
        bool legacyTable = !newRun && scaler is null && config.IsTable && !config.IsSequence;
        if (Console.IsOutputRedirected) return DataSource.Load(dataset, null, imageSize, channels, table, timesteps, scaler, config.MaskValue, config.ScalingKind, legacyTable);
        DataSource? result = null;
        AnsiConsole.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = DataSource.Load(dataset, new Progress<(string File, long Done, long? Total)>(p =>
                {
                    if (!tasks.TryGetValue(p.File, out var t))
                        tasks[p.File] = t = ctx.AddTask($"Downloading {p.File}", maxValue: p.Total ?? 1);
                    if (p.Total is long total) t.MaxValue = total;
                    t.Value = p.Done;
                }), imageSize, channels, table, timesteps, scaler, config.MaskValue, config.ScalingKind, legacyTable);
            });
        return result!;
    }

    /// <summary>Collects the epochs and writes a checkpoint (model with optimizer state, and history) every N epochs.</summary>
    private sealed class Recorder(RunFolder run, Model model, List<EpochLogs> history, int every) : Callback
    {
        public override void OnEpochEnd(EpochLogs logs)
        {
            history.Add(logs);
            if (every > 0 && (logs.Epoch + 1) % every == 0)
            {
                run.SaveModel(model, logs.Epoch + 1, history);   // the model and its history land together
                run.WriteHistory(history);
            }
        }
    }
}
