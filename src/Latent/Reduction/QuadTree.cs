using System.Runtime.Intrinsics;

namespace Latent.Reduction;

/// <summary>
/// A point quadtree over a 2-D embedding for Barnes-Hut t-SNE: every cell keeps its count and centre of mass;
/// identical points share a leaf (so duplicates cost nothing and never split forever).
/// </summary>
internal sealed class QuadTree
{
    private const int MaxDepth = 64;

    private double[] _cx = new double[64], _cy = new double[64], _hw = new double[64], _sx = new double[64], _sy = new double[64];
    private int[] _count = new int[64], _child = new int[64];
    private int _nodes;

    /// <summary>Rebuilds the tree over the n points of <paramref name="y"/> (x₀, y₀, x₁, y₁, …).</summary>
    public void Build(ReadOnlySpan<double> y, int n)
    {
        double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
        for (int i = 0; i < n; i++)
        {
            minX = Math.Min(minX, y[2 * i]); maxX = Math.Max(maxX, y[2 * i]);
            minY = Math.Min(minY, y[2 * i + 1]); maxY = Math.Max(maxY, y[2 * i + 1]);
        }
        double half = Math.Max(maxX - minX, maxY - minY) / 2;
        half = half * (1 + 1e-6) + 1e-12;
        _nodes = 0;
        NewNode((minX + maxX) / 2, (minY + maxY) / 2, half);
        // Points in Morton (Z-curve) order: the tree's nodes come out roughly depth-first, and consecutive
        // traversals in this order walk the same cells, so both stay in cache.
        if (_order.Length != n) { _order = new int[n]; _keys = new ulong[n]; }
        double scale = 65535 / (2 * half);
        for (int i = 0; i < n; i++)
        {
            _order[i] = i;
            _keys[i] = Interleave((uint)((y[2 * i] - minX) * scale)) | (Interleave((uint)((y[2 * i + 1] - minY) * scale)) << 1);
        }
        Array.Sort(_keys, _order);
        foreach (int i in _order) Insert(y[2 * i], y[2 * i + 1]);
        if (_gx.Length < _nodes)
        {
            _gx = new double[_count.Length]; _gy = new double[_count.Length]; _gw2 = new double[_count.Length];
            _gc = new double[_count.Length]; _gkid = new long[_count.Length];
        }
        for (int c = 0; c < _nodes; c++)
        {
            int count = _count[c];
            double w = 2 * _hw[c];
            _gx[c] = count > 0 ? _sx[c] / count : 0; _gy[c] = count > 0 ? _sy[c] / count : 0;
            _gw2[c] = w * w; _gc[c] = count; _gkid[c] = _child[c];
        }
    }

    // What a traversal reads of a node, as columns (a node's four children are consecutive, so the grouped traversal
    // loads them as vectors): centre of mass, width², count, first child (−1 for a leaf).
    private double[] _gx = [], _gy = [], _gw2 = [], _gc = [];
    private long[] _gkid = [];

    private int[] _order = [];
    private ulong[] _keys = [];

    /// <summary>The points in the order the tree was built (Morton order): traverse in this order for locality.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Spreads the low 16 bits of v to the even bits of the result.</summary>
    private static ulong Interleave(uint v)
    {
        ulong x = v & 0xFFFF;
        x = (x | (x << 8)) & 0x00FF00FF;
        x = (x | (x << 4)) & 0x0F0F0F0F;
        x = (x | (x << 2)) & 0x33333333;
        x = (x | (x << 1)) & 0x55555555;
        return x;
    }

    private int NewNode(double cx, double cy, double hw)
    {
        if (_nodes == _count.Length)
        {
            int size = _nodes * 2;
            Array.Resize(ref _cx, size); Array.Resize(ref _cy, size); Array.Resize(ref _hw, size);
            Array.Resize(ref _sx, size); Array.Resize(ref _sy, size); Array.Resize(ref _count, size); Array.Resize(ref _child, size);
        }
        int id = _nodes++;
        _cx[id] = cx; _cy[id] = cy; _hw[id] = hw; _sx[id] = 0; _sy[id] = 0; _count[id] = 0; _child[id] = -1;
        return id;
    }

    private void Insert(double px, double py)
    {
        int node = 0;
        for (int depth = 0; ; depth++)
        {
            if (_child[node] < 0)
            {
                int c = _count[node];
                if (c == 0 || depth >= MaxDepth || (_sx[node] / c == px && _sy[node] / c == py))
                {
                    _count[node] = c + 1; _sx[node] += px; _sy[node] += py;
                    return;
                }
                // Split: the leaf's points (all at one place) move to their quadrant.
                double ox = _sx[node] / c, oy = _sy[node] / c, h = _hw[node] / 2;
                int first = _nodes;
                NewNode(_cx[node] - h, _cy[node] - h, h);
                NewNode(_cx[node] + h, _cy[node] - h, h);
                NewNode(_cx[node] - h, _cy[node] + h, h);
                NewNode(_cx[node] + h, _cy[node] + h, h);
                _child[node] = first;
                int q = first + Quadrant(node, ox, oy);
                _count[q] = c; _sx[q] = _sx[node]; _sy[q] = _sy[node];
            }
            _count[node]++; _sx[node] += px; _sy[node] += py;
            node = _child[node] + Quadrant(node, px, py);
        }
    }

