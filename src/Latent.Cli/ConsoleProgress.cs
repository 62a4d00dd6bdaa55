using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Latent.Cli;

/// <summary>
/// A live Spectre.Console bar per epoch (ETA, samples/s, running loss), then a Keras-like line per epoch.
/// Used only when standard output is a terminal; otherwise Fit prints plain lines.
/// </summary>
internal sealed class ConsoleProgress(ProgressContext context, int samples, int batchSize, int epochs) : Callback
{
    private ProgressTask? _task;
    private readonly Stopwatch _clock = new();
    private double _lossSum;
    private int _seen;
    private long _lastUpdate;
    private string _label = "";

    public override void OnEpochBegin(int epoch)
    {
        _label = $"Epoch {epoch + 1}/{epochs}";
        _task = context.AddTask(_label, maxValue: samples);
        _clock.Restart();
        _lossSum = 0;
        _seen = 0;
        _lastUpdate = 0;
    }

    public override void OnBatchEnd(int batch, double loss)
    {
        int count = Math.Min(batchSize, samples - batch * batchSize);
        _lossSum += loss * count;
        _seen += count;
        long now = _clock.ElapsedMilliseconds;
        if (now - _lastUpdate < 100 && _seen < samples) return;
        _lastUpdate = now;
        double rate = _seen / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
        _task!.Value = _seen;
        _task.Description = string.Create(CultureInfo.InvariantCulture,
            $"{_label} loss {_lossSum / _seen:F4} · {rate:N0} samples/s");
    }

    public override void OnEpochEnd(EpochLogs logs)
    {
        if (_task is null) return;
        _task.Value = samples;
        _task.StopTask();
        context.Refresh();
        AnsiConsole.WriteLine(Model.FormatEpoch(logs, epochs, Model.AddedLossName));
    }
}
