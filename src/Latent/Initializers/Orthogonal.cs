using System.Text.Json.Nodes;

namespace Latent.Initializers;

/// <summary>
/// A (semi-)orthogonal matrix times <see cref="Gain"/> (Saxe et al., 2014), Keras's default for recurrent kernels.
/// The weight is viewed as a matrix of <c>rows = Π shape[..^1]</c> by <c>cols = shape[^1]</c>; a matrix A of
/// standard normals of the taller orientation is factored A = QR with the signs of R's diagonal made positive,
/// and Q (transposed back if needed) is the weight: its columns (or rows, whichever are fewer) are orthonormal.
/// </summary>
public sealed class Orthogonal : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gain"/> is not finite.</exception>
    public Orthogonal(double gain = 1)
    {
        if (!double.IsFinite(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, $"Expected a finite gain. Received: gain={gain}.");
        Gain = gain;
    }

    /// <summary>The multiplier of the orthogonal matrix.</summary>
    public double Gain { get; }

    /// <inheritdoc />
    public override string Name => "orthogonal";

    internal override JsonObject? Parameters() => Gain == 1 ? null : new JsonObject { ["gain"] = Gain };

    internal override void Fill(Span<float> values, int[] shape, ref Rng rng)
    {
        int cols = shape.Length == 0 ? 1 : shape[^1], rows = values.Length / cols;
        int m = Math.Max(rows, cols), n = Math.Min(rows, cols);  // factor an m × n matrix, m ≥ n
        var a = new double[m * n];                               // column-major: column j at a[j*m ..]
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextGaussian();
        // Modified Gram-Schmidt: Q's columns orthonormal, R's diagonal positive (the same Q as Householder QR with sign fix).
        for (int j = 0; j < n; j++)
        {
            var cj = a.AsSpan(j * m, m);
            for (int k = 0; k < j; k++)
            {
                var ck = a.AsSpan(k * m, m);
                double dot = 0;
                for (int i = 0; i < m; i++) dot += ck[i] * cj[i];
                for (int i = 0; i < m; i++) cj[i] -= dot * ck[i];
            }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += cj[i] * cj[i];
            norm = Math.Sqrt(norm);
            if (norm < 1e-12) throw new InvalidOperationException("Orthogonal initialisation drew a degenerate matrix."); // probability 0
            for (int i = 0; i < m; i++) cj[i] /= norm;
        }
        // values is rows × cols, row-major. rows ≥ cols: values[r, c] = Q[r, c]; else values = Qᵀ.
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                values[r * cols + c] = (float)(Gain * (rows >= cols ? a[c * m + r] : a[r * m + c]));
    }
}
