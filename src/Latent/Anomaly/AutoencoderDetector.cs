using Latent.Layers;

namespace Latent.Anomaly;

/// <summary>
/// Outlier detection by reconstruction error, with PyOD's conventions: <see cref="Fit"/> on unlabelled, mostly
/// normal data; <see cref="DecisionFunction"/> gives each sample's score (higher is more unusual);
/// <see cref="Predict"/> flags scores above <see cref="Threshold"/>, the (1 − contamination) quantile of the
/// training scores (linear interpolation, numpy's default percentile).
/// </summary>
/// <remarks>
/// The default autoencoder mirrors <c>hiddenUnits</c>: features → 64 → 32 → 64 → features (ReLU, linear output),
/// trained with Adam on the mean squared error of z-scored features (each feature centred and scaled by its
/// training standard deviation; constant features are left centred); the score is a sample's mean squared
/// reconstruction error in that space. Any compiled single-output Latent model can be given instead (dense,
/// convolutional, a VAE); it is trained as it is, and scored by its own loss (<see cref="Model.LossPerSample"/>) or,
/// with <see cref="ReconstructionScore.SquaredError"/>, by each sample's mean squared error whatever it was trained
/// with: binary cross-entropy trains image autoencoders well, but as a score it adds each image's own pixel entropy,
/// which ranks grey images above dark ones (docs/ANOMALY.md measures it).
/// </remarks>
public sealed class AutoencoderDetector
{
    private readonly int[]? _hiddenUnits;
    private float[]? _mean, _scale;

    /// <summary>A detector with the default autoencoder of <paramref name="hiddenUnits"/> (mirrored).</summary>
    /// <exception cref="ArgumentException">No or non-positive hidden sizes, contamination outside (0, 0.5], or non-positive epochs or batch size.</exception>
    public AutoencoderDetector(int[]? hiddenUnits = null, double contamination = 0.1, int epochs = 20, int batchSize = 32, int seed = 0)
    {
        hiddenUnits ??= [64, 32];
        if (hiddenUnits.Length == 0 || hiddenUnits.Any(u => u <= 0))
            throw new ArgumentException($"hiddenUnits must be positive sizes, received [{string.Join(", ", hiddenUnits)}].", nameof(hiddenUnits));
        _hiddenUnits = hiddenUnits;
        (Contamination, Epochs, BatchSize, Seed) = Check(contamination, epochs, batchSize, seed);
    }

    /// <summary>A detector around <paramref name="autoencoder"/>, a compiled model from x to a reconstruction of x.</summary>
    /// <exception cref="ArgumentException">The model is not compiled or has several inputs or outputs; or settings as above.</exception>
    /// <param name="score">What a sample's score is: the model's loss (the default) or its mean squared error.</param>
    public AutoencoderDetector(Model autoencoder, double contamination = 0.1, int epochs = 20, int batchSize = 32, int seed = 0,
                               ReconstructionScore score = ReconstructionScore.Loss)
    {
        Score = score;
        ArgumentNullException.ThrowIfNull(autoencoder);
        if (!autoencoder.IsCompiled) throw new ArgumentException($"Model '{autoencoder.Name}' is not compiled: call Compile first.", nameof(autoencoder));
        if (autoencoder.Inputs.Count != 1 || autoencoder.Outputs.Count != 1 || autoencoder.Inputs[0].Size != autoencoder.Outputs[0].Size)
            throw new ArgumentException($"Model '{autoencoder.Name}' must map one input to a reconstruction of the same size.", nameof(autoencoder));
        Autoencoder = autoencoder;
        (Contamination, Epochs, BatchSize, Seed) = Check(contamination, epochs, batchSize, seed);
    }

    private static (double, int, int, int) Check(double contamination, int epochs, int batchSize, int seed)
    {
        if (!(contamination > 0 && contamination <= 0.5))
            throw new ArgumentOutOfRangeException(nameof(contamination), contamination, $"contamination is the expected share of outliers, in (0, 0.5]. Received: contamination={contamination}.");
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"Expected positive epochs. Received: epochs={epochs}.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        return (contamination, epochs, batchSize, seed);
    }

    /// <summary>What a sample's score is.</summary>
    public ReconstructionScore Score { get; }

    /// <summary>The expected share of outliers in the training data.</summary>
    public double Contamination { get; }
    /// <summary>Training epochs.</summary>
    public int Epochs { get; }
    /// <summary>Training batch size.</summary>
    public int BatchSize { get; }
    /// <summary>Seeds the weights and the training order.</summary>
    public int Seed { get; }

    /// <summary>The autoencoder (built by <see cref="Fit"/> for the default one).</summary>
    public Model? Autoencoder { get; private set; }

    /// <summary>The score above which a sample is an outlier; NaN before <see cref="Fit"/>.</summary>
    public double Threshold { get; private set; } = double.NaN;

    /// <summary>The training samples' scores.</summary>
    public double[] TrainingScores { get; private set; } = [];

    /// <summary>The training history.</summary>
    public History? History { get; private set; }

