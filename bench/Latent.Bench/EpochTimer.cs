using System.Diagnostics;
using Latent.Datasets;
using Latent.Layers;

namespace Latent.Bench;

/// <summary>
/// Whole training epochs on MNIST for the issue's three rows, and Predict throughput on the test set. Environment:
/// <c>LATENT_AB</c> alternates a knob between epochs, <c>LATENT_PROBE</c> measures the machine after a row's epochs,
/// <c>LATENT_TIMELINE</c> prints where each thread of the data-parallel step spends it, epoch by epoch.
/// </summary>
internal static class EpochTimer
{
    public static (Model Model, int Batch) Build(string row)
    {
        Randomness.SetSeed(1);
        var input = Input.Create(784);
        switch (row)
        {
            case "simple-256":
            case "simple-32":
            case "simple-16":
            case "simple-64":
            case "simple-128":
            {
                var code = new Dense(32, "relu").Apply(input);
                var m = new Model(input, new Dense(784, "sigmoid").Apply(code));
                m.Compile("adagrad", "binary_crossentropy");
                return (m, int.Parse(row["simple-".Length..]));
            }
            case "deep-100":
            {
                var h = new Dense(128, "relu").Apply(input);
                h = new Dense(64, "relu").Apply(h);
                h = new Dense(32, "relu").Apply(h);
                h = new Dense(64, "relu").Apply(h);
                h = new Dense(128, "relu").Apply(h);
                var m = new Model(input, new Dense(784, "sigmoid").Apply(h));
                m.Compile("adadelta", "binary_crossentropy");
                return (m, 100);
            }
            case "conv-128":
            {
                var m = BlogModels.ConvAutoencoder();   // on the same 784 values per image
                m.Compile("adadelta", "binary_crossentropy");
                return (m, 128);
            }
            case "denoise-128":
                return (DenoiseRun.Blog(), 128);          // the blog's denoiser, Adadelta (timed on clean → clean: the same work)
            case "denoise-keras-128":
                return (DenoiseRun.Keras(), 128);         // keras.io's, Conv2DTranspose decoder, Adam
            case "vae-100":
                return (Latent.Models.VariationalAutoencoder.Dense().Model, 100);      // the blog's VAE, RMSprop
            case "conv-vae-128":
                return (Latent.Models.VariationalAutoencoder.Convolutional().Model, 128); // keras.io's vae.py, Adam
            case "lstm-128":
            case "lstm-64":
            {
                // The sequence issue's contract: image rows as 28 steps of 28 features, LSTM(64) code, RepeatVector, LSTM(28).
                var seq = Input.Create(28, 28);
                var code = new LSTM(64).Apply(seq);
                var m = new Model(seq, new LSTM(28, returnSequences: true).Apply(new RepeatVector(28).Apply(code)));
                m.Compile("adam", "mse");
                return (m, int.Parse(row["lstm-".Length..]));
            }
            default:
                throw new ArgumentException($"Unknown row '{row}'. Rows: simple-256, simple-128, simple-64, simple-32, simple-16, deep-100, conv-128, denoise-128, denoise-keras-128, vae-100, conv-vae-128, lstm-128, lstm-64 (one core's share of lstm-128).");
        }
    }

