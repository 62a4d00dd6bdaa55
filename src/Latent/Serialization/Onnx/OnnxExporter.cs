using System.Runtime.InteropServices;
using Latent.Activations;
using Latent.Data;
using Latent.Layers;

namespace Latent.Serialization.Onnx;

/// <summary>
/// Writes a model as an ONNX graph (IR 8, opset 13) with a dynamic batch axis. Latent is channels-last; ONNX's
/// convolution, pooling and transposed convolution are channels-first, so each of those is wrapped in a pair of
/// Transposes (ONNX Runtime folds the adjacent ones). Inference semantics: Dropout and GaussianNoise are the
/// identity, BatchNormalization uses its moving statistics (one multiply-add per channel), and Sampling gives its
/// mean, z = μ (a deterministic encoder; the random draw has no stable counterpart to test against).
/// </summary>
internal sealed class OnnxExporter
{
    private const int Float = 1, Int64 = 7;
    private readonly ProtoWriter _graph = new();
    private readonly Dictionary<SymbolicTensor, string> _names = new(ReferenceEqualityComparer.Instance);
    private int _counter;

    private string Fresh(string hint) => $"{hint}_{_counter++}";

    public static byte[] Export(Model model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var e = new OnnxExporter();
        return e.Build(model, metadata);
    }

    private byte[] Build(Model model, IReadOnlyDictionary<string, string>? metadata)
    {
        _graph.String(2, model.Name);
        foreach (var input in model.Inputs)
        {
            string name = input.Layer.Name;
            _names[input] = name;
            _graph.Message(11, ValueInfo(name, input.Shape));
        }
        foreach (var node in model.Nodes) Emit(node);
        for (int i = 0; i < model.Outputs.Count; i++)
        {
            var output = model.Outputs[i];
            string name = model.Outputs.Count == 1 ? "output" : $"output_{i}";
            Node("Identity", [_names[output]], [name]);
            _graph.Message(12, ValueInfo(name, output.Shape));
        }
        var m = new ProtoWriter();
        m.Int(1, 8);                                   // ir_version
        m.String(2, "Latent");                          // producer_name
        m.String(3, typeof(Model).Assembly.GetName().Version?.ToString() ?? "");
        m.Message(7, _graph);
        m.Message(8, w => w.String(1, "").Int(2, 13));  // opset_import: the default domain, opset 13
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            m.Message(14, p => p.String(1, key).String(2, value));   // metadata_props
        return m.ToArray();
    }

    private static ProtoWriter ValueInfo(string name, IReadOnlyList<int> shape) =>
        new ProtoWriter().String(1, name).Message(2, t => t.Message(1, tt =>
        {
            tt.Int(1, Float);
            tt.Message(2, s =>
            {
                s.Message(1, d => d.String(2, "batch"));
                foreach (int dim in shape) s.Message(1, d => d.Int(1, dim));
            });
        }));

    private void Node(string op, string[] inputs, string[] outputs, Action<ProtoWriter>? attributes = null)
    {
        var n = new ProtoWriter();
        foreach (var i in inputs) n.String(1, i);
        foreach (var o in outputs) n.String(2, o);
        n.String(3, Fresh(op.ToLowerInvariant()));
        n.String(4, op);
        attributes?.Invoke(n);
        _graph.Message(1, n);
    }

    private static void AttrInt(ProtoWriter n, string name, long v) => n.Message(5, a => a.String(1, name).Int(3, v).Int(20, 2));
    private static void AttrFloat(ProtoWriter n, string name, float v) => n.Message(5, a => a.String(1, name).Float(2, v).Int(20, 1));
    private static void AttrString(ProtoWriter n, string name, string v) => n.Message(5, a => a.String(1, name).String(4, v).Int(20, 3));
    private static void AttrInts(ProtoWriter n, string name, IEnumerable<long> v) => n.Message(5, a =>
    {
        a.String(1, name);
        foreach (long x in v) a.Int(8, x);
        a.Int(20, 7);
    });