    private int Quadrant(int node, double px, double py) => (px >= _cx[node] ? 1 : 0) + (py >= _cy[node] ? 2 : 0);

    /// <summary>
    /// The repulsion on a point at (px, py): <c>Σⱼ q̃ᵢⱼ²(yᵢ − yⱼ)</c> and <c>Σⱼ q̃ᵢⱼ</c> with <c>q̃ = 1/(1 + d²)</c>, over the
    /// other points, a cell standing for its points when its width is below θ times its distance.
    /// </summary>
    public (double Fx, double Fy, double SumQ) Repulsion(double px, double py, double theta, Span<int> stack)
    {
        double fx = 0, fy = 0, sumQ = 0, theta2 = theta * theta;
        int top = 0;
        stack[top++] = 0;
        while (top > 0)
        {
            int node = stack[--top];
            double c = _gc[node];
            if (c == 0) continue;
            double dx = px - _gx[node], dy = py - _gy[node], d2 = dx * dx + dy * dy;
            bool leaf = _gkid[node] < 0;
            if (leaf && d2 == 0)
            {
                sumQ += c - 1;   // the point itself and its duplicates: q̃ = 1, no force
                continue;
            }
            if (leaf || _gw2[node] < theta2 * d2)
            {
                double q = 1 / (1 + d2), cq = c * q;
                sumQ += cq;
                fx += cq * q * dx;
                fy += cq * q * dy;
            }
            else
            {
                int first = (int)_gkid[node];
                stack[top++] = first; stack[top++] = first + 1; stack[top++] = first + 2; stack[top++] = first + 3;
            }
        }
        return (fx, fy, sumQ);
    }

    /// <summary>
    /// <see cref="Repulsion"/> a group of four sibling cells at a time (AVX2): the four distances, the leaf-or-narrow
    /// tests and the accepted cells' terms are vector operations with masks, and only the opened cells' child groups
    /// go on the stack, which holds group starts. The same sums, added in another order.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public unsafe (double Fx, double Fy, double SumQ) RepulsionGrouped(double px, double py, double theta, Span<int> stack)
    {
        if (_gkid[0] < 0) return Repulsion(px, py, theta, stack);   // the root is a leaf: no groups of four to walk
        double theta2 = theta * theta;
        var vpx = Vector256.Create(px);
        var vpy = Vector256.Create(py);
        var vt2 = Vector256.Create(theta2);
        var one = Vector256<double>.One;
        var fx = Vector256<double>.Zero;
        var fy = Vector256<double>.Zero;
        var sq = Vector256<double>.Zero;
        int top = 0;
        stack[top++] = (int)_gkid[0];
        fixed (double* gx = _gx, gy = _gy, gw2 = _gw2, gc = _gc)
        fixed (long* kid = _gkid)
        {
            while (top > 0)
            {
                int g = stack[--top];
                var c = Vector256.Load(gc + g);
                var dx = vpx - Vector256.Load(gx + g);
                var dy = vpy - Vector256.Load(gy + g);
                var d2 = Vector256.FusedMultiplyAdd(dy, dy, dx * dx);
                var kids = Vector256.Load(kid + g);
                var leaf = Vector256.LessThan(kids, Vector256<long>.Zero).AsDouble();
                var nonEmpty = Vector256.GreaterThan(c, Vector256<double>.Zero);
                var self = leaf & Vector256.Equals(d2, Vector256<double>.Zero) & nonEmpty;   // the point itself and its duplicates
                var accept = nonEmpty & ~self & (leaf | Vector256.LessThan(Vector256.Load(gw2 + g), vt2 * d2));
                var q = one / (one + d2);
                var cq = (c * q) & accept;
                sq += cq + ((c - one) & self);
                var cqq = cq * q;
                fx = Vector256.FusedMultiplyAdd(cqq, dx, fx);
                fy = Vector256.FusedMultiplyAdd(cqq, dy, fy);
                uint open = (uint)(nonEmpty & ~leaf & ~accept).ExtractMostSignificantBits();
                while (open != 0)
                {
                    int k = System.Numerics.BitOperations.TrailingZeroCount(open);
                    stack[top++] = (int)kid[g + k];
                    open &= open - 1;
                }
            }
        }
        return (Vector256.Sum(fx), Vector256.Sum(fy), Vector256.Sum(sq));
    }

    /// <summary>Stack room a traversal needs: 3 per level plus the root.</summary>
    public static int StackSize => 4 * MaxDepth + 8;
}
