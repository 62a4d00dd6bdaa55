using Latent.Serialization.Onnx;

namespace Latent;

public partial class Model
{
    /// <summary>
    /// Writes this model (or any sub-model: an encoder, a decoder) as an ONNX file (IR 8, opset 13) with a dynamic
    /// batch axis, for ONNX Runtime and other engines. Inputs keep their layer names; the output is "output" (or
    /// "output_0", "output_1", … for several). Inference semantics: Dropout and GaussianNoise are the identity,
    /// BatchNormalization uses its moving statistics, and Sampling gives its mean (z = μ). Written to a temporary
    /// file and renamed.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="metadata">Written as the model's metadata_props (ONNX Runtime's <c>ModelMetadata.CustomMetadataMap</c>):
    /// a sequence model's feature scaling (<c>FeatureScaler.ToMetadata()</c>), which its inputs need first.</param>
    /// <exception cref="NotSupportedException">A layer or activation ONNX export does not know (the message names it).</exception>
    public void ExportOnnx(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = OnnxExporter.Export(this, metadata);
        Latent.Data.AtomicFile.Write(path, s => s.Write(bytes));
    }
}