    private string Initializer(string hint, ReadOnlySpan<float> values, params long[] dims)
    {
        string name = Fresh(hint);
        var t = new ProtoWriter();
        foreach (long d in dims) t.Int(1, d);
        t.Int(2, Float).String(8, name).Bytes(9, MemoryMarshal.AsBytes(values));
        _graph.Message(5, t);
        return name;
    }

    private string Int64Initializer(string hint, params long[] values)
    {
        string name = Fresh(hint);
        var t = new ProtoWriter();
        t.Int(1, values.Length).Int(2, Int64).String(8, name).Bytes(9, MemoryMarshal.AsBytes(values.AsSpan()));
        _graph.Message(5, t);
        return name;
    }

    private void Emit(Latent.Node node)
    {
        if (node.Layer is Masking || node.InputMask is not null || node.MaskGiven is not null)
            throw new NotSupportedException($"ONNX export does not carry masks: layer '{node.Layer.Name}' makes or reads one, and ONNX's LSTM and GRU cannot skip masked steps. Export a model without Masking for sequences of one length.");
        var outs = EmitLayer(node.Layer, [.. node.Inputs.Select(t => _names[t])], node.Inputs[0].Shape, [.. node.Outputs.Select(o => o.Shape)]);
        for (int k = 0; k < outs.Length; k++) _names[node.Outputs[k]] = outs[k];
    }