    /// <summary>Prints one line per repetition: row, seconds per epoch, loss; then (unless <paramref name="plain"/>) Predict throughput.</summary>
    public static void Run(string[] rows, int repetitions, bool plain)
    {
        // A knob for experiments: the fewest rows per core before a step goes data-parallel.
        if (Environment.GetEnvironmentVariable("LATENT_STEP_MIN_ROWS") is { } minRows) Model.ParallelStepMinRows = int.Parse(minRows, System.Globalization.CultureInfo.InvariantCulture);
        var (xTrain, _, xTest, _) = Mnist.LoadBytes(); // bytes, read as value / 255 per batch: a quarter of the memory of floats
        // LATENT_AB=KNOB=a,b: alternate a knob between a and b epoch by epoch, so both see the same phases of this
        // machine's drifting speed, and print each one's median. Knobs: DirectBRows (Gemm: the most rows of C for
        // which B is read in place), StepMinRows (fewest rows per core for the data-parallel step), WriteWeightGrads (0: clear
        // the weight gradients and add into them, 1: layers write them), ConvGemm (0: convolutions with 32 filters or more
        // on the direct kernels whatever their stride and width, 1: strided and ragged ones through the GEMM),
        // ReplicasPerCore (data-parallel replicas each core runs in turn; 0: chosen from the L2 size), AvoidAliasing (Gemm:
        // 1 packs operands read in place down a column whose stride aliases in L1, 0 reads them in place), PrefetchB (Gemm:
        // 1 prefetches the next column panel of a B read in place into L2, 0 does not), PrefetchC, WholeBatchBelowRows (shares
        // smaller than this run as one executor when every dense product is split anyway; 0: always shares), FiveRowRule
        // (Gemm on AVX2: 0 six-row panels only, 1 five rows whenever fewer rows are computed, 2 when ~4% fewer), SumBlock
        // (optimizer: floats of partial gradients summed and updated at a time; 0 a whole part), RowGather (1: one
        // executor's shuffled batch gathered on every core, 0 on the caller), SparseInput (Dense: the most nonzeros, in
        // percent, of a batch of the model's inputs multiplied as a sparse one; 0 never), SparseMinUnits (Dense: the fewest
        // units for that), SparseOneCoreMinUnits (Dense: the fewest units for the sparse forward alone on one core),
        // SparseHelpKflops (smallest sparse product a replica posts for help, in units of 1024 flops; 0 none),
        // DeferWeightGrads (1: large Dense kernels' gradients computed by rows just before each block's update), DeferBlock
        // (kernel values in such a block), DeferMinFloats (the smallest kernel deferred), SparseParallelKflops (smallest
        // sparse product split across the cores, in units of 1024 flops; 0 never), ExactPanels (Gemm on AVX2: 1 row panels
        // of six then five covering a block exactly), RowOuter (Gemm on AVX2: 1 small slabs row panel first),
        // RowOuterKfloats (the largest such slab, in units of 1024 floats), ExactRowOuter (both of those). The same
        // knobs alternate every 25 steps in `ab-step ROW KNOB=a,b`, which compares medians of whole training steps.
        string[]? abSpec = Environment.GetEnvironmentVariable("LATENT_AB")?.Split('=');
        int[]? ab = abSpec?[1].Split(',').Select(int.Parse).ToArray();
        foreach (var row in rows)
        {
            var (model, batch) = Build(row);
            WarmUp(model, batch, xTrain);
            var abTimes = new List<double>[2] { new(), new() };
            if (Environment.GetEnvironmentVariable("LATENT_TIMELINE") is not null)
                DataParallelStep.Timeline = new StepTimeline(Latent.Kernels.ComputePool.Shared.Threads);   // after the warm-up: its steps untimed
            for (int r = 0; r < repetitions; r++)
            {
                if (ab is not null) SetKnob(abSpec![0], ab[r % 2]);
                int gcs = GC.CollectionCount(0);
                var pause = GC.GetTotalPauseDuration();
                var jit0 = System.Runtime.JitInfo.GetCompilationTime();
                long jitN0 = System.Runtime.JitInfo.GetCompiledMethodCount();
                var sw = Stopwatch.StartNew();
                var h = model.Fit(xTrain, xTrain, epochs: 1, batchSize: batch, shuffle: true, verbose: 0, seed: r);
                double s = sw.Elapsed.TotalSeconds;
                if (DataParallelStep.Timeline is { } timeline)
                {
                    PrintTimeline(row, timeline);
                    timeline.Clear();
                }
                if (Environment.GetEnvironmentVariable("LATENT_JITINFO") is not null)
                    Console.Error.WriteLine($"jit during the epoch {(System.Runtime.JitInfo.GetCompilationTime() - jit0).TotalMilliseconds:F1} ms, {System.Runtime.JitInfo.GetCompiledMethodCount() - jitN0} methods");
                if (ab is not null) { abTimes[r % 2].Add(s); Console.Write($"[{ab[r % 2]}] "); }
                Console.WriteLine(plain ? FormattableString.Invariant($"{row} {s:F4} {h.Loss[0]:F4}")
                                        : $"{row,-12} {s,8:F3} s/epoch  loss {h.Loss[0]:F4}  GCs {GC.CollectionCount(0) - gcs} ({(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:F1} ms)");
            }
            DataParallelStep.Timeline = null;
            if (Environment.GetEnvironmentVariable("LATENT_PROBE") is not null)
                Console.WriteLine(FormattableString.Invariant($"probe peak 1 {FmaPeak.Measure(1):F1} peak {Environment.ProcessorCount} {FmaPeak.Measure():F1} memory 1 {MachineProbe.MemoryGBps(1):F1} roundtrip {MachineProbe.RoundTripNs():F0}"));
            if (ab is not null)
                Console.WriteLine($"{row} medians: " + string.Join(", ", ab.Select((v, i) => $"{v}: {Stats.Median(abTimes[i]):F4}")));
            if (plain || row.StartsWith("conv", StringComparison.Ordinal) || row.StartsWith("denoise", StringComparison.Ordinal) || row.StartsWith("lstm", StringComparison.Ordinal) || row.Contains("vae", StringComparison.Ordinal)) continue;
            var encoder = new Model(model.Inputs[0], model.Nodes.Length > 2 ? model.GetLayerOutput(model.Layers[3].Name) : model.GetLayerOutput(model.Layers[1].Name));
            encoder.Predict(xTest, batchSize: 256);
            var p = Stopwatch.StartNew();
            encoder.Predict(xTest, batchSize: 256);
            Console.WriteLine($"{row,-12} predict(encode 10000) {p.Elapsed.TotalMilliseconds,8:F1} ms");
        }
    }

