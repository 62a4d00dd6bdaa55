using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Latent.Datasets;
using Latent.Tests.Data;

namespace Latent.Tests.Datasets;

/// <summary>The fetcher against a local HTTP server on 127.0.0.1: a good file, a wrong checksum, a connection cut mid-file.</summary>
public sealed class DatasetStoreTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("latent-cache-").FullName;
    private readonly HttpListener _server = new();
    private readonly string _base;
    private readonly byte[] _content = IdxTests.Idx([100, 4, 4], Enumerable.Range(0, 1600).Select(i => (byte)(i * 7)).ToArray());
    private readonly DatasetFile _file;
    private int _cutRequests;

    public DatasetStoreTests()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _base = $"http://127.0.0.1:{port}/";
        _server.Prefixes.Add(_base);
        _server.Start();
        _ = Task.Run(Serve);
        _file = new DatasetFile("tiny-images-idx3-ubyte", Convert.ToHexStringLower(SHA256.HashData(_content)), _content.Length, []);
    }

    private async Task Serve()
    {
        var good = IdxTests.Gzip(_content);
        var wrong = IdxTests.Gzip([.. _content[..^1], 0xEE]);
        while (_server.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _server.GetContextAsync(); } catch { return; }
            var path = ctx.Request.Url!.AbsolutePath;
            var response = ctx.Response;
            try
            {
                switch (path)
                {
                    case "/good.gz":
                        response.ContentLength64 = good.Length;
                        await response.OutputStream.WriteAsync(good);
                        response.Close();
                        break;
                    case "/wrong.gz":
                        response.ContentLength64 = wrong.Length;
                        await response.OutputStream.WriteAsync(wrong);
                        response.Close();
                        break;
                    case "/cut.gz":
                        Interlocked.Increment(ref _cutRequests);
                        response.ContentLength64 = good.Length;
                        await response.OutputStream.WriteAsync(good.AsMemory(0, good.Length / 2));
                        await response.OutputStream.FlushAsync();
                        response.Abort(); // the connection drops mid-file
                        break;
                    default:
                        response.StatusCode = 404;
                        response.Close();
                        break;
                }
            }
            catch (HttpListenerException) { }
        }
    }

    public void Dispose()
    {
        _server.Stop();
        _server.Close();
        Directory.Delete(_cache, recursive: true);
    }

    private DatasetFile With(params string[] paths) => _file with { Urls = paths.Select(p => _base + p).ToArray() };

    private string[] CacheFiles() => Directory.GetFiles(Path.Combine(_cache, "tiny"));

    [Fact]
    public void GoodDownloadIsVerifiedAndCached()
    {
        var progress = new List<long>();
        string path = DatasetStore.Ensure("tiny", With("good.gz"), progress: new SyncProgress(p => progress.Add(p.Done)), cacheRoot: _cache);
        Assert.EndsWith("tiny-images-idx3-ubyte.gz", path);
        Assert.Equal(_content, Latent.Data.Idx.Read(path) is var a ? IdxTests.Idx(a.Shape, a.Data) : null);
        Assert.NotEmpty(progress);
        Assert.Single(CacheFiles());
        // A second call finds the verified file and does not download again.
        Assert.Equal(path, DatasetStore.Ensure("tiny", With("missing.gz"), cacheRoot: _cache));
    }

    [Fact]
    public void WrongChecksumIsRejectedAndLeavesNothing()
    {
        var e = Assert.Throws<IOException>(() => DatasetStore.Ensure("tiny", With("wrong.gz"), cacheRoot: _cache));
        Assert.Contains("does not match the published", e.Message);
        Assert.Empty(CacheFiles());
    }

    [Fact]
    public void ConnectionCutMidFileLeavesNothingAndTheNextMirrorIsTried()
    {
        var e = Assert.Throws<IOException>(() => DatasetStore.Ensure("tiny", With("cut.gz"), cacheRoot: _cache));
        Assert.Contains("cut.gz", e.Message);
        Assert.Empty(CacheFiles());
        Assert.Equal(1, _cutRequests);
        string path = DatasetStore.Ensure("tiny", With("cut.gz", "good.gz"), cacheRoot: _cache);
        Assert.True(DatasetStore.Verify(path, _file, out _));
        Assert.Single(CacheFiles());
    }

    [Fact]
    public void CorruptCachedFileIsReplacedAndLocalFoldersAreUsed()
    {
        string dir = Path.Combine(_cache, "tiny");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, _file.Name), [1, 2, 3]);
        string local = Directory.CreateTempSubdirectory("latent-pkg-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(local, _file.Name + ".gz"), IdxTests.Gzip(_content));
            string path = DatasetStore.Ensure("tiny", With(), [local], cacheRoot: _cache);
            Assert.Equal(Path.Combine(dir, _file.Name + ".gz"), path);
            Assert.True(DatasetStore.Verify(path, _file, out _));
        }
        finally
        {
            Directory.Delete(local, true);
        }
    }

    [Fact]
    public void NoSourceListsWhatWasTried()
    {
        var e = Assert.Throws<IOException>(() => DatasetStore.Ensure("tiny", With("missing.gz"), cacheRoot: _cache));
        Assert.Contains("missing.gz", e.Message);
        Assert.Contains("404", e.Message);
        Assert.Contains("setup-data.sh", e.Message);
    }

    private sealed class SyncProgress(Action<(string File, long Done, long? Total)> report) : IProgress<(string File, long Done, long? Total)>
    {
        public void Report((string File, long Done, long? Total) value) => report(value);
    }
}