    /// <summary>The ONNX nodes of one layer call on <paramref name="ins"/> (per-sample shapes given); the names of its outputs.</summary>
    private string[] EmitLayer(Layer layer, string[] ins, IReadOnlyList<int> inShape, IReadOnlyList<IReadOnlyList<int>> outShapes)
    {
        string x = ins[0];
        string y;
        var outShape = outShapes[0];
        switch (layer)
        {
            case Recurrent r:
                return Recurrence(r, ins, inShape[0]);
            case Bidirectional b:
                return BidirectionalNodes(b, x, inShape[0]);
            case TimeDistributed td:
                return [TimeDistributedNodes(td, x, inShape, outShape)];
            case RepeatVector rv:
            {
                string u = Fresh("unsqueeze");
                Node("Unsqueeze", [x, Int64Initializer("axes", 1)], [u]);
                y = Fresh("repeat");
                Node("Tile", [u, Int64Initializer("repeats", 1, rv.Times, 1)], [y]);
                break;
            }
            case Dense d:
            {
                int units = d.Kernel!.Shape[1], inputs = d.Kernel.Shape[0];
                y = Fresh("dense");
                Node("MatMul", [x, Initializer($"{d.Name}_kernel", d.Kernel.Values, inputs, units)], [y]);
                if (d.Bias is not null)
                {
                    string b = Fresh("dense_bias");
                    Node("Add", [y, Initializer($"{d.Name}_bias", d.Bias.Values, units)], [b]);
                    y = b;
                }
                y = Activate(y, d.Activation);
                break;
            }
            case Activation a:
                y = Activate(x, a.Function);
                break;
            case Dropout or GaussianNoise:
                y = Fresh("identity");
                Node("Identity", [x], [y]);
                break;
            case Sampling:
                y = Fresh("z_mean");
                Node("Identity", [x], [y]);
                break;
            case Add:
                y = Fresh("add");
                Node("Add", ins, [y]);
                for (int i = 2; i < ins.Length; i++) { string next = Fresh("add"); Node("Add", [y, ins[i]], [next]); y = next; }
                break;
            case Flatten:
            case Reshape:
            {
                var target = layer is Reshape rs ? rs.TargetShape.Select(v => (long)v).ToArray() : [(long)outShape.Aggregate(1, (a, b) => a * b)];
                y = Fresh("reshape");
                Node("Reshape", [x, Int64Initializer("shape", [-1, .. target])], [y]);
                break;
            }
            case Conv2DTranspose t:
                y = Activate(ChannelsFirst(x, nchw => ConvTranspose(t, nchw, inShape, outShape)), t.Activation);
                break;
            case Conv2D c:
                y = Activate(ChannelsFirst(x, nchw => Conv(c, nchw, inShape)), c.Activation);
                break;
            case MaxPooling2D p:
                y = ChannelsFirst(x, nchw =>
                {
                    var (ph, pw) = (Pads(inShape[0], p.PoolSize.Item1, p.Strides.Item1, p.Same), Pads(inShape[1], p.PoolSize.Item2, p.Strides.Item2, p.Same));
                    string o = Fresh("maxpool");
                    Node("MaxPool", [nchw], [o], n =>
                    {
                        AttrInts(n, "kernel_shape", [p.PoolSize.Item1, p.PoolSize.Item2]);
                        AttrInts(n, "strides", [p.Strides.Item1, p.Strides.Item2]);
                        AttrInts(n, "pads", [ph.Begin, pw.Begin, ph.End, pw.End]);
                    });
                    return o;
                });
                break;
            case UpSampling2D u:
            {
                y = Fresh("upsample");
                float[] scales = [1, u.Size.Item1, u.Size.Item2, 1];
                Node("Resize", [x, "", Initializer("scales", scales, 4)], [y], n =>
                {
                    AttrString(n, "mode", "nearest");
                    AttrString(n, "coordinate_transformation_mode", "asymmetric");
                    AttrString(n, "nearest_mode", "floor");
                });
                break;
            }
            case ZeroPadding2D z:
            {
                var ((top, bottom), (left, right)) = z.Padding;
                y = Fresh("pad");
                Node("Pad", [x, Int64Initializer("pads", 0, top, left, 0, 0, bottom, right, 0)], [y]);
                break;
            }
            case Cropping2D c:
            {
                var ((top, bottom), (left, right)) = c.Cropping;
                y = Fresh("crop");
                Node("Slice", [x, Int64Initializer("starts", top, left), Int64Initializer("ends", inShape[0] - bottom, inShape[1] - right),
                               Int64Initializer("axes", 1, 2)], [y]);
                break;
            }
            case BatchNormalization bn:
            {
                int ch = inShape[^1];
                var w = bn.Weights.ToDictionary(v => v.Name.Split('/')[^1]);
                var scale = new float[ch];
                var shift = new float[ch];
                for (int i = 0; i < ch; i++)
                {
                    float g = w.TryGetValue("gamma", out var gw) ? gw.Values[i] : 1f, b = w.TryGetValue("beta", out var bw) ? bw.Values[i] : 0f;
                    float s = g / MathF.Sqrt(w["moving_variance"].Values[i] + (float)bn.Epsilon);
                    scale[i] = s;
                    shift[i] = b - w["moving_mean"].Values[i] * s;
                }
                string m = Fresh("bn_scale");
                Node("Mul", [x, Initializer($"{bn.Name}_scale", scale, ch)], [m]);
                y = Fresh("bn_shift");
                Node("Add", [m, Initializer($"{bn.Name}_shift", shift, ch)], [y]);
                break;
            }
            default:
                throw new NotSupportedException($"ONNX export does not know layer '{layer.Name}' of type {layer.GetType().Name}. " +
                                                "Supported: Dense, Activation, Dropout, GaussianNoise, Add, Flatten, Reshape, Conv2D, Conv2DTranspose, " +
                                                "MaxPooling2D, UpSampling2D, ZeroPadding2D, Cropping2D, BatchNormalization, Sampling, LSTM, GRU, " +
                                                "Bidirectional, TimeDistributed, RepeatVector.");
        }
        return [y];
    }

