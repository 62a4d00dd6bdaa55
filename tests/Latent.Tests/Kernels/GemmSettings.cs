using Latent.Kernels;

namespace Latent.Tests.Kernels;

/// <summary>Tests that change the multiply's global settings run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GemmSettingsCollection
{
    public const string Name = "Gemm settings";
}

/// <summary>Sets <see cref="Gemm"/>'s test knobs and restores them on dispose.</summary>
internal sealed class GemmSettings : IDisposable
{
    private readonly GemmIsa _isa = Gemm.ForcedIsa;
    private readonly int _threads = Gemm.MaxThreads;
    private readonly long _flops = Gemm.ParallelFlops;

    public static GemmSettings Force(GemmIsa isa, int threads, long parallelFlops)
    {
        var saved = new GemmSettings();
        Gemm.ForcedIsa = isa;
        Gemm.MaxThreads = threads;
        Gemm.ParallelFlops = parallelFlops;
        return saved;
    }

    public void Dispose()
    {
        Gemm.ForcedIsa = _isa;
        Gemm.MaxThreads = _threads;
        Gemm.ParallelFlops = _flops;
    }
}
