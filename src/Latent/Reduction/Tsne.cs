using System.Runtime.Intrinsics;

namespace Latent.Reduction;

/// <summary>
/// t-SNE (van der Maaten &amp; Hinton 2008) to 2-D with scikit-learn's defaults (≥ 1.2): affinities on the exact
/// ⌊3·perplexity⌋ + 1 nearest neighbours calibrated to the perplexity, symmetrised; PCA initialisation scaled to a
/// standard deviation of 1e-4; 1000 iterations of gradient descent with gains (delta-bar-delta, +0.2 / ×0.8, at
/// least 0.01), early exaggeration 12 with momentum 0.5 for the first 250, then momentum 0.8; learning rate "auto",
/// <c>max(N / 12 / 4, 50)</c> on the gradient with its factor 4 (openTSNE's N/12 on the gradient without it); the
/// repulsion by Barnes-Hut with θ = 0.5 (van der Maaten 2014), by FFT-accelerated interpolation (FIt-SNE, Linderman
/// et al. 2019; <see cref="FftRepulsion"/>), or exactly (O(N²), for small N and checks).
/// </summary>
/// <remarks>
/// <para>The cost is <c>KL(P‖Q) = Σ pᵢⱼ log(pᵢⱼ/qᵢⱼ)</c> with <c>qᵢⱼ = (1 + ‖yᵢ − yⱼ‖²)⁻¹ / Z</c>; its gradient
/// <c>∂C/∂yᵢ = 4 Σⱼ (pᵢⱼ − qᵢⱼ)(1 + ‖yᵢ − yⱼ‖²)⁻¹ (yᵢ − yⱼ)</c>. New points cannot be placed into a fitted
/// embedding: t-SNE optimises positions, not a map, and this class does not pretend otherwise (no Transform).</para>
/// <para>Barnes-Hut is the faster method up to ~20,000 points on this project's machines, FFT beyond
/// (docs/PERFORMANCE.md has the measurements).</para>
/// </remarks>
public sealed class Tsne
{
    /// <summary>A t-SNE with scikit-learn's defaults unless given.</summary>
    /// <param name="perplexity">The effective number of neighbours, 0 &lt; perplexity &lt; N/3.</param>
    /// <param name="seed">Seeds the PCA initialisation (or the random one).</param>
    /// <param name="iterations">Gradient steps in all, early exaggeration included (≥ 250 + 1 by default).</param>
    /// <param name="method">"barnes_hut" (default), "fft" or "exact".</param>
    /// <param name="init">"pca" (default) or "random" (N(0, 1e-4²)).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range; the message names the value.</exception>
    public Tsne(double perplexity = 30, int seed = 0, int iterations = 1000, double earlyExaggeration = 12, int exaggerationIterations = 250,
                double? learningRate = null, double theta = 0.5, string method = "barnes_hut", string init = "pca")
    {
        if (!(perplexity > 0 && double.IsFinite(perplexity))) throw new ArgumentOutOfRangeException(nameof(perplexity), perplexity, $"Expected a perplexity > 0. Received: perplexity={perplexity}.");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"Expected at least 1 iteration. Received: iterations={iterations}.");
        if (!(earlyExaggeration >= 1 && double.IsFinite(earlyExaggeration))) throw new ArgumentOutOfRangeException(nameof(earlyExaggeration), earlyExaggeration, $"Expected an early exaggeration ≥ 1. Received: earlyExaggeration={earlyExaggeration}.");
        if (exaggerationIterations < 0) throw new ArgumentOutOfRangeException(nameof(exaggerationIterations), exaggerationIterations, $"exaggerationIterations cannot be negative. Received: {exaggerationIterations}.");
        if (learningRate is double lr && !(lr > 0 && double.IsFinite(lr))) throw new ArgumentOutOfRangeException(nameof(learningRate), lr, $"Expected a positive learning rate. Received: learningRate={lr}.");
        if (!(theta >= 0 && theta < 10)) throw new ArgumentOutOfRangeException(nameof(theta), theta, $"Expected 0 ≤ theta < 10. Received: theta={theta}.");
        if (method is not ("barnes_hut" or "fft" or "exact")) throw new ArgumentOutOfRangeException(nameof(method), method, $"Expected method barnes_hut, fft or exact. Received: method={method}.");
        if (init is not ("pca" or "random")) throw new ArgumentOutOfRangeException(nameof(init), init, $"Expected init pca or random. Received: init={init}.");
        Perplexity = perplexity; Seed = seed; Iterations = iterations; EarlyExaggeration = earlyExaggeration;
        ExaggerationIterations = exaggerationIterations; LearningRate = learningRate; Theta = theta; Method = method; Init = init;
    }

    /// <summary>The perplexity.</summary>
    public double Perplexity { get; }
    /// <summary>The seed.</summary>
    public int Seed { get; }
    /// <summary>Gradient steps in all.</summary>
    public int Iterations { get; }
    /// <summary>α of the early phase.</summary>
    public double EarlyExaggeration { get; }
    /// <summary>Steps of the early phase.</summary>
    public int ExaggerationIterations { get; }
    /// <summary>The step size, or null for "auto".</summary>
    public double? LearningRate { get; }
    /// <summary>Barnes-Hut's accuracy: a cell of width w at distance d stands for its points when w/d &lt; θ.</summary>
    public double Theta { get; }
    /// <summary>"barnes_hut", "fft" or "exact".</summary>
    public string Method { get; }
    /// <summary>"pca" or "random".</summary>
    public string Init { get; }

    /// <summary>The final KL(P‖Q), as scikit-learn reports it (the Barnes-Hut estimate of Z for that method).</summary>
    public double KlDivergence { get; private set; } = double.NaN;

    /// <summary>Steps run (fewer than <see cref="Iterations"/> when the gradient vanished or progress stopped).</summary>
    public int IterationsRun { get; private set; }

    /// <summary>The symmetric affinities P of the last fit (CSR), for exact checks of its cost.</summary>
    internal (int[] RowStart, int[] Col, float[] Val)? LastAffinities { get; private set; }

    /// <summary>Called every 50 steps and at the end with (step, KL at that step).</summary>
    public Action<int, double>? Progress { get; set; }

    /// <summary>The 2-D embedding of <paramref name="x"/> (N, D…): (N, 2).</summary>
    /// <exception cref="ArgumentException">Fewer than 4 points, perplexity ≥ N/3, or NaN or infinite values.</exception>
    public Tensor FitTransform(SampleSet x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Rows, d = x.RowSize;
        if (n < 4) throw new ArgumentException($"t-SNE needs at least 4 points, received {n}.", nameof(x));
        if (Perplexity * 3 >= n)
            throw new ArgumentException($"perplexity {Perplexity} needs more than 3·perplexity = {3 * Perplexity} points; received {n}. Lower the perplexity.", nameof(x));
        var data = new float[(long)n * d];
        x.CopyRows(0, n, data);
        for (long i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i]))
                throw new ArgumentException($"t-SNE input holds {data[i]} at sample {i / d}, feature {i % d}: every value must be finite.", nameof(x));

        int k = Method == "exact" ? n - 1 : Math.Min(n - 1, (int)(3 * Perplexity + 1));
        var (index, dist2) = Neighbors.Exact(data, n, d, k);
        var conditional = Affinities.Conditional(dist2, n, k, Perplexity);
        var p0 = Affinities.Symmetrize(index, conditional, n, k);
        LastAffinities = p0;

        // The descent runs on the points relabelled in breadth-first order of P's graph, so that a point's affinities
        // point to nearby memory: at N = 70,000 the attraction walks 9 million of them a step.
        var (p, order) = Relabel(p0, n);
        var y0 = InitialEmbedding(x, n);
        var y = new double[2 * n];
        for (int i = 0; i < n; i++) { y[2 * i] = y0[2 * order[i]]; y[2 * i + 1] = y0[2 * order[i] + 1]; }
        double lr = LearningRate ?? Math.Max(n / EarlyExaggeration / 4, 50);
        var state = new Optimizer(n);
        int exaggerated = Math.Min(ExaggerationIterations, Iterations);
        int done = Descend(p, y, n, EarlyExaggeration, 0.5, lr, 0, exaggerated, state);
        if (done == exaggerated && Iterations > exaggerated)
        {
            state = new Optimizer(n);      // scikit-learn restarts its descent (updates and gains) for the second phase
            done = Descend(p, y, n, 1, 0.8, lr, exaggerated, Iterations, state);
        }
        IterationsRun = done;
        var grad = new double[2 * n];
        KlDivergence = Gradient(p, y, n, 1, grad, withCost: true);
        Progress?.Invoke(done, KlDivergence);
        var result = new Tensor([n, 2]);
        for (int i = 0; i < n; i++)
        {
            result.Span[2 * order[i]] = (float)y[2 * i];
            result.Span[2 * order[i] + 1] = (float)y[2 * i + 1];
        }
        return result;
    }

    /// <summary>
    /// P with its points renumbered in breadth-first order of its graph (Cuthill–McKee without the reversal), and the
    /// order: new point i is old point order[i]. Each row keeps its entries in their order, so sums over a row are
    /// unchanged.
    /// </summary>
    internal static ((int[] RowStart, int[] Col, float[] Val) P, int[] Order) Relabel((int[] RowStart, int[] Col, float[] Val) p, int n)
    {
        var order = new int[n];
        var position = new int[n];
        Array.Fill(position, -1);
        int head = 0, tail = 0;
        for (int start = 0; start < n; start++)
        {
            if (position[start] >= 0) continue;
            position[start] = tail;
            order[tail++] = start;
            while (head < tail)
            {
                int i = order[head++];
                for (int s = p.RowStart[i]; s < p.RowStart[i + 1]; s++)
                {
                    int j = p.Col[s];
                    if (position[j] >= 0) continue;
                    position[j] = tail;
                    order[tail++] = j;
                }
            }
        }
        var rowStart = new int[n + 1];
        var col = new int[p.Col.Length];
        var val = new float[p.Val.Length];
        for (int i = 0; i < n; i++)
        {
            int old = order[i], from = p.RowStart[old], count = p.RowStart[old + 1] - from;
            rowStart[i + 1] = rowStart[i] + count;
            for (int t = 0; t < count; t++)
            {
                col[rowStart[i] + t] = position[p.Col[from + t]];
                val[rowStart[i] + t] = p.Val[from + t];
            }
        }
        return ((rowStart, col, val), order);
    }

    private double[] InitialEmbedding(SampleSet x, int n)
    {
        var y = new double[2 * n];
        if (Init == "pca")
        {
            var pcs = new Pca(2, Seed).FitTransform(x).Span;
            double mean = 0, sq = 0;
            for (int i = 0; i < n; i++) mean += pcs[2 * i];
            mean /= n;
            for (int i = 0; i < n; i++) sq += (pcs[2 * i] - mean) * (pcs[2 * i] - mean);
            double std = Math.Sqrt(sq / n);
            double scale = std > 0 ? 1e-4 / std : 1;
            for (int i = 0; i < 2 * n; i++) y[i] = pcs[i] * scale;
        }
        else
        {
            var rng = new Rng((ulong)Seed * 0x9E3779B97F4A7C15UL + 5);
            for (int i = 0; i < 2 * n; i++) y[i] = 1e-4 * rng.NextGaussianPair().A;
        }
        return y;
    }

    private sealed class Optimizer(int n)
    {
        public readonly double[] Update = new double[2 * n];
        public readonly double[] Gains = Enumerable.Repeat(1.0, 2 * n).ToArray();
        public readonly double[] Grad = new double[2 * n];
    }

    /// <summary>scikit-learn's <c>_gradient_descent</c> from step <paramref name="from"/> to <paramref name="to"/>; returns the step it stopped at.</summary>
    private int Descend((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n, double exaggeration, double momentum, double lr,
                        int from, int to, Optimizer s)
    {
        double best = double.MaxValue;
        int bestIter = from;
        for (int it = from; it < to; it++)
        {
            bool check = (it + 1) % 50 == 0 || it == to - 1;
            double kl = Gradient(p, y, n, exaggeration, s.Grad, withCost: check);
            double norm = 0;
            for (int i = 0; i < 2 * n; i++)
            {
                double g = s.Grad[i];
                bool same = s.Update[i] * g < 0;   // the step keeps its direction: grow the gain
                s.Gains[i] = Math.Max(same ? s.Gains[i] + 0.2 : s.Gains[i] * 0.8, 0.01);
                g *= s.Gains[i];
                s.Update[i] = momentum * s.Update[i] - lr * g;
                y[i] += s.Update[i];
                norm += s.Grad[i] * s.Grad[i];
            }
            if (check)
            {
                Progress?.Invoke(it + 1, kl);
                if (kl < best) { best = kl; bestIter = it; }
                else if (it - bestIter > 300) return it + 1;
                if (Math.Sqrt(norm) < 1e-7) return it + 1;
            }
        }
        return to;
    }

    /// <summary>∂C/∂y into <paramref name="grad"/> for P scaled by <paramref name="exaggeration"/>; returns the cost (KL of the scaled P).</summary>
    private double Gradient((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n, double exaggeration, double[] grad, bool withCost) => Method switch
    {
        "exact" => ExactGradient(p, y, n, exaggeration, grad),
        "fft" => FftGradient(p, y, n, exaggeration, grad, withCost, _fft ??= new FftRepulsion()),
        _ => BarnesHutGradient(p, y, n, exaggeration, Theta, grad, withCost, _tree ??= new QuadTree(),
                               _attracted is { } a && a.Length == 2 * n ? a : _attracted = new double[2 * n]),
    };

    private QuadTree? _tree;
    private double[]? _attracted;
    private FftRepulsion? _fft;

    /// <summary>The gradient with the repulsion by FFT-accelerated interpolation; the cost only when <paramref name="withCost"/>.</summary>
    internal static double FftGradient((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n, double exaggeration, double[] grad,
                                       bool withCost, FftRepulsion repulsion)
    {
        double z = repulsion.Compute(y, n, grad);
        return WithAttraction(p, y, n, exaggeration, z, grad, withCost);
    }

    /// <summary>The attraction <c>Σⱼ pᵢⱼ q̃ᵢⱼ (yᵢ − yⱼ)</c> into grad (times 4), and the cost <c>Σ p log(p / (q̃/Z))</c>.</summary>
    private static double Attraction((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n, double exaggeration, double sumQ, double[] grad,
                                     bool withCost = true)
    {
        int parts = Math.Max(1, Environment.ProcessorCount) * 4;
        if (!withCost && System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)
        {
            // Positions in single precision (about their first point, which keeps them small): half the bytes of the
            // random reads the gathers make, and eight lanes a vector.
            var single = System.Buffers.ArrayPool<float>.Shared.Rent(2 * n);
            double ox = y[0], oy = y[1];
            for (int i = 0; i < n; i++) { single[2 * i] = (float)(y[2 * i] - ox); single[2 * i + 1] = (float)(y[2 * i + 1] - oy); }
            Parallel.For(0, parts, part =>
                AttractionRows(p, single, (int)((long)n * part / parts), (int)((long)n * (part + 1) / parts), exaggeration, grad));
            System.Buffers.ArrayPool<float>.Shared.Return(single);
            return 0;
        }
        var cost = new double[parts];
        Parallel.For(0, parts, part =>
        {
            int start = (int)((long)n * part / parts), end = (int)((long)n * (part + 1) / parts);
            double c = 0;
            for (int i = start; i < end; i++)
            {
                double fx = 0, fy = 0, yx = y[2 * i], yy = y[2 * i + 1];
                for (int s = p.RowStart[i]; s < p.RowStart[i + 1]; s++)
                {
                    int j = p.Col[s];
                    double pij = p.Val[s] * exaggeration;
                    double dx = yx - y[2 * j], dy = yy - y[2 * j + 1];
                    double q = 1 / (1 + dx * dx + dy * dy);
                    fx += pij * q * dx;
                    fy += pij * q * dy;
                    if (withCost) c += pij * Math.Log(Math.Max(pij, 1e-12) / Math.Max(q / sumQ, 1e-12));
                }
                grad[2 * i] += 4 * fx;
                grad[2 * i + 1] += 4 * fy;
            }
            cost[part] = c;
        });
        return cost.Sum();
    }

    /// <summary>
    /// <see cref="Attraction"/> without the cost, for rows [start, end), from single-precision positions
    /// <paramref name="y"/> (x, y interleaved), four affinities at a time: one gather fetches four neighbours' (x, y)
    /// pairs as 64-bit elements, so a vector holds <c>(dx₀, dy₀, …, dx₃, dy₃)</c>; <c>q = 1/(1 + dx² + dy²)</c> is formed
    /// in both lanes of a pair and <c>p·q·(dx, dy)</c> accumulated. The steps that report no cost (all but every
    /// fiftieth) take this path.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void AttractionRows((int[] RowStart, int[] Col, float[] Val) p, float[] y, int start, int end, double exaggeration,
                                               double[] grad)
    {
        if (p.Col.Length < p.RowStart[end] || p.Val.Length < p.RowStart[end] || grad.Length < 2 * end || y.Length < 2 * end)
            throw new ArgumentException("The affinities and positions do not match.");
        fixed (float* py = y)
        fixed (int* col = p.Col)
        fixed (float* val = p.Val)
        {
            var one = Vector256<float>.One;
            for (int i = start; i < end; i++)
            {
                var yi = Vector256.Create(*(double*)(py + 2 * i)).AsSingle();   // (x, y) four times
                var acc = Vector256<float>.Zero;
                int s = p.RowStart[i], e = p.RowStart[i + 1];
                for (; s + 4 <= e; s += 4)
                {
                    var g = System.Runtime.Intrinsics.X86.Avx2.GatherVector256((double*)py, System.Runtime.Intrinsics.X86.Sse2.LoadVector128(col + s), 8).AsSingle();
                    var d = yi - g;
                    var d2 = d * d;
                    var r = one + d2 + System.Runtime.Intrinsics.X86.Avx.Permute(d2, 0b10_11_00_01);   // 1 + dx² + dy² in both lanes
                    var pv = System.Runtime.Intrinsics.X86.Sse.LoadVector128(val + s);
                    var pp = Vector256.Create(System.Runtime.Intrinsics.X86.Sse.UnpackLow(pv, pv), System.Runtime.Intrinsics.X86.Sse.UnpackHigh(pv, pv));
                    acc = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(pp / r, d, acc);
                }
                var h = acc.GetLower() + acc.GetUpper();
                float sx = h.GetElement(0) + h.GetElement(2), sy = h.GetElement(1) + h.GetElement(3);
                for (; s < e; s++)
                {
                    int j = col[s];
                    float dx = py[2 * i] - py[2 * j], dy = py[2 * i + 1] - py[2 * j + 1];
                    float w = val[s] / (1 + dx * dx + dy * dy);
                    sx += w * dx;
                    sy += w * dy;
                }
                grad[2 * i] += 4 * exaggeration * sx;
                grad[2 * i + 1] += 4 * exaggeration * sy;
            }
        }
    }

    /// <summary>The gradient with the repulsion by Barnes-Hut; the cost only when <paramref name="withCost"/> (else 0).</summary>
    /// <param name="attracted">2n values for the attraction computed beside the tree's build (allocated when null).</param>
    internal static double BarnesHutGradient((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n, double exaggeration, double theta, double[] grad,
                                             bool withCost, QuadTree tree, double[]? attracted = null)
    {
        // The tree is built on one core; the attraction (which needs no tree) runs beside it on the others, into a
        // buffer of its own, on the steps that report no cost (the cost needs the repulsion's Z first).
        Task? attraction = null;
        if (!withCost)
        {
            attracted ??= new double[2 * n];
            attraction = Task.Run(() =>
            {
                Array.Clear(attracted, 0, 2 * n);
                Attraction(p, y, n, exaggeration, 1, attracted, withCost: false);
            });
        }
        tree.Build(y, n);
        attraction?.Wait();
        bool grouped = Vector256.IsHardwareAccelerated;
        var neg = grad;   // the repulsion is written first, then scaled in place
        int parts = Math.Max(1, Environment.ProcessorCount) * 4;
        var sums = new double[parts];
        Parallel.For(0, parts, part =>
        {
            Span<int> stack = stackalloc int[QuadTree.StackSize];
            int start = (int)((long)n * part / parts), end = (int)((long)n * (part + 1) / parts);
            double sq = 0;
            var order = tree.Order;
            for (int t = start; t < end; t++)
            {
                int i = order[t];
                var (fx, fy, s) = grouped ? tree.RepulsionGrouped(y[2 * i], y[2 * i + 1], theta, stack)
                                          : tree.Repulsion(y[2 * i], y[2 * i + 1], theta, stack);
                neg[2 * i] = fx; neg[2 * i + 1] = fy;
                sq += s;
            }
            sums[part] = sq;
        });
        if (attraction is null) return WithAttraction(p, y, n, exaggeration, sums.Sum(), grad, withCost);
        double scale = -4 / Math.Max(sums.Sum(), double.Epsilon);
        for (int i = 0; i < 2 * n; i++) grad[i] = grad[i] * scale + attracted![i];
        return 0;
    }

    /// <summary>
    /// From the repulsion's <c>Σⱼ q̃ᵢⱼ²(yᵢ − yⱼ)</c> in <paramref name="grad"/> and its Z: the whole gradient
    /// (the repulsion times −4/Z, plus the attraction) in grad; returns the cost when <paramref name="withCost"/>.
    /// </summary>
    private static double WithAttraction((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n, double exaggeration, double z,
                                         double[] grad, bool withCost)
    {
        double sumQ = Math.Max(z, double.Epsilon);
        double scale = -4 / sumQ;
        for (int i = 0; i < 2 * n; i++) grad[i] *= scale;
        return Attraction(p, y, n, exaggeration, sumQ, grad, withCost);
    }

    internal static double ExactGradient((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n, double exaggeration, double[] grad)
    {
        double sumQ = 0;
        var neg = new double[2 * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                double q = 1 / (1 + dx * dx + dy * dy);
                sumQ += q;
                neg[2 * i] += q * q * dx;
                neg[2 * i + 1] += q * q * dy;
            }
        for (int i = 0; i < 2 * n; i++) grad[i] = -4 * neg[i] / sumQ;
        return Attraction(p, y, n, exaggeration, sumQ, grad);
    }

    /// <summary>The exact cost for P (CSR) and y: <c>Σ pᵢⱼ log(pᵢⱼ / qᵢⱼ)</c> over P's entries (for gradient checks).</summary>
    internal static double ExactCost((int[] RowStart, int[] Col, float[] Val) p, double[] y, int n)
    {
        var grad = new double[2 * n];
        return ExactGradient(p, y, n, 1, grad);
    }
}
