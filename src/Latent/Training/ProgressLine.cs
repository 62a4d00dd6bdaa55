using System.Globalization;

namespace Latent;

/// <summary>
/// Keras's verbose=1 progress bar, redrawn in place at most every 0.2 s on a terminal; silent when output
/// is redirected (the epoch line is printed either way).
/// </summary>
internal sealed class ProgressLine(TextWriter writer, int batches)
{
    private readonly bool _live = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
    private double _lastDraw;
    private bool _drawn;

    public void Start()
    {
        _lastDraw = -1;
        _drawn = false;
    }

    public void Update(int batch, double loss, double seconds)
    {
        if (!_live || (seconds - _lastDraw < 0.2 && batch < batches)) return;
        _lastDraw = seconds;
        const int width = 30;
        int filled = (int)((long)width * batch / batches);
        string bar = new string('=', Math.Max(0, filled - 1)) + (filled > 0 ? (batch == batches ? "=" : ">") : "") + new string('.', width - filled);
        double eta = batch > 0 ? seconds / batch * (batches - batch) : 0;
        writer.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r{batch,6}/{batches} [{bar}] - ETA: {eta:F0}s - loss: {loss:F4}   "));
        _drawn = true;
    }

    public void Finish()
    {
        if (_drawn) writer.Write("\r" + new string(' ', 79) + "\r");
    }
}
