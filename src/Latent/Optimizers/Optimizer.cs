namespace Latent.Optimizers;

/// <summary>
/// An optimizer in Keras's split: <see cref="Build"/> makes the per-parameter state (one flat slot array per
/// kind of state, laid out like the parameter buffer); <see cref="UpdateStep"/> is the math for one weight.
/// Gradient clipping lives here, for every optimizer: <see cref="ClipValue"/> clamps each element,
/// <see cref="ClipNorm"/> rescales each weight's gradient to at most that L2 norm (Keras's clipnorm), and
/// <see cref="GlobalClipNorm"/> rescales all gradients together.
/// </summary>
public abstract class Optimizer
{
    private float[][] _slots = [];

    /// <summary>Sets the learning rate.</summary>
    protected Optimizer(double learningRate)
    {
        LearningRate = learningRate;
    }

    /// <summary>The step size η; may be changed between steps (schedules).</summary>
    public double LearningRate
    {
        get;
        set => field = value > 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRate), value, $"Expected a positive learning rate. Received: learning_rate={value}.");
    }

    /// <summary>Clamp each gradient element to [−v, v].</summary>
    public double? ClipValue { get; init; }

    /// <summary>Rescale each weight's gradient so its L2 norm is at most this.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Rescale all gradients together so their joint L2 norm is at most this.</summary>
    public double? GlobalClipNorm { get; init; }

    /// <summary>Steps taken.</summary>
    public long Iterations { get; internal set; }

    /// <summary>The Keras name.</summary>
    public abstract string Name { get; }

    /// <summary>How many state values the optimizer keeps per parameter (momentum, accumulators).</summary>
    protected abstract int StateSlots { get; }

    /// <summary>The value state slot <paramref name="slot"/> starts at (0 unless overridden).</summary>
    protected virtual float InitialState(int slot) => 0f;

    /// <summary>State slot <paramref name="slot"/> for the parameters at [offset, offset + length).</summary>
    protected Span<float> State(int slot, int offset, int length) => _slots[slot].AsSpan(offset, length);

    /// <summary>The state, for saving: one array per slot.</summary>
    internal float[][] Slots => _slots;

    /// <summary>Creates zeroed state for <paramref name="parameterCount"/> parameters and resets the step count.</summary>
    /// <param name="parameterCount">The store's length.</param>
    /// <param name="allocate">Makes each slot's array (the store's <see cref="ParameterStore.NewInPhase"/>, so the state
    /// lines up with the weights on cache lines); plain arrays when null.</param>
    internal void Build(int parameterCount, Func<int, float[]>? allocate = null)
    {
        _slots = new float[StateSlots][];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = allocate?.Invoke(parameterCount) ?? new float[parameterCount];
            Array.Fill(_slots[i], InitialState(i));
        }
        Iterations = 0;
    }

    /// <summary>One step over every trainable weight of the store: clip, then <see cref="UpdateStep"/>.</summary>
    /// <param name="partials">Further gradient arrays of the store's length (a data-parallel step's replicas) whose sum
    /// with the store's gradients is the gradient: added range by range inside the update when it is one flat,
    /// element-wise pass, else summed into the store first (norm clipping needs the whole gradient).</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal void Apply(ParameterStore store, Weight[] weights, float[][]? partials = null)
    {
        bool flat = ClipNorm is null && AllTrainableInOrder(store, weights);
        // The flat update adds the partials range by range; the global norm needs the whole gradient before it.
        if (partials is not null && (!flat || GlobalClipNorm is not null))
        {
            _sum ??= new PartialSum();
            int sumParts = Kernels.ComputePool.Shared.ThreadsHere;
            _sum.Set(store.Grads, store.Length, partials, sumParts);
            Kernels.ComputePool.Shared.Run(_sum, sumParts);
            partials = null;
        }
        if (GlobalClipNorm is double global)
        {
            double sq = 0;
            foreach (var w in weights) if (w.Trainable) sq += SumOfSquares(w.Grads);
            ScaleToNorm(weights, Math.Sqrt(sq), global);
        }
        float lr = (float)LearningRate;
        if (flat)
        {
            // Every update here is element-wise, so the whole store is one segment that two cores can share.
            _job ??= new FlatUpdate(this);
            int parts = store.Length >= ParallelThreshold ? Kernels.ComputePool.Shared.ThreadsHere : 1;
            _job.Set(store, lr, parts, partials);
            Kernels.ComputePool.Shared.Run(_job, parts);
            Iterations++;
            return;
        }
        foreach (var w in weights)
        {
            if (!w.Trainable) continue;
            var g = w.Grads;
            if (ClipNorm is double cn)
            {
                double norm = Math.Sqrt(SumOfSquares(g));
                if (norm > cn) System.Numerics.Tensors.TensorPrimitives.Multiply(g, (float)(cn / norm), g);
            }
            if (ClipValue is double cv)
                System.Numerics.Tensors.TensorPrimitives.Clamp(g, (float)-cv, (float)cv, g);
            UpdateStep(w.Values, g, w.Offset, lr);
        }
        Iterations++;
    }

    /// <summary>Below this many parameters an update runs on one core.</summary>
    private const int ParallelThreshold = 1 << 15;

    private FlatUpdate? _job;
    private PartialSum? _sum;

    /// <summary><c>grads += partials[0] + …</c> over the whole store, cut into 64-aligned ranges, one per core.</summary>
    private sealed class PartialSum : Kernels.IParallelWork
    {
        private float[]? _grads;
        private float[][]? _partials;
        private int _length, _parts;

        public void Set(float[] grads, int length, float[][] partials, int parts) => (_grads, _length, _partials, _parts) = (grads, length, partials, parts);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path
        public void Execute(int part)
        {
            var (start, end) = Kernels.ComputePool.PartRange(_length, _parts, part);
            if (end <= start) return;
            var sum = _grads.AsSpan(start, end - start);
            foreach (var p in _partials!) Kernels.Simd.Add(sum, p.AsSpan(start, end - start), sum);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    private static bool AllTrainableInOrder(ParameterStore store, Weight[] weights)
    {
        // The flat pass also runs over the store's alignment gaps: zero values with zero gradients, which every update
        // leaves at zero. Nothing else may lie between the weights.
        int end = 0;
        foreach (var w in weights)
        {
            if (!w.Trainable || !ReferenceEquals(w.Store, store) || w.Offset < end) return false;
            end = w.Offset + w.Length;
        }
        return end <= store.Length;
    }

    /// <summary>Floats of the gradient summed and then updated at a time when partials are added (8 KB a stream; 0: a whole part).</summary>
    internal static int SumBlock = 2048;

    /// <summary>The update over a whole store, cut into 64-aligned parts.</summary>
    private sealed class FlatUpdate(Optimizer owner) : Kernels.IParallelWork
    {
        private ParameterStore? _store;
        private float _lr;
        private int _parts;

        private float[][]? _partials;

        public void Set(ParameterStore store, float lr, int parts, float[][]? partials)
        {
            _partials = partials;
            _store = store;
            _lr = lr;
            _parts = parts;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
        public void Execute(int part)
        {
            var (start, end) = Kernels.ComputePool.PartRange(_store!.Length, _parts, part);
            if (end > start) owner.UpdateRange(_store, _partials, start, end, _lr);
        }
    }

    /// <summary>
    /// Whether <see cref="Apply"/> is one element-wise pass over the whole store (no norm clipping, every weight
    /// trainable and in store order), so that a range of the store can be updated as soon as its gradients are final:
    /// a data-parallel step runs the update block by block inside its own job (<see cref="UpdateRange"/>,
    /// <see cref="CountStep"/>).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal bool UpdatesByRange(ParameterStore store, Weight[] weights) =>
        ClipNorm is null && GlobalClipNorm is null && AllTrainableInOrder(store, weights);

    /// <summary>
    /// The flat update of store elements [<paramref name="start"/>, <paramref name="end"/>): adds
    /// <paramref name="partials"/> into the store's gradients there, clamps (<see cref="ClipValue"/>), then
    /// <see cref="UpdateStep"/>. Element-wise, so any cut of the store into ranges gives the same bits; ranges may run on
    /// different threads at once. Only when <see cref="UpdatesByRange"/>; a step is counted by <see cref="CountStep"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal void UpdateRange(ParameterStore store, float[][]? partials, int start, int end, float learningRate)
    {
        // With partials, block by block: a block's summed gradient is still in L1 when the update reads it, instead
        // of a whole part's (a megabyte for vae-100) going out to L3 and back between the two passes.
        int block = partials is null || SumBlock <= 0 ? end - start : SumBlock;
        for (int s = start; s < end; s += block)
        {
            int len = Math.Min(block, end - s);
            var g = store.Grads.AsSpan(s, len);
            if (partials is not null)
                foreach (var p in partials) Kernels.Simd.Add(g, p.AsSpan(s, len), g);
            if (ClipValue is double cv) System.Numerics.Tensors.TensorPrimitives.Clamp(g, (float)-cv, (float)cv, g);
            UpdateStep(store.Values.AsSpan(s, len), g, s, learningRate);
        }
    }

    /// <summary>Counts a step whose update ran range by range (<see cref="UpdateRange"/>), as <see cref="Apply"/> does its own.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // per-step path: optimised from the first epoch, not after tiering
    internal void CountStep() => Iterations++;

    private static void ScaleToNorm(Weight[] weights, double norm, double max)
    {
        if (norm <= max) return;
        float s = (float)(max / norm);
        foreach (var w in weights)
            if (w.Trainable) System.Numerics.Tensors.TensorPrimitives.Multiply(w.Grads, s, w.Grads);
    }

    private static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double s = 0;
        foreach (float v in x) s += (double)v * v;
        return s;
    }

    /// <summary>
    /// Whether the library's optimizers update 16 floats at a time where the CPU has 512-bit vectors (a bench knob;
    /// <see cref="System.Numerics.Vector{T}"/> stays at 256 bits there). Lane-wise, so the same bits either way.
    /// </summary>
    internal static bool Vector512Updates = true;

    /// <summary>Whether this process's updates take <see cref="Kernels.Floats512"/> (see <see cref="Vector512Updates"/>).</summary>
    private protected static bool Wide => Vector512Updates && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;

    /// <summary>Updates <paramref name="param"/> in place from <paramref name="grad"/>; state for it starts at <paramref name="offset"/>.</summary>
    protected abstract void UpdateStep(Span<float> param, ReadOnlySpan<float> grad, int offset, float learningRate);

    /// <summary>The optimizer called <paramref name="name"/>, with Keras 2 defaults.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Optimizer Get(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => new Sgd(),
        "adagrad" => new Adagrad(),
        "adadelta" => new Adadelta(),
        "rmsprop" => new RmsProp(),
        "adam" => new Adam(),
        _ => throw new ArgumentException(
            $"Unknown optimizer '{name}'. Expected one of: sgd, adagrad, adadelta, rmsprop, adam.", nameof(name)),
    };

    /// <summary>Uses <see cref="Get"/>, so a name can be passed where an optimizer is expected.</summary>
    public static implicit operator Optimizer(string name) => Get(name);

    /// <summary>Throws unless <paramref name="value"/> is in [lo, hi] (or [lo, hi) when <paramref name="hiOpen"/>).</summary>
    protected static double InRange(double value, double lo, double hi, string name, bool hiOpen = false)
    {
        bool ok = value >= lo && (hiOpen ? value < hi : value <= hi);
        return ok ? value : throw new ArgumentOutOfRangeException(name, value,
            $"Expected {name} in [{lo}, {hi}{(hiOpen ? ")" : "]")}. Received: {name}={value}.");
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}(learning_rate={LearningRate})";
}