    /// <summary>
    /// An LSTM or GRU as ONNX's own operator on (T, B, D) (a Transpose either side): W, R and the biases re-laid as
    /// ONNX wants them (LSTM gates i, o, f, c from Keras's i, f, c, o; GRU z, r, h with <c>linear_before_reset</c>, which
    /// is <c>reset_after</c>). <c>goBackwards</c> is the "reverse" direction; ONNX gives a reverse layer's outputs in
    /// input time order, Keras in processing order, so a reversed sequence output is flipped back. Outputs: the layer's
    /// output, then its final states when it returns them.
    /// </summary>
    private string[] Recurrence(Recurrent r, string[] ins, int steps)
    {
        bool lstm = r is LSTM;
        int h = r.Units, d = r.InputFeatures, gates = lstm ? 4 : 3;
        int[] order = lstm ? [0, 3, 1, 2] : [0, 1, 2];     // ONNX gate k is Latent's gate order[k]
        var kernel = r.Kernel!.Values;
        var recurrent = r.RecurrentKernel!.Values;
        var w = new float[gates * h * d];
        var u = new float[gates * h * h];
        var bias = new float[2 * gates * h];
        for (int k = 0; k < gates; k++)
            for (int j = 0; j < h; j++)
            {
                int src = order[k] * h + j, dst = k * h + j;
                for (int i = 0; i < d; i++) w[dst * d + i] = kernel[i * gates * h + src];
                for (int i = 0; i < h; i++) u[dst * h + i] = recurrent[i * gates * h + src];
                if (r.Bias is null) continue;
                bias[dst] = r.Bias.Values[src];                                  // the input bias (an LSTM's only one)
                if (!lstm) bias[gates * h + dst] = r.Bias.Values[gates * h + src]; // a GRU's recurrent bias
            }
        string seq = Fresh("time_major");
        Node("Transpose", [ins[0]], [seq], n => AttrInts(n, "perm", [1, 0, 2]));
        var inputs = new List<string>
        {
            seq, Initializer($"{r.Name}_W", w, 1, gates * h, d), Initializer($"{r.Name}_R", u, 1, gates * h, h),
            Initializer($"{r.Name}_B", bias, 1, 2 * gates * h), "",
        };
        for (int i = 1; i < ins.Length; i++)
        {
            string state = Fresh("initial_state");
            Node("Unsqueeze", [ins[i], Int64Initializer("axes", 0)], [state]);
            inputs.Add(state);
        }
        string all = Fresh("y"), last = Fresh("y_h"), cell = lstm ? Fresh("y_c") : "";
        Node(lstm ? "LSTM" : "GRU", [.. inputs], lstm ? [all, last, cell] : [all, last], n =>
        {
            AttrInt(n, "hidden_size", h);
            AttrString(n, "direction", r.GoBackwards ? "reverse" : "forward");
            var names = new[] { RnnActivation(r.RecurrentActivation, r), RnnActivation(r.Activation, r) };
            n.Message(5, a =>
            {
                a.String(1, "activations");
                foreach (var name in lstm ? [names[0], names[1], names[1]] : names) a.Bytes(9, System.Text.Encoding.UTF8.GetBytes(name));
                a.Int(20, 8);
            });
            if (!lstm) AttrInt(n, "linear_before_reset", 1);
        });
        string Squeeze(string v, long axis)
        {
            string o = Fresh("squeeze");
            Node("Squeeze", [v, Int64Initializer("axes", axis)], [o]);
            return o;
        }
        string y;
        if (r.ReturnSequences)
        {
            y = Fresh("batch_major");
            Node("Transpose", [Squeeze(all, 1)], [y], n => AttrInts(n, "perm", [1, 0, 2]));
            if (r.GoBackwards) y = ReverseTime(y, steps);
        }
        else y = Squeeze(last, 0);
        if (!r.ReturnState) return [y];
        return lstm ? [y, Squeeze(last, 0), Squeeze(cell, 0)] : [y, Squeeze(last, 0)];
    }

    /// <summary>(B, T, ·) with its steps in reverse order.</summary>
    private string ReverseTime(string x, int steps)
    {
        string y = Fresh("reversed");
        Node("Slice", [x, Int64Initializer("starts", steps - 1), Int64Initializer("ends", long.MinValue), Int64Initializer("axes", 1),
                       Int64Initializer("steps", -1)], [y]);
        return y;
    }

