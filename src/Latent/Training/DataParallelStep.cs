using Latent.Kernels;
using Latent.Losses;

namespace Latent;

/// <summary>
/// One training step's forward and backward split by samples across the cores: replica p gathers rows
/// <c>[count·p/P, count·(p+1)/P)</c> of the batch, runs the whole graph on them on its own core, and writes
/// its weight gradients into its own array (replica 0 into the store); the optimizer adds the others
/// (<see cref="Partials"/>) as it updates. Each loss gradient is scaled by the whole batch's element count, and activity penalties averaged
/// over the batch use the whole batch, so the sum is the full batch's gradient.
/// </summary>
/// <remarks>
/// Why: a batch of 32 makes multiplies of 1–2 MFLOP; cut across two cores each costs a fork/join
/// (~1.1 µs here) and duplicated packing, and the backward pass ran no faster on two cores than on one.
/// Whole half-batches per core need one fork/join for forward, loss and backward together. The summation order differs from the one-executor path (floats agree to rounding), but is
/// fixed for a given core count, so a seed still reproduces a run.
/// </remarks>
internal sealed class DataParallelStep : IParallelWork
{
    private readonly GraphExecutor[] _replicas;
    private readonly float[][] _grads;          // per replica: the store's Grads for 0, a private array for the others
    private readonly double[] _lossSums, _penalties;
    private readonly Loss _loss;
    private SampleSet? _x, _y;
    private int[]? _order;
    private int _start, _count;
    private float _gradScale;

    public DataParallelStep(Model model, int capacity, Loss loss, ulong seed, ParameterStore store, int replicas)
    {
        Capacity = capacity;
        Store = store;
        _loss = loss;
        int per = (capacity + replicas - 1) / replicas;
        var rng = new Rng(seed);
        _grads = new float[replicas][];
        _replicas = new GraphExecutor[replicas];
        for (int p = 0; p < replicas; p++)
        {
            _grads[p] = p == 0 ? store.Grads : new float[store.Length];
            _replicas[p] = new GraphExecutor(model, per, withGradients: true, loss, rng.NextULong(), p == 0 ? null : _grads[p]);
        }
        _lossSums = new double[replicas];
        _penalties = new double[replicas];
        Partials = _grads[1..];
        OutputSize = _replicas[0].OutputSize;
    }

    /// <summary>The replicas' own gradient arrays (all but replica 0's, which is the store's).</summary>
    public float[][] Partials { get; }

    /// <summary>How many shares the batch is cut into (one per core at most).</summary>
    public int Replicas => _replicas.Length;

    /// <summary>The largest batch a step takes.</summary>
    public int Capacity { get; }

    /// <summary>The store whose gradients replica 0 writes (a different store needs a new step object).</summary>
    public ParameterStore Store { get; }

    public int OutputSize { get; }

    /// <summary>See <see cref="GraphExecutor.TargetsAreInput"/>.</summary>
    public bool TargetsAreInput
    {
        get => _replicas[0].TargetsAreInput;
        set { foreach (var r in _replicas) r.TargetsAreInput = value; }
    }

    /// <summary>Restarts every replica's random streams (dropout), each from its own seed derived from <paramref name="seed"/>.</summary>
    public void Reseed(ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var r in _replicas) r.Reseed(rng.NextULong());
    }

    /// <summary>
    /// Forward, loss and backward on rows <c>order[start..start+count)</c> of x and y (or rows
    /// <c>[start, start+count)</c> when <paramref name="order"/> is null); the batch's gradient is the store's plus
    /// <see cref="Partials"/>.
    /// </summary>
    /// <returns>The data loss (mean over the batch's elements); <paramref name="penalty"/> gets the activity penalties.</returns>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    public double Run(SampleSet x, SampleSet y, int[]? order, int start, int count, out double penalty)
    {
        if ((uint)count > (uint)Capacity || count == 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Batch must be in [1, {Capacity}].");
        (_x, _y, _order, _start, _count) = (x, y, order, start, count);
        long elements = (long)count * OutputSize;
        _gradScale = (float)(1.0 / elements);
        ComputePool.Shared.Run(this, _replicas.Length);
        double lossSum = 0;
        penalty = 0;
        for (int p = 0; p < _replicas.Length; p++) { lossSum += _lossSums[p]; penalty += _penalties[p]; }
        return lossSum / elements;
    }

    /// <summary>Replica <paramref name="part"/>'s share of the step.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
    public void Execute(int part)
    {
        var ex = _replicas[part];
        _grads[part].AsSpan().Clear();
        int lo = (int)((long)_count * part / _replicas.Length), hi = (int)((long)_count * (part + 1) / _replicas.Length);
        int n = hi - lo;
        _lossSums[part] = 0;
        _penalties[part] = 0;
        if (n == 0) return;
        if (_order is not null) _x!.CopyRows(_order.AsSpan(_start + lo, n), ex.Input(0, n));
        else _x!.CopyRows(_start + lo, n, ex.Input(0, n));
        if (!ex.TargetsAreInput)
        {
            var targets = ex.Targets.AsSpan(0, n * OutputSize);
            if (_order is not null) _y!.CopyRows(_order.AsSpan(_start + lo, n), targets);
            else _y!.CopyRows(_start + lo, n, targets);
        }
        ex.Forward(n, training: true, needOutput: false, fullBatch: _count);
        _lossSums[part] = ex.ComputeLossSum(_loss, n, withGradient: true, _gradScale);
        _penalties[part] = ex.Penalty;
        ex.Backward(n, fullBatch: _count);
    }
}
