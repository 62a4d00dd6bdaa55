using System.CommandLine;
using Latent.Cli;
using Latent.Data;

// Exit codes: 0 ok, 2 bad usage or bad input (one line on stderr), 1 any other failure.
var modelOpt = new Option<string?>("--model")
{
    Description = "Preset: simple (32 relu, adagrad, batch 32), sparse (+ L1 1e-4 on the code), deep (128-64-32-64-128, adadelta, batch 100), " +
                  "conv (the blog's convolutional autoencoder, adadelta, batch 128, 50 epochs), denoise (the blog's denoising one: noise 0.5, 100 epochs), " +
                  "vae (the blog's variational autoencoder, 784-256-2, rmsprop, batch 100, 50 epochs), conv-vae (keras.io's convolutional VAE, adam, batch 128, 30 epochs), " +
                  "lstm (the blog's sequence-to-sequence autoencoder: LSTM code of 64, RepeatVector, LSTM; MSE, adam, batch 128, 10 epochs; mnist-rows or --timesteps)",
};
modelOpt.AcceptOnlyFromAmong(RunConfig.Models);
var datasetOpt = new Option<string?>("--dataset") { Description = "mnist, fashion-mnist, an .npy/.csv file, or a folder of PNG/JPEG images (all of one size, or see --image-size); the last 10% of a file or folder is the test set" };
var noiseOpt = new Option<double?>("--noise") { Description = "Train noisy → clean: Gaussian noise of this standard deviation added to the inputs and clipped to [0, 1] (denoise: 0.5)" };
var imageSizeOpt = new Option<int?>("--image-size") { Description = "Image folders: resize every image to N×N (default: their own size, which must then be the same for all)" };
var channelsOpt = new Option<int?>("--channels") { Description = "Image folders: 1 for grayscale (default), 3 for RGB" };
var epochsOpt = new Option<int?>("--epochs") { Description = "Epochs in total (default 100; with --resume, the new total)" };
var batchOpt = new Option<int?>("--batch-size") { Description = "Samples per step (preset default)" };
var codeOpt = new Option<int?>("--code-size") { Description = "Units in the code layer (default 32; the latent size of a VAE, default 2)" };
var klWeightOpt = new Option<double?>("--kl-weight") { Description = "vae, conv-vae: the KL term's weight β (default 1, the ELBO)" };
var klWarmupOpt = new Option<int?>("--kl-warmup") { Description = "vae, conv-vae: raise the KL weight linearly from 0 to β over N epochs (default 0: off)" };
var optimizerOpt = new Option<string?>("--optimizer") { Description = "sgd, adagrad, adadelta, rmsprop or adam (preset default)" };
optimizerOpt.AcceptOnlyFromAmong("sgd", "adagrad", "adadelta", "rmsprop", "adam");
var lrOpt = new Option<double?>("--learning-rate") { Description = "Overrides the optimizer's Keras default" };
var seedOpt = new Option<int?>("--seed") { Description = "Makes the run reproducible (random if omitted; recorded in run.json)" };
var outOpt = new Option<string?>("--out") { Description = "Run folder (default runs/<model>)" };
var resumeOpt = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint" };
var checkpointOpt = new Option<int?>("--checkpoint-every") { Description = "Save the model and history every N epochs" };
var headerOpt = new Option<string?>("--header") { Description = "CSV: whether the first row names the columns: auto (a row of non-empty non-numbers), yes, no" };
headerOpt.AcceptOnlyFromAmong("auto", "yes", "no");
var columnsOpt = new Option<string?>("--columns") { Description = "CSV: only these columns, comma-separated header names or 0-based indices" };
var dropOpt = new Option<string?>("--drop") { Description = "CSV: leave out these columns (names or indices), e.g. an id" };
var scalingOpt = new Option<string?>("--scaling") { Description = "A .csv/.parquet table's columns: minmax (into [0, 1], the default) or standard (mean 0, std 1; dense presets, with a linear reconstruction and MSE); fitted on the training part and kept with the run" };
scalingOpt.AcceptOnlyFromAmong("minmax", "standard");
var maskValueOpt = new Option<double?>("--mask-value") { Description = "lstm: the padding value of variable-length sequences; steps whose features all equal it are skipped by the LSTMs and left out of the loss" };
var timestepsOpt = new Option<int?>("--timesteps") { Description = "lstm: steps per sequence; each CSV/.npy row of T·F values becomes T steps of F features (default: from a 3-D .npy; mnist-rows: 28)" };
var overwriteOpt = new Option<bool>("--overwrite") { Description = "Replace the run already in --out (otherwise an error)" };
var reductionOpt = new Option<string?>("--l1-reduction") { Description = "sparse: the L1 penalty summed over the batch (sum, Keras 2, default) or averaged (mean, Keras 1.0.x / tf.keras)" };
reductionOpt.AcceptOnlyFromAmong("sum", "mean");

