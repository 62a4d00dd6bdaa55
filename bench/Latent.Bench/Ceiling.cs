using System.Globalization;
using Latent.Layers;

namespace Latent.Bench;

/// <summary>
/// The FMA ceiling of a training epoch: the model's multiply-adds counted layer by layer, and the machine's FMA peak
/// measured where it runs. <c>ceiling ROWS</c> prints <c>peak THREADS GFLOPS</c> for one thread and every core,
/// <c>memory THREADS GB/s</c> and <c>roundtrip NS</c> (<see cref="MachineProbe"/>), then <c>flops ROW GFLOP</c> per
/// epoch of 60,000 samples (what <c>epoch</c> trains), for <c>bench/compare.py</c>.
/// </summary>
internal static class Ceiling
{
    private const int EpochSamples = 60_000;

    public static void Run(string[] rows)
    {
        Console.WriteLine(FormattableString.Invariant($"peak 1 {FmaPeak.Measure(1):F1}"));
        Console.WriteLine(FormattableString.Invariant($"peak {Environment.ProcessorCount} {FmaPeak.Measure():F1}"));
        Console.WriteLine(FormattableString.Invariant($"memory 1 {MachineProbe.MemoryGBps(1):F1}"));
        Console.WriteLine(FormattableString.Invariant($"memory {Environment.ProcessorCount} {MachineProbe.MemoryGBps(Environment.ProcessorCount):F1}"));
        Console.WriteLine(FormattableString.Invariant($"roundtrip {MachineProbe.RoundTripNs():F0}"));
        foreach (var row in rows)
            Console.WriteLine(FormattableString.Invariant($"flops {row} {TrainingFlopsPerSample(EpochTimer.Build(row).Model) * EpochSamples / 1e9:F1}"));
    }

    /// <summary>
    /// Floating-point operations of one sample's training step in the layers that multiply (Dense, Conv2D,
    /// Conv2DTranspose, LSTM, GRU): 2·MACs forward, as many for the weight gradient, and as many again for the input
    /// gradient unless the layer reads a model input. Element-wise work (activations, pooling, the loss, the optimizer)
    /// is not counted: it is memory traffic, not FMA work.
    /// </summary>
    internal static double TrainingFlopsPerSample(Model model)
    {
        double total = 0;
        foreach (var node in model.Nodes)
        {
            var inShape = node.Inputs[0].Shape;
            var outShape = node.Output.Shape;
            double macs = node.Layer switch
            {
                Dense d => Rows(outShape) * d.Units * (double)inShape[^1],
                Conv2D c => (double)outShape[0] * outShape[1] * c.Filters * c.KernelSize.Item1 * c.KernelSize.Item2 * inShape[^1],
                Conv2DTranspose t => (double)inShape[0] * inShape[1] * inShape[2] * t.KernelSize.Item1 * t.KernelSize.Item2 * t.Filters,
                LSTM l => (double)inShape[0] * 4 * l.Units * (inShape[^1] + l.Units),
                GRU g => (double)inShape[0] * 3 * g.Units * (inShape[^1] + g.Units),
                _ => 0,
            };
            bool inputGrad = node.Inputs[0].Layer is not InputLayer;
            total += 2 * macs * (inputGrad ? 3 : 2);
        }
        return total;
    }

    /// <summary>Rows a Dense layer multiplies per sample: every axis but the last (time steps of a sequence).</summary>
    private static double Rows(IReadOnlyList<int> shape)
    {
        double rows = 1;
        for (int i = 0; i < shape.Count - 1; i++) rows *= shape[i];
        return rows;
    }
}
