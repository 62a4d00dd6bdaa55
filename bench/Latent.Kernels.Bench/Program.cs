// The matrix-multiply benchmark on the shapes the notebook's models run, with BenchmarkDotNet:
//   dotnet run -c Release --project bench/Latent.Kernels.Bench            (all shapes, both thread counts)
//   dotnet run -c Release --project bench/Latent.Kernels.Bench -- --filter '*1024*'
// Before the runs it measures the FMA peak of the machine (a register-only Vector512/256 FMA loop on every
// core); the GFLOPS column and "% of peak" are computed from BenchmarkDotNet's mean time.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Latent.Kernels;

double peak = FmaPeak.Measure();
Console.WriteLine($"Measured FMA peak: {peak:F0} GFLOPS on {Environment.ProcessorCount} cores");
GemmBenchmarks.PeakGflops = peak;
var config = DefaultConfig.Instance.AddColumn(new GflopsColumn(false), new GflopsColumn(true));
BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args, config);

/// <summary>A multiply shape: (M×K)·(K×N) with the operand transposes backprop uses.</summary>
public sealed record Shape(string Name, bool TransA, bool TransB, int M, int N, int K)
{
    public double Flops => 2.0 * M * N * K;
    public override string ToString() => Name;
}

public class GemmBenchmarks
{
    public static double PeakGflops;

    public static IEnumerable<Shape> Shapes() =>
    [
        new("fwd 256x784.784x32", false, false, 256, 32, 784),
        new("fwd 256x32.32x784", false, false, 256, 784, 32),
        new("dW (256x784)T.256x32", true, false, 784, 32, 256),
        new("dW (256x32)T.256x784", true, false, 32, 784, 256),
        new("dX 256x784.(32x784)T", false, true, 256, 32, 784),
        new("dX 256x32.(784x32)T", false, true, 256, 784, 32),
        new("fwd 100x784.784x128", false, false, 100, 128, 784),
        new("dX 100x784.(128x784)T", false, true, 100, 128, 784),
        new("dX 32x784.(32x784)T", false, true, 32, 32, 784),
        new("1024^3", false, false, 1024, 1024, 1024),
    ];

    [ParamsSource(nameof(Shapes))]
    public Shape S { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] _a = [], _b = [], _c = [];

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        _a = Enumerable.Range(0, S.M * S.K).Select(_ => (float)r.NextDouble()).ToArray();
        _b = Enumerable.Range(0, S.K * S.N).Select(_ => (float)r.NextDouble()).ToArray();
        _c = new float[S.M * S.N];
        Gemm.MaxThreads = Threads;
    }

    [Benchmark]
    public void Multiply() =>
        Gemm.Multiply(S.TransA, S.TransB, S.M, S.N, S.K, _a, S.TransA ? S.M : S.K, _b, S.TransB ? S.K : S.N, _c, S.N, false);
}

/// <summary>GFLOPS (or % of the measured FMA peak) from the mean time of a <see cref="GemmBenchmarks"/> case.</summary>
public sealed class GflopsColumn(bool percent) : IColumn
{
    public string Id => percent ? "PeakPercent" : "GFLOPS";
    public string ColumnName => percent ? "% of peak" : "GFLOPS";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => percent ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => percent ? "GFLOPS as a share of the measured FMA peak of all cores" : "2·M·N·K / mean time";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null) return "-";
        var shape = (Shape)benchmarkCase.Parameters["S"];
        double gflops = shape.Flops / report.ResultStatistics.Mean; // flops per ns = GFLOPS
        return percent ? $"{100 * gflops / GemmBenchmarks.PeakGflops:F0}%" : $"{gflops:F1}";
    }
}
