using Latent.Bench;

var mode = args.Length > 0 ? args[0] : "gemm";
// LATENT_KNOBS="Knob=v,Knob=v": experiment knobs (EpochTimer.SetKnob) set for the whole run, in any mode.
foreach (var knob in (Environment.GetEnvironmentVariable("LATENT_KNOBS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
    EpochTimer.SetKnob(knob.Split('=')[0], int.Parse(knob.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture));
switch (mode)
{
    case "gemm":
        GemmTimer.Run(1);
        GemmTimer.Run(int.MaxValue);
        break;
    case "gemm-ab":
    {
        if (args.Length < 3 || KnobPair(args[1]) is not var (knobName, first, second))
        {
            Console.Error.WriteLine($"Usage: gemm-ab KNOB=a,b \"TA,TB,M,N,K;...\" [rounds]; received '{string.Join(' ', args.Skip(1))}'.");
            return 2;
        }
        GemmAb.Run(knobName, first, second, args[2], args.Length > 3 ? Int(args[3]) : 21);
        break;
    }
    case "gemm-shapes":
        GemmShapes.Run(args.Length > 1 ? args[1] : throw new ArgumentException("gemm-shapes needs a list of shapes: \"TA,TB,M,N,K;...\"."));
        break;
    case "sparse":
        SparseTimer.Run();
        break;
    case "sparse-ab":
    {
        // sparse-ab KNOB=a,b ROWS,UNITS [rounds]
        if (args.Length < 3 || KnobPair(args[1]) is not var (sparseKnob, sa, sb) || args[2].Split(',') is not [var rowsText, var unitsText])
        {
            Console.Error.WriteLine($"Usage: sparse-ab KNOB=a,b ROWS,UNITS [rounds]; received '{string.Join(' ', args.Skip(1))}'.");
            return 2;
        }
        SparseTimer.RunAb(sparseKnob, sa, sb, Int(rowsText), Int(unitsText), args.Length > 3 ? Int(args[3]) : 41);
        break;
    }
    case "panels":
        PanelOrderTimer.Run();
        break;
    case "optimizers":
        OptimizerTimer.Run();
        break;
    case "epoch":
        EpochTimer.Run(args.Length > 1 ? args[1].Split(',') : ["simple-256", "simple-32", "deep-100"],
                       args.Length > 2 ? int.Parse(args[2]) : 3, plain: args.Contains("--plain"));
        break;
    case "parity":
        Parity.Run(args.Length > 1 ? args[1] : "bench/parity/out", steps: 200, batch: 32);
        break;
    case "array-fit":
        ArrayFitTimer.Run(args.Length > 1 ? int.Parse(args[1]) : 3);
        break;
    case "parity-conv":
        ConvParity.Run(args.Length > 1 ? args[1] : "bench/parity/out", steps: 200, batch: 32);
        break;
    case "histogram":
        // histogram OUT.png LABEL=A.npy LABEL=B.npy: code activations, e.g. without and with an L1 penalty
        Latent.Plotting.Figures.Histograms(args[1],
            args.Skip(2).Select(a => (a.Split('=')[0], Latent.Data.Npy.Read(a.Split('=')[1]))).ToList(),
            "Code activations on the MNIST test set", "activation");
        break;
    case "tsne":
        TsneRun.Run(args);
        break;
    case "tsne-fft":
        // tsne-fft N SPAN [REPS]: the FFT repulsion alone on N points spread over a SPAN-unit square (late steps: ~250)
        TsneRun.FftTimer(int.Parse(args[1]), double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args.Length > 3 ? int.Parse(args[3]) : 20);
        break;
    case "tsne-pair":
        TsneRun.Pair(args);
        break;
    case "vae":
        VaeRun.Run(args);
        break;
    case "denoise":
        DenoiseRun.Run(args);
        break;
    case "fuzz":
        return FuzzRun.Run(args);
    case "anomaly":
        AnomalyRun.Run(args);
        break;
    case "sequence-from-init":
        SequenceFromInit.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 10, args.Length > 3 ? int.Parse(args[3]) : 1);
        break;
    case "recurrent":
        RecurrentTimer.Run(128, 28, 28, 64);
        RecurrentTimer.Run(64, 28, 28, 64);
        RecurrentTimer.Run(64, 28, 64, 28);
        break;
    case "pool":
        PoolTimer.Run();
        break;
    case "conv":
        ConvTimer.Run();
        break;
    case "tp-simple":
        TensorParallelSimple.Run(args.Length > 1 && !args[1].StartsWith("--") ? Int(args[1]) : 4000, args.Contains("--in-place"), args.Contains("--full"));
        break;
    case "tp-sketch":
        TensorParallelSketch.Run();
        break;
    case "masked":
        MaskedTimer.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
        break;
    case "handoff":
        if (Environment.ProcessorCount < 2)
        {
            Console.Error.WriteLine("handoff passes buffers between two cores; this machine has one.");
            return 2;
        }
        foreach (var kb in new[] { 16, 50, 100, 200, 400 })
        {
            var (cross, local) = Latent.Bench.MachineProbe.HandOffUs(kb * 256);
            Console.WriteLine($"{kb,4} KB: read and rewritten by the other core {cross,7:F1} us, by the same core {local,7:F1} us");
        }
        break;
    case "first-epoch":
        Latent.Bench.FirstEpoch.Run(args.Length > 1 ? args[1] : "deep-100", args.Length > 2 ? Int(args[2]) : 4);
        break;
    case "density":
        Latent.Bench.Density.Run();
        break;
    case "loss-parts":
        Latent.Bench.LossParts.Run();
        break;
    case "loss":
        LossTimer.Run();
        break;
    case "subnormal":
        SubnormalCheck.Run(args.Length > 1 ? args[1] : "vae-100", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 4);
        break;
    case "ceiling":
        Ceiling.Run(args.Length > 1 ? args[1].Split(',') : ["simple-256", "simple-32", "deep-100"]);
        break;
    case "profile":
        if (Environment.GetEnvironmentVariable("LATENT_PARALLEL_FLOPS") is { } pf) Latent.Kernels.Gemm.ParallelFlops = long.Parse(pf);
        if (Environment.GetEnvironmentVariable("LATENT_GEMM_THREADS") is { } gt) Latent.Kernels.Gemm.MaxThreads = int.Parse(gt);
        int profileSteps = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 500;
        foreach (var row in args.Length > 1 ? args[1].Split(',') : ["simple-256", "simple-32", "deep-100"]) PhaseProfile.Run(row, profileSteps);
        break;
    case "ab-step":
    case "ab-build":
    {
        // ab-step ROW KNOB=a,b [steps]: a knob's two settings alternating every 25 training steps.
        if (args.Length < 3 || KnobPair(args[2]) is not var (stepKnob, a, b))
        {
            Console.Error.WriteLine($"Usage: {mode} ROW KNOB=a,b [steps]; received '{string.Join(' ', args.Skip(1))}'.");
            return 2;
        }
        int abSteps = args.Length > 3 ? Int(args[3]) : 4000;
        if (mode == "ab-build") PhaseProfile.RunAbBuild(args[1], stepKnob, a, b, abSteps);
        else PhaseProfile.RunAb(args[1], stepKnob, a, b, abSteps);
        break;
    }
    default:
        Console.Error.WriteLine($"Unknown mode '{mode}'. Modes: gemm, gemm-shapes \"TA,TB,M,N,K;...\", gemm-ab KNOB=a,b \"TA,TB,M,N,K;...\" [rounds], sparse, sparse-ab KNOB=a,b ROWS,UNITS [rounds], panels, optimizers, epoch [rows] [repetitions] [--plain], profile [rows] [steps, 500], ab-step ROW KNOB=a,b [steps, 4000], ab-build ROW KNOB=a,b [steps, 4000], ceiling [rows], density, first-epoch [row] [epochs], handoff, loss, loss-parts, subnormal [row] [epochs, 4], masked [repetitions], pool, conv, tp-sketch, tp-simple [steps, 4000] [--in-place|--full], parity [dir], parity-conv [dir], array-fit [calls], tsne [N] [--input pca50|raw|FILE.npy] [--method barnes_hut|exact] [--save-input F] [--out PREFIX], tsne-pair N CODES.npy OUT.png, tsne-fft N SPAN [REPS], vae dense|dense-mean|conv EPOCHS [--ll-n N] [--ll-k K] [--json OUT], denoise blog|keras EPOCHS [--clean-epochs N] [--json OUT] [--figure OUT.png], fuzz [--inputs N] [--formats model,npy,...], anomaly mnist|fashion-mnist [--models dense,conv] [--epochs-dense N] [--epochs-conv N] [--classes 0,1] [--seed S], recurrent, sequence-from-init INIT.npz [epochs] [seed], histogram OUT.png LABEL=A.npy ...");
        return 2;
}
return 0;

static int Int(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

// "KNOB=a,b" of the A/B modes: the knob's name and its two settings, or null when the argument has another form.
static (string Knob, int A, int B)? KnobPair(string arg) =>
    arg.Split('=') is [var knob, var pair] && pair.Split(',') is [var a, var b] &&
    int.TryParse(a, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int first) &&
    int.TryParse(b, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int second)
        ? (knob, first, second) : null;