var train = new Command("train", "Train an autoencoder and write a run folder (model, history.csv, loss.png, reconstructions.png, codes.png, run.json)")
{
    modelOpt, datasetOpt, epochsOpt, batchOpt, codeOpt, optimizerOpt, lrOpt, seedOpt, outOpt, resumeOpt, checkpointOpt, reductionOpt,
    noiseOpt, imageSizeOpt, channelsOpt, klWeightOpt, klWarmupOpt, overwriteOpt, headerOpt, columnsOpt, dropOpt, timestepsOpt, maskValueOpt, scalingOpt,
};
train.SetAction(p => Guard(() => TrainCommand.Run(new TrainCommand.Options(
    p.GetValue(modelOpt), p.GetValue(datasetOpt), p.GetValue(epochsOpt), p.GetValue(batchOpt), p.GetValue(codeOpt),
    p.GetValue(optimizerOpt), p.GetValue(lrOpt), p.GetValue(seedOpt), p.GetValue(outOpt), p.GetValue(resumeOpt),
    p.GetValue(checkpointOpt), p.GetValue(reductionOpt), p.GetValue(noiseOpt), p.GetValue(imageSizeOpt), p.GetValue(channelsOpt),
    p.GetValue(klWeightOpt), p.GetValue(klWarmupOpt), p.GetValue(overwriteOpt), p.GetValue(headerOpt), p.GetValue(columnsOpt), p.GetValue(dropOpt), p.GetValue(timestepsOpt), p.GetValue(maskValueOpt), p.GetValue(scalingOpt)))));

Argument<string> RunArg() => new("run") { Description = "A run folder made by 'latent train'" };
Option<string?> DataOpt() => new("--dataset") { Description = "Data set (default: the one the run trained on)" };

var evalRun = RunArg(); var evalData = DataOpt();
var evaluate = new Command("evaluate", "Loss of a trained model on the test set") { evalRun, evalData };
evaluate.SetAction(p => Guard(() => ModelCommands.Evaluate(p.GetValue(evalRun)!, p.GetValue(evalData))));

var recRun = RunArg(); var recData = DataOpt();
var recN = new Option<int>("--n") { Description = "How many test samples", DefaultValueFactory = _ => 10 };
var recOut = new Option<string>("--out") { Description = "PNG to write", DefaultValueFactory = _ => "reconstructions.png" };
var reconstruct = new Command("reconstruct", "Draw test samples over their reconstructions") { recRun, recData, recN, recOut };
reconstruct.SetAction(p => Guard(() => ModelCommands.Reconstruct(p.GetValue(recRun)!, p.GetValue(recData), p.GetValue(recN), p.GetValue(recOut)!)));

var encRun = RunArg(); var encData = DataOpt();
var encOut = new Option<string>("--out") { Description = ".npy file for the codes", DefaultValueFactory = _ => "codes.npy" };
var encode = new Command("encode", "Write the codes of the test set as .npy (z_mean for a VAE)") { encRun, encData, encOut };
encode.SetAction(p => Guard(() => ModelCommands.Encode(p.GetValue(encRun)!, p.GetValue(encData), p.GetValue(encOut)!)));

var denRun = RunArg();
var denInput = new Option<string>("--input") { Description = "A PNG/JPEG image, or a folder of them", Required = true };
var denOut = new Option<string>("--out") { Description = "The restored PNG (for one image) or a folder for them", Required = true };
var denoise = new Command("denoise", "Restore noisy images with a trained convolutional (denoising) autoencoder") { denRun, denInput, denOut };
denoise.SetAction(p => Guard(() => ModelCommands.Denoise(p.GetValue(denRun)!, p.GetValue(denInput)!, p.GetValue(denOut)!)));

var genRun = RunArg();
var genN = new Option<int>("--n") { Description = "How many samples", DefaultValueFactory = _ => 64 };
var genSeed = new Option<int>("--seed") { Description = "Seeds the draws of z", DefaultValueFactory = _ => 0 };
var genOut = new Option<string>("--out") { Description = "PNG to write", DefaultValueFactory = _ => "samples.png" };
var generate = new Command("generate", "Draw random samples from a trained variational autoencoder (z ~ N(0, I), decoded)") { genRun, genN, genSeed, genOut };
generate.SetAction(p => Guard(() => ModelCommands.Generate(p.GetValue(genRun)!, p.GetValue(genN), p.GetValue(genSeed), p.GetValue(genOut)!)));

var manRun = RunArg();
var manGrid = new Option<int>("--grid") { Description = "Points a side", DefaultValueFactory = _ => 15 };
var manLimit = new Option<double?>("--limit") { Description = "Walk z in [-limit, limit] evenly (default: the Gaussian quantiles of 0.05 to 0.95, as the blog)" };
var manOut = new Option<string>("--out") { Description = "PNG to write", DefaultValueFactory = _ => "manifold.png" };
var manifold = new Command("manifold", "Decode a grid over a trained VAE's 2-D latent plane (the blog's digit manifold)") { manRun, manGrid, manLimit, manOut };
manifold.SetAction(p => Guard(() => ModelCommands.Manifold(p.GetValue(manRun)!, p.GetValue(manGrid), p.GetValue(manLimit), p.GetValue(manOut)!)));

