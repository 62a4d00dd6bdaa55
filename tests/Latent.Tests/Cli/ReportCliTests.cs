using System.Diagnostics;
using Latent.Cli;
using SkiaSharp;

namespace Latent.Tests.Cli;

/// <summary>'latent report': one self-contained page, opened in headless chromium.</summary>
[Collection(Kernels.GemmSettingsCollection.Name)]
public sealed class ReportCliTests() : TestSupport.TempFolder("latent-report-cli-")
{

    private static string? Chromium() =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(p => Path.Combine(p, "chromium")).FirstOrDefault(File.Exists);

    private static (string Stdout, string Stderr) Browse(string chromium, params string[] args)
    {
        var psi = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0" }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "chromium did not finish in 2 minutes");
        return (stdout.Result, stderr);
    }

    [Fact]
    public void TheReportIsOneSelfContainedPageThatABrowserShows()
    {
        string run = Path.Combine(Dir, "vae");
        Assert.Equal(0, TrainCommand.Run(new TrainCommand.Options("vae", "mnist", 1, 200, null, null, null, 1, run, null, null)));
        string html = Path.Combine(Dir, "report.html");
        Assert.Equal(0, ReportCommand.Run(run, html));
        string text = File.ReadAllText(html);
        Assert.DoesNotContain("http://", text.Replace("http://www.w3.org/2000/svg", ""));   // nothing fetched from the network
        Assert.DoesNotContain("https://", text);
        Assert.Contains("data:image/png;base64,", text);
        Assert.Equal(ReportCommand.ScatterSamples, System.Text.RegularExpressions.Regex.Matches(text, "<circle [^>]*data-i=").Count);
        Assert.Contains("<polyline", text);

        if (Chromium() is not { } chromium)
        {
            Console.WriteLine("chromium not installed: checked the HTML only (scripts/setup-browser.sh installs it)");
            return;
        }
        var (dom, log) = Browse(chromium, "--dump-dom", "file://" + html);
        Assert.Contains("data-ready=\"1\"", dom);                                  // the script ran to its end
        Assert.DoesNotContain("Uncaught", log);
        string png = Path.Combine(Dir, "shot.png");
        Browse(chromium, "--window-size=1200,4200", "--screenshot=" + png, "file://" + html);
        File.Copy(png, Path.Combine(Path.GetTempPath(), "latent-report-test-shot.png"), overwrite: true);   // to look at
        using var shot = SKBitmap.Decode(png);
        Assert.Equal((1200, 4200), (shot.Width, shot.Height));
        int colored = 0;   // the plots put coloured pixels on the page
        for (int y = 0; y < shot.Height; y += 4)
            for (int x = 0; x < shot.Width; x += 4)
            {
                var c = shot.GetPixel(x, y);
                if (Math.Abs(c.Red - c.Blue) > 60 || Math.Abs(c.Red - c.Green) > 60) colored++;
            }
        Assert.True(colored > 200, $"{colored} coloured samples in the screenshot");
    }

    [Fact]
    public void AReportOfAnIncompleteFolderSaysWhatIsMissing()
    {
        string folder = Path.Combine(Dir, "half");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "run.json"), "{}");
        CliTests.AssertUsageError(["report", folder, "--out", Path.Combine(Dir, "r.html")], "lacks model.safetensors, history.csv");
    }
}