    /// <summary>
    /// Epochs on the first 2,048 rows before anything is timed, until the JIT is done: the compute pool, the step's
    /// buffers and the runtime's tiering. One such epoch (64 steps at batch 32, ~10 ms) ends inside the runtime's
    /// call-counting delay (100 ms without new tier-0 code), so the methods it called were promoted during the first
    /// timed epoch, compiled on one of the two cores the step runs on. So rounds follow, each after a pause longer than
    /// that delay, until a round and its pause compile nothing (at most <see cref="MaxWarmUpRounds"/>). Input and target
    /// are one slice, as the timed <c>Fit(x, x)</c> passes one array: the engine recognises that by reference.
    /// </summary>
    public static void WarmUp(Model model, int batch, ByteTensor xTrain)
    {
        var rows = xTrain.SliceRows(0, 2048);
        int limit = Environment.GetEnvironmentVariable("LATENT_WARMUP") == "once" ? 1 : MaxWarmUpRounds;
        var compiledPerRound = new List<long>();
        for (int round = 0; round < limit; round++)
        {
            long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            model.Fit(rows, rows, epochs: 1, batchSize: batch, verbose: 0, seed: 1);
            if (limit > 1) Thread.Sleep(250);
            compiledPerRound.Add(System.Runtime.JitInfo.GetCompiledMethodCount() - compiled);
            if (compiledPerRound[^1] == 0) break;
        }
        if (Environment.GetEnvironmentVariable("LATENT_JITINFO") is not null)
            Console.Error.WriteLine($"warm-up: {compiledPerRound.Count} rounds compiled {string.Join(", ", compiledPerRound)} methods");
    }

    /// <summary>The most warm-up rounds (<see cref="WarmUp"/>); <c>LATENT_WARMUP=once</c> runs one, as runs 1–24 of the side by side did.</summary>
    private const int MaxWarmUpRounds = 10;

    /// <summary>
    /// With <c>LATENT_TIMELINE=1</c>: per thread of the data-parallel step, the mean time from a step's start at which it
    /// began, finished its replicas, its posted kernel gradients, its update blocks, and returned (µs; <see cref="StepTimeline"/>).
    /// </summary>
    private static void PrintTimeline(string row, StepTimeline timeline)
    {
        for (int part = 0; part < timeline.Parts; part++)
            Console.WriteLine(FormattableString.Invariant($"timeline {row} part {part} ({timeline.Steps} steps, us): ") +
                              string.Join(", ", StepTimeline.MarkNames.Select((name, m) => FormattableString.Invariant($"{name} {timeline.MeanMicroseconds(part, m):F1}"))));
    }

