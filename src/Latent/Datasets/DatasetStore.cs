using System.IO.Compression;
using System.Security.Cryptography;

namespace Latent.Datasets;

/// <summary>
/// Finds, verifies and caches data set files. The cache is <c>~/.latent/datasets/&lt;name&gt;</c>, or
/// <c>$LATENT_DATA/&lt;name&gt;</c>. A file is looked for in the cache, then in the folders a system package
/// installs (Debian's dataset-fashion-mnist), then downloaded from each URL in turn. Whatever its source, its
/// uncompressed content must match the published SHA-256; it is written under a temporary name and renamed
/// into place, so the cache never holds a partial or corrupt file.
/// </summary>
public static class DatasetStore
{
    /// <summary>The cache root: <c>$LATENT_DATA</c> if set, else <c>~/.latent/datasets</c>.</summary>
    public static string Root =>
        Environment.GetEnvironmentVariable("LATENT_DATA") is { Length: > 0 } env
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".latent", "datasets");

    /// <summary>The HTTP client downloads use (tests point it at a local server).</summary>
    internal static HttpClient Http { get; set; } = new() { Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>
    /// The path of a verified copy of <paramref name="file"/> in the cache, fetching it if needed.
    /// </summary>
    /// <param name="progress">Download progress: (bytes so far, total bytes if known).</param>
    /// <param name="cacheRoot">The cache root; <see cref="Root"/> when null.</param>
    /// <exception cref="IOException">No source had a file with the right content; the message lists each attempt.</exception>
    public static string Ensure(string dataset, DatasetFile file, IEnumerable<string>? localFolders = null,
                                IProgress<(string File, long Done, long? Total)>? progress = null, string? cacheRoot = null)
    {
        string dir = Path.Combine(cacheRoot ?? Root, dataset);
        Directory.CreateDirectory(dir);
        var attempts = new List<string>();
        foreach (var candidate in new[] { file.Name, file.Name + ".gz" }.Select(n => Path.Combine(dir, n)))
        {
            if (!File.Exists(candidate)) continue;
            if (Verify(candidate, file, out var problem)) return candidate;
            attempts.Add($"{candidate}: {problem}");
        }
        foreach (var folder in localFolders ?? [])
        foreach (var name in new[] { file.Name, file.Name + ".gz" })
        {
            string source = Path.Combine(folder, name);
            if (!File.Exists(source)) continue;
            if (!Verify(source, file, out var problem)) { attempts.Add($"{source}: {problem}"); continue; }
            string target = Path.Combine(dir, name);
            CopyAtomically(source, target);
            return target;
        }
        foreach (var url in file.Urls)
        {
            string name = url.EndsWith(".gz", StringComparison.Ordinal) ? file.Name + ".gz" : file.Name;
            string target = Path.Combine(dir, name);
            try
            {
                Download(url, target, file, progress);
                return target;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or InvalidDataException)
            {
                attempts.Add($"{url}: {e.Message}");
            }
        }
        throw new IOException(
            $"Could not obtain {dataset}/{file.Name} (sha256 {file.Sha256}). Tried:\n  " +
            (attempts.Count == 0 ? "no source" : string.Join("\n  ", attempts)) +
            $"\nWithout internet, put the file (raw or .gz) in {dir}, or run scripts/setup-data.sh.");
    }

    /// <summary>Downloads <paramref name="url"/> to <paramref name="target"/> via a temporary file, verifying the content before the rename.</summary>
    internal static void Download(string url, string target, DatasetFile file, IProgress<(string, long, long?)>? progress)
    {
        // Verified before the rename: a wrong checksum or a cut connection leaves nothing in the cache.
        Data.AtomicFile.WriteVia(target, temp =>
        {
            using (var response = Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult())
            {
                response.EnsureSuccessStatusCode();
                long? total = response.Content.Headers.ContentLength;
                using var body = response.Content.ReadAsStream();
                using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
                var buffer = new byte[1 << 16];
                long done = 0;
                int read;
                while ((read = body.Read(buffer)) > 0)
                {
                    output.Write(buffer, 0, read);
                    done += read;
                    progress?.Report((file.Name, done, total));
                }
                if (total is long t && done != t)
                    throw new IOException($"connection closed after {done:N0} of {t:N0} bytes.");
            }
            if (!Verify(temp, file, out var problem)) throw new IOException(problem);
        });
    }

    /// <summary>Whether the (possibly gzip-compressed) file's content has the expected size and SHA-256.</summary>
    public static bool Verify(string path, DatasetFile file, out string problem)
    {
        try
        {
            using var raw = File.OpenRead(path);
            using var content = Data.Idx.OpenMaybeGzip(raw);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long size = 0;
            int read;
            while ((read = content.Read(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                size += read;
                if (size > file.Size) { problem = $"content is larger than the expected {file.Size:N0} bytes"; return false; }
            }
            string hash = Convert.ToHexStringLower(sha.GetHashAndReset());
            if (size != file.Size) { problem = $"content is {size:N0} bytes, expected {file.Size:N0}"; return false; }
            if (hash != file.Sha256) { problem = $"SHA-256 {hash} does not match the published {file.Sha256}"; return false; }
            problem = "";
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            problem = $"unreadable ({e.Message})";
            return false;
        }
    }

    private static void CopyAtomically(string source, string target) =>
        Data.AtomicFile.WriteVia(target, temp => File.Copy(source, temp));
}