    /// <summary>Trains the autoencoder on <paramref name="x"/> and sets the threshold from its scores.</summary>
    /// <exception cref="ArgumentException">Fewer than 2 samples, or samples that do not fit a given model.</exception>
    public AutoencoderDetector Fit(SampleSet x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rows < 2) throw new ArgumentException($"A detector needs at least 2 training samples, received {x.Rows}.", nameof(x));
        SampleSet input = x;
        if (_hiddenUnits is not null)
        {
            int d = x.RowSize;
            var all = new Tensor([x.Rows, d]);
            x.CopyRows(0, x.Rows, all.Span);
            _mean = new float[d];
            _scale = new float[d];
            for (int j = 0; j < d; j++)
            {
                double m = 0, v = 0;
                for (int i = 0; i < x.Rows; i++) m += all.Span[i * d + j];
                m /= x.Rows;
                for (int i = 0; i < x.Rows; i++) { double t = all.Span[i * d + j] - m; v += t * t; }
                double sd = Math.Sqrt(v / x.Rows);
                _mean[j] = (float)m;
                _scale[j] = sd > 1e-12 ? (float)(1 / sd) : 1f;
            }
            input = Standardize(all);
            Randomness.SetSeed(Seed);
            var inp = Input.Create(d);
            var h = inp;
            foreach (int u in _hiddenUnits) h = new Dense(u, "relu").Apply(h);
            foreach (int u in Enumerable.Reverse(_hiddenUnits).Skip(1)) h = new Dense(u, "relu").Apply(h);
            Autoencoder = new Model(inp, new Dense(d, name: "reconstruction").Apply(h), name: "detector");
            Autoencoder.Compile("adam", "mse");
        }
        else if (x.RowSize != Autoencoder!.Inputs[0].Size)
            throw new ArgumentException($"Model '{Autoencoder.Name}' takes {Autoencoder.Inputs[0].Size} values per sample; x has {x.RowSize}.", nameof(x));
        History = Autoencoder!.Fit(input, input, epochs: Epochs, batchSize: BatchSize, shuffle: true, verbose: 0, seed: Seed);
        TrainingScores = Scores(input);
        Threshold = Statistics.Percentiles.Linear(TrainingScores, 100 * (1 - Contamination));
        return this;
    }

    /// <summary>Each sample's reconstruction error; higher is more unusual.</summary>
    /// <exception cref="InvalidOperationException">Not fitted.</exception>
    /// <exception cref="ArgumentException">Samples of another size than the training data.</exception>
    public double[] DecisionFunction(SampleSet x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (Autoencoder is null || double.IsNaN(Threshold)) throw new InvalidOperationException("Call Fit before scoring.");
        if (x.RowSize != Autoencoder.Inputs[0].Size)
            throw new ArgumentException($"The detector was fitted on {Autoencoder.Inputs[0].Size} values per sample; x has {x.RowSize}.", nameof(x));
        SampleSet input = x;
        if (_mean is not null)
        {
            var all = new Tensor([x.Rows, x.RowSize]);
            x.CopyRows(0, x.Rows, all.Span);
            input = Standardize(all);
        }
        return Scores(input);
    }

    private double[] Scores(SampleSet input) => ScoresOf(Autoencoder!, input, Score);

    /// <summary>
    /// Each sample's reconstruction error under a trained <paramref name="autoencoder"/> (input → its reconstruction),
    /// without fitting a detector: its own loss per sample, or the mean squared error <c>(1/d)·Σⱼ (x̂ⱼ − xⱼ)²</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Samples of another size than the model's input.</exception>
    public static double[] ScoresOf(Model autoencoder, SampleSet x, ReconstructionScore score = ReconstructionScore.Loss)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        ArgumentNullException.ThrowIfNull(x);
        if (x.RowSize != autoencoder.Inputs[0].Size)
            throw new ArgumentException($"Model '{autoencoder.Name}' takes {autoencoder.Inputs[0].Size} values per sample; x has {x.RowSize}.", nameof(x));
        if (score == ReconstructionScore.Loss) return autoencoder.LossPerSample(x, x);
        var result = new double[x.Rows];
        const int chunk = 1024;
        for (int start = 0; start < x.Rows; start += chunk)
        {
            int count = Math.Min(chunk, x.Rows - start);
            var rows = new Tensor([count, .. x.Shape.Skip(1)]);
            x.CopyRows(start, count, rows.Span);
            var y = autoencoder.Predict(rows);
            Metrics.MeanSquaredErrorPerRow(y.Span, rows.Span, rows.RowSize, result.AsSpan(start, count));
        }
        return result;
    }

    /// <summary>Whether each sample's score is above <see cref="Threshold"/>.</summary>
    public bool[] Predict(SampleSet x) => DecisionFunction(x).Select(s => s > Threshold).ToArray();

    private Tensor Standardize(Tensor all)
    {
        int d = all.RowSize;
        var s = all.Span;
        for (int i = 0; i < all.Rows; i++)
            for (int j = 0; j < d; j++) s[i * d + j] = (s[i * d + j] - _mean![j]) * _scale![j];
        return all;
    }
}

/// <summary>What <see cref="AutoencoderDetector"/> scores a sample by.</summary>
public enum ReconstructionScore
{
    /// <summary>The model's own loss on the sample (<see cref="Model.LossPerSample"/>).</summary>
    Loss,

    /// <summary>The mean squared error of the reconstruction, <c>(1/d)·Σⱼ (x̂ⱼ − xⱼ)²</c>, whatever the model was trained with.</summary>
    SquaredError,
}
