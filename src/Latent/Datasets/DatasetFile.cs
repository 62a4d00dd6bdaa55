namespace Latent.Datasets;

/// <summary>
/// One file of a published data set: its name, the SHA-256 of its <b>uncompressed</b> content (so the same
/// check accepts the raw file from a package and the .gz from a mirror), and where to download it.
/// </summary>
public sealed record DatasetFile(string Name, string Sha256, long Size, IReadOnlyList<string> Urls);