    private static string RnnActivation(ActivationFunction f, Layer layer) => f switch
    {
        Sigmoid => "Sigmoid",
        Tanh => "Tanh",
        Relu => "Relu",
        _ => throw new NotSupportedException($"ONNX export of '{layer.Name}' knows the recurrent activations sigmoid, tanh and relu; received {f.Name}."),
    };

    /// <summary>Both directions, the backward one's sequence put back in time order, merged as the layer says.</summary>
    private string[] BidirectionalNodes(Bidirectional b, string x, int steps)
    {
        var f = Recurrence(b.ForwardLayer, [x], steps);
        var r = Recurrence(b.BackwardLayer, [x], steps);
        string back = b.ForwardLayer.ReturnSequences ? ReverseTime(r[0], steps) : r[0];
        string[] states = [.. f.Skip(1), .. r.Skip(1)];
        if (b.MergeMode is null) return [f[0], back, .. states];
        string y = Fresh("merged");
        switch (b.MergeMode)
        {
            case "concat": Node("Concat", [f[0], back], [y], n => AttrInt(n, "axis", -1)); break;
            case "mul": Node("Mul", [f[0], back], [y]); break;
            default:
                Node("Add", [f[0], back], [y]);
                if (b.MergeMode == "ave")
                {
                    string half = Fresh("average");
                    Node("Mul", [y, Initializer("half", [0.5f], 1)], [half]);
                    y = half;
                }
                break;
        }
        return [y, .. states];
    }

    /// <summary>
    /// The inner layer on every step: the steps folded into the batch ((B, T, rest) → (B·T, rest)), the layer's nodes,
    /// and the steps unfolded; its output activation too (the wrapper declares it, the executor applies it).
    /// </summary>
    private string TimeDistributedNodes(TimeDistributed td, string x, IReadOnlyList<int> inShape, IReadOnlyList<int> outShape)
    {
        var stepIn = inShape.Skip(1).ToArray();
        var stepOut = outShape.Skip(1).ToArray();
        string folded = Fresh("steps_as_samples");
        Node("Reshape", [x, Int64Initializer("shape", [-1, .. stepIn.Select(v => (long)v)])], [folded]);
        string inner = EmitLayer(td.InnerLayer, [folded], stepIn, [stepOut]) is [var one] ? one
            : throw new NotSupportedException($"TimeDistributed '{td.Name}' wraps a layer with several outputs.");
        string y = Fresh("steps_back");
        Node("Reshape", [inner, Int64Initializer("shape", [-1, inShape[0], .. stepOut.Select(v => (long)v)])], [y]);
        return y;
    }

    /// <summary>One axis's padding before and after, by the layers' own rule (<see cref="Kernels.ConvGeometry.Axis"/>).</summary>
    private static (long Begin, long End) Pads(int n, int k, int s, bool same)
    {
        var (o, before) = Kernels.ConvGeometry.Axis(n, k, s, same);
        return (before, Math.Max((o - 1) * s + k - n, 0) - before);
    }

    private string ChannelsFirst(string x, Func<string, string> body)
    {
        string nchw = Fresh("nchw");
        Node("Transpose", [x], [nchw], n => AttrInts(n, "perm", [0, 3, 1, 2]));
        string o = body(nchw);
        string nhwc = Fresh("nhwc");
        Node("Transpose", [o], [nhwc], n => AttrInts(n, "perm", [0, 2, 3, 1]));
        return nhwc;
    }