    /// <summary>Sets one of the experiment knobs listed above to <paramref name="v"/>.</summary>
    public static void SetKnob(string name, int v)
    {
        if (name == "DirectBRows") Latent.Kernels.Gemm.DirectBRows = v;
        else if (name == "PrefetchTileC") Latent.Kernels.Gemm.PrefetchTileC = v;
        else if (name == "SparseGradByRows") Latent.Layers.Dense.SparseGradByRows = v != 0;
        else if (name == "SweepPanels") Latent.Kernels.Gemm.SweepPanels = v != 0;
        else if (name == "SweepRowPanels") Latent.Kernels.Gemm.SweepRowPanels = v != 0;
        else if (name == "SparseOneCoreMinRows") Latent.Layers.Dense.SparseOneCoreMinRows = v;
        else if (name == "SparseWide512") Latent.Kernels.SparseRows.Wide512 = v != 0;
        else if (name == "InPhaseArrays") ParameterStore.InPhaseArrays = v != 0;
        else if (name == "Vector512Updates") Latent.Optimizers.Optimizer.Vector512Updates = v != 0;
        else if (name == "SkipZeroGrads") Latent.Optimizers.Adagrad.SkipZeroGradients = v != 0;
        else if (name == "ByRowsBlock") Latent.Kernels.SparseRows.ByRowsBlock = v;
        else if (name == "StepMinRows") Model.ParallelStepMinRows = v;
        else if (name == "WriteWeightGrads") GraphExecutor.WriteWeightGrads = v != 0;
        else if (name == "ConvGemm") Latent.Kernels.Conv.GemmRouting = v != 0;
        else if (name == "ReplicasPerCore") Model.ReplicasPerCore = v;
        else if (name == "AvoidAliasing") Latent.Kernels.Gemm.AvoidAliasing = v != 0;
        else if (name == "PrefetchB") Latent.Kernels.Gemm.PrefetchB = v != 0;
        else if (name == "PrefetchC") Latent.Kernels.Gemm.PrefetchC = v != 0;
        else if (name == "WholeBatchBelowRows") Model.WholeBatchBelowRows = v;
        else if (name == "FiveRowRule") Latent.Kernels.Gemm.FiveRowRule = v;
        else if (name == "RowGather") RowGather.OnCores = v != 0;
        else if (name == "SumBlock") Latent.Optimizers.Optimizer.SumBlock = v;
        else if (name == "UpdateInStep") Model.UpdateInStep = v != 0;
        else if (name == "UpdateBlock") DataParallelStep.UpdateBlockFloats = v;
        else if (name == "StepThreading") DataParallelStep.Threading = v;
        else if (name == "OneCore")
        {
            // Everything on the calling thread: one executor on the whole batch, no product split, no gather on the cores.
            Model.ParallelStepMinRows = v != 0 ? 1 << 20 : 8;
            Latent.Kernels.Gemm.MaxThreads = v != 0 ? 1 : int.MaxValue;
            Latent.Kernels.SparseRows.ParallelFlops = v != 0 ? long.MaxValue : 1L << 18;
            RowGather.OnCores = v == 0;
        }
        else if (name == "UpdateBlocksPerStep") DataParallelStep.UpdateBlocksPerStep = v;
        else if (name == "HelpMflops") Latent.Kernels.Gemm.HelpFlops = v <= 0 ? long.MaxValue : (long)v << 20;
        else if (name == "PostMaxKB") DataParallelStep.PostMaxBytes = v << 10;
        else if (name == "PostKernelGrads") DataParallelStep.PostKernelGrads = v != 0;
        else if (name == "SparseInput") Latent.Layers.Dense.SparseInputDensity = v / 100.0;
        else if (name == "SparseMinUnits") Latent.Layers.Dense.SparseMinUnits = v;
        else if (name == "DeferWeightGrads") DataParallelStep.DeferWeightGrads = v != 0;
        else if (name == "SparseParallelKflops") Latent.Kernels.SparseRows.ParallelFlops = v <= 0 ? long.MaxValue : (long)v << 10;
        else if (name == "DeferBlock") DataParallelStep.DeferBlockFloats = v;
        else if (name == "DeferMinFloats") DataParallelStep.DeferMinFloats = v;
        else if (name == "SparseHelpKflops") Latent.Kernels.SparseRows.HelpFlops = v <= 0 ? long.MaxValue : (long)v << 10;
        else if (name == "ExactPanels") Latent.Kernels.Gemm.ExactPanels = v != 0;
        else if (name == "SparseOneCoreMinUnits") Latent.Layers.Dense.SparseOneCoreMinUnits = v;
        else if (name == "ExactRowOuter") { Latent.Kernels.Gemm.ExactPanels = v != 0; Latent.Kernels.Gemm.RowPanelsOuter = v != 0; }
        else if (name == "RowOuter") Latent.Kernels.Gemm.RowPanelsOuter = v != 0;
        else if (name == "RowOuterKfloats") Latent.Kernels.Gemm.RowOuterMaxFloats = (long)v << 10;
        else throw new ArgumentException($"Unknown knob '{name}'. Knobs: DirectBRows, StepMinRows, WriteWeightGrads, ConvGemm, ReplicasPerCore, AvoidAliasing, PrefetchB, PrefetchC, WholeBatchBelowRows, FiveRowRule, SumBlock, RowGather, UpdateInStep, UpdateBlock, HelpMflops, SparseInput, SparseMinUnits, SparseHelpKflops, DeferWeightGrads, DeferBlock, DeferMinFloats, SparseParallelKflops, RowOuter, RowOuterKfloats, ExactPanels, ExactRowOuter, SparseOneCoreMinUnits, PrefetchTileC, SparseGradByRows, ByRowsBlock, SkipZeroGrads, SweepPanels, SweepRowPanels, Vector512Updates, InPhaseArrays, SparseWide512, SparseOneCoreMinRows, UpdateBlocksPerStep, StepThreading, OneCore.");
    }
}
