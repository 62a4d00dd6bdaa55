using Latent.Plotting;

namespace Latent.Tests.Plotting;

/// <summary>Long scatter titles are broken into lines, since the legend narrows the area they are centred over.</summary>
public class FigureTitleTests
{
    [Fact]
    public void LongTitlesBreakAtSpacesAndShortOnesStay()
    {
        Assert.Equal("t-SNE of the codes", Figures.WrapTitle("t-SNE of the codes", 70));
        Assert.Equal("a b\ncc\nd", Figures.WrapTitle("a b cc d", 3));
        Assert.Equal("averyveryverylongword\nx", Figures.WrapTitle("averyveryverylongword x", 5));   // a word longer than a line stays whole
        string title = "simple autoencoder, mnist, 100 epochs: t-SNE of the codes of 2,000 test samples (10-NN accuracy 0.826)";
        var lines = Figures.WrapTitle(title, 70).Split('\n');
        Assert.True(lines.Length == 2 && lines.All(l => l.Length <= 70), string.Join(" | ", lines));
        Assert.Equal(title, string.Join(' ', lines));
    }
}