    private string Conv(Conv2D c, string x, IReadOnlyList<int> inShape)
    {
        var k = c.Kernel!;
        int kh = k.Shape[0], kw = k.Shape[1], cin = k.Shape[2], cout = k.Shape[3];
        var w = new float[k.Length];
        var src = k.Values;
        for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) for (int a = 0; a < cin; a++) for (int o = 0; o < cout; o++)
            w[((o * cin + a) * kh + i) * kw + j] = src[((i * kw + j) * cin + a) * cout + o];   // (kh, kw, in, out) → (out, in, kh, kw)
        var (ph, pw) = (Pads(inShape[0], kh, c.Strides.Item1, c.Same), Pads(inShape[1], kw, c.Strides.Item2, c.Same));
        string y = Fresh("conv");
        Node("Conv", ConvInputs(c, x, w, [cout, cin, kh, kw], cout), [y], n =>
        {
            AttrInts(n, "kernel_shape", [kh, kw]);
            AttrInts(n, "strides", [c.Strides.Item1, c.Strides.Item2]);
            AttrInts(n, "pads", [ph.Begin, pw.Begin, ph.End, pw.End]);
        });
        return y;
    }

    private string ConvTranspose(Conv2DTranspose t, string x, IReadOnlyList<int> inShape, IReadOnlyList<int> outShape)
    {
        var k = t.Kernel!;
        int kh = k.Shape[0], kw = k.Shape[1], cout = k.Shape[2], cin = k.Shape[3];
        var w = new float[k.Length];
        var src = k.Values;
        for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) for (int o = 0; o < cout; o++) for (int a = 0; a < cin; a++)
            w[((a * cout + o) * kh + i) * kw + j] = src[((i * kw + j) * cout + o) * cin + a];  // (kh, kw, out, in) → (in, out, kh, kw)
        (long Begin, long End, long Extra) Axis(int n, int kk, int s, int o)
        {
            int full = (n - 1) * s + kk;
            if (o >= full) return (0, 0, o - full);
            int total = full - o;
            return (total / 2, total - total / 2, 0);
        }
        var ah = Axis(inShape[0], kh, t.Strides.Item1, outShape[0]);
        var aw = Axis(inShape[1], kw, t.Strides.Item2, outShape[1]);
        string y = Fresh("convtranspose");
        Node("ConvTranspose", ConvInputs(t, x, w, [cin, cout, kh, kw], cout), [y], n =>
        {
            AttrInts(n, "kernel_shape", [kh, kw]);
            AttrInts(n, "strides", [t.Strides.Item1, t.Strides.Item2]);
            AttrInts(n, "pads", [ah.Begin, aw.Begin, ah.End, aw.End]);
            AttrInts(n, "output_padding", [ah.Extra, aw.Extra]);
        });
        return y;
    }

    /// <summary>The input, the permuted kernel and (if any) the bias of a convolution node.</summary>
    private string[] ConvInputs(Conv2DBase layer, string x, float[] kernel, long[] dims, int filters) => layer.Bias is null
        ? [x, Initializer($"{layer.Name}_kernel", kernel, dims)]
        : [x, Initializer($"{layer.Name}_kernel", kernel, dims), Initializer($"{layer.Name}_bias", layer.Bias.Values, filters)];

    private string Activate(string x, ActivationFunction f)
    {
        if (f.IsLinear) return x;
        string y = Fresh(f.Name);
        switch (f)
        {
            case Relu: Node("Relu", [x], [y]); break;
            case Sigmoid: Node("Sigmoid", [x], [y]); break;
            case Tanh: Node("Tanh", [x], [y]); break;
            case Softplus: Node("Softplus", [x], [y]); break;
            case Softmax: Node("Softmax", [x], [y], n => AttrInt(n, "axis", -1)); break;
            case LeakyRelu l: Node("LeakyRelu", [x], [y], n => AttrFloat(n, "alpha", l.NegativeSlope)); break;
            case Selu s: Node("Selu", [x], [y], n => { AttrFloat(n, "alpha", s.Alpha); AttrFloat(n, "gamma", s.Scale); }); break;
            case Elu e when e.Scale == 1: Node("Elu", [x], [y], n => AttrFloat(n, "alpha", e.Alpha)); break;
            default: throw new NotSupportedException($"ONNX export does not know activation '{f.Name}'.");
        }
        return y;
    }
}