var tsneRun = RunArg(); var tsneData = DataOpt();
var tsneN = new Option<int>("--n") { Description = "How many test samples", DefaultValueFactory = _ => 10000 };
var tsneMethod = new Option<string>("--method") { Description = "auto (Barnes-Hut below 20,000 points, else FFT), bh (Barnes-Hut, θ = 0.5), fft (FFT-accelerated interpolation), exact (O(N²), ≤ 5,000 points)", DefaultValueFactory = _ => "auto" };
tsneMethod.AcceptOnlyFromAmong("auto", "bh", "fft", "exact");
var tsneRaw = new Option<bool>("--raw") { Description = "Embed the pixels instead of the codes" };
var tsnePerplexity = new Option<double>("--perplexity") { Description = "Effective number of neighbours (below N/3)", DefaultValueFactory = _ => 30 };
var tsneSeed = new Option<int>("--seed") { Description = "Seeds the PCA initialisation", DefaultValueFactory = _ => 1 };
var tsneOut = new Option<string>("--out") { Description = "PNG to write", DefaultValueFactory = _ => "tsne.png" };
var tsne = new Command("tsne", "Map a trained model's codes of the test set to 2-D with t-SNE and draw them by class")
    { tsneRun, tsneData, tsneN, tsneMethod, tsneRaw, tsnePerplexity, tsneSeed, tsneOut };
tsne.SetAction(p => Guard(() => ModelCommands.Tsne(p.GetValue(tsneRun)!, p.GetValue(tsneData), p.GetValue(tsneN), p.GetValue(tsneMethod)!,
    p.GetValue(tsneRaw), p.GetValue(tsnePerplexity), p.GetValue(tsneSeed), p.GetValue(tsneOut)!)));

var anRun = RunArg();
var anData = new Option<string?>("--dataset") { Description = "Data to score: an .npy/.csv file or image folder, all of it (default: the run's test set)" };
var anCont = new Option<double>("--contamination") { Description = "Expected share of outliers: the threshold is the (1 - c) quantile of the training scores", DefaultValueFactory = _ => 0.1 };
var anOut = new Option<string>("--out") { Description = "CSV of index, score, outlier (a PNG histogram is written beside it)", DefaultValueFactory = _ => "scores.csv" };
var anScore = new Option<string>("--score") { Description = "loss (the model's own loss per sample) or mse (mean squared error of the reconstruction)", DefaultValueFactory = _ => "loss" };
var anomalies = new Command("anomalies", "Score samples by reconstruction error and flag the unusual ones") { anRun, anData, anCont, anScore, anOut };
anomalies.SetAction(p => Guard(() => ModelCommands.Anomalies(p.GetValue(anRun)!, p.GetValue(anData), p.GetValue(anCont), p.GetValue(anOut)!, p.GetValue(anScore)!)));

var exRun = RunArg();
var exPart = new Option<string>("--part") { Description = "autoencoder (default), encoder (to the code; z_mean for a VAE) or decoder (from the code; a VAE's generator)", DefaultValueFactory = _ => "autoencoder" };
exPart.AcceptOnlyFromAmong("autoencoder", "encoder", "decoder");
var exOut = new Option<string>("--out") { Description = "ONNX file to write", DefaultValueFactory = _ => "model.onnx" };
var export = new Command("export", "Write a trained model, or its encoder or decoder, as ONNX (dynamic batch)") { exRun, exPart, exOut };
export.SetAction(p => Guard(() => ModelCommands.Export(p.GetValue(exRun)!, p.GetValue(exPart)!, p.GetValue(exOut)!)));

var repRun = RunArg();
var repOut = new Option<string>("--out") { Description = "HTML file to write (self-contained)", DefaultValueFactory = _ => "report.html" };
var report = new Command("report", "Write one self-contained HTML page: configuration, results, loss curves, figures, a latent scatter to hover") { repRun, repOut };
report.SetAction(p => Guard(() => ReportCommand.Run(p.GetValue(repRun)!, p.GetValue(repOut)!)));

var sumRun = RunArg();
var summary = new Command("summary", "Print a trained model's layers and parameters") { sumRun };
summary.SetAction(p => Guard(() => ModelCommands.Summary(p.GetValue(sumRun)!)));

// A plain command named "latent" as the root, so help says "latent" however the tool is started (RootCommand
// would name it after the executable: Latent.Cli under 'dotnet Latent.Cli.dll').
var root = new Command("latent", "latent: autoencoders for .NET, from the 'Building Autoencoders in Keras' notebook")
{
    train, evaluate, reconstruct, encode, denoise, generate, manifold, tsne, anomalies, export, report, summary,
    new System.CommandLine.Help.HelpOption(), new VersionOption(),
};
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"latent: {error.Message}");
    Console.Error.WriteLine("Try 'latent --help'.");
    return 2;
}
return parsed.Invoke();

static int Guard(Func<int> action)
{
    try
    {
        return action();
    }
    catch (Exception e) when (e is ArgumentException or DataFormatException or FileNotFoundException or DirectoryNotFoundException or InvalidOperationException or NotSupportedException)
    {
        Console.Error.WriteLine($"latent: {e.Message.Split('\n')[0]}");
        return 2;
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"latent: failed: {e.Message}");
        return 1;
    }
}
