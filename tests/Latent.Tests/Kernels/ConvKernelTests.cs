using Latent.Kernels;
using Latent.Tests.TestSupport;

namespace Latent.Tests.Kernels;

/// <summary>
/// The convolution's gradient kernels (unrolled-window GEMMs, the direct kernel gradient, the input gradient as a
/// flipped forward convolution) against plain loops, for filters and channels on every path: fewer than 8, 8, 16,
/// 24, 32 and 64, strides 1 to 3, "same" and "valid", odd sizes. Both gradients are added to what is there.
/// </summary>
public class ConvKernelTests
{
    public static TheoryData<int, int, int, int, int, int, bool> Shapes() => new()
    {
        // H, W, C, F, k, s, same
        { 7, 7, 1, 16, 3, 1, true },     // the blog's first convolution: C = 1, 16 filters
        { 6, 7, 16, 8, 3, 1, true },     // 16 → 8: kernel gradient of 8 filters, input gradient by the flipped forward
        { 9, 8, 8, 16, 3, 1, false },    // "valid": windows pad by k − 1 in the flipped forward
        { 8, 8, 16, 1, 3, 1, true },     // the last convolution: one filter, KW·C = 48
        { 7, 6, 8, 3, 3, 1, true },      // three filters, KW·C = 24
        { 9, 9, 1, 32, 3, 2, true },     // stride 2 (the conv VAE): kernel gradient direct, input gradient by GEMM
        { 8, 7, 32, 64, 3, 2, true },
        { 10, 9, 3, 24, 4, 3, false },   // 24 filters = 16 + 8; even kernel, stride 3
        { 6, 6, 5, 3, 2, 1, false },     // KW·C = 10: the older small-filter path
        { 5, 5, 8, 8, 5, 1, true },      // kernel as large as the image
        { 24, 24, 32, 32, 3, 2, true },  // strided, 32 filters: kernel gradient by whole-sample products, one sample each
        { 40, 40, 64, 32, 3, 2, true },  // a sample's windows too many for one product: in chunks of positions
        { 7, 6, 32, 32, 3, 1, true },    // stride 1, rows six wide: the flipped forward through the GEMM
        { 9, 12, 8, 16, 3, 1, true },    // the flipped forward to 8 channels: blocks of eight positions, added onto dX
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientsMatchPlainLoops(int h, int w, int c, int f, int k, int s, bool same)
    {
        const int batch = 2;
        var g = ConvGeometry.Forward(h, w, c, k, k, s, s, same);
        int p = g.PatchSize, positions = g.Positions;
        var x = Synthetic.Uniform(batch * h * w * c, h * 31 + f, -1, 1);
        var dz = Synthetic.Uniform(batch * positions * f, w * 17 + c, -1, 1);
        var kernel = Synthetic.Uniform(p * f, k * 7 + s, -1, 1);
        var dK = Synthetic.Uniform(p * f, 5, -1, 1);                 // the gradients are added to these
        var dX = Synthetic.Uniform(batch * h * w * c, 6, -1, 1);
        var eK = dK.Select(v => (double)v).ToArray();
        var eX = dX.Select(v => (double)v).ToArray();

        Conv.Backward(g, batch, x, dz, kernel, f, dK, dX);

        for (int b = 0; b < batch; b++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
        {
            int ih = oh * s - g.PadTop + i, iw = ow * s - g.PadLeft + j;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            for (int cc = 0; cc < c; cc++)
            for (int ff = 0; ff < f; ff++)
            {
                double d = dz[((b * g.OH + oh) * g.OW + ow) * f + ff];
                int q = (i * k + j) * c + cc, xi = ((b * h + ih) * w + iw) * c + cc;
                eK[q * f + ff] += x[xi] * d;
                eX[xi] += kernel[q * f + ff] * d;
            }
        }
        for (int i = 0; i < eK.Length; i++)
            Assert.True(Math.Abs(dK[i] - eK[i]) <= 1e-4 * (1 + Math.Abs(eK[i])), $"dK[{i}] = {dK[i]}, expected {eK[i]}");
        for (int i = 0; i < eX.Length; i++)
            Assert.True(Math.Abs(dX[i] - eX[i]) <= 1e-4 * (1 + Math.Abs(eX[i])), $"dX[{i}] = {dX[i]}, expected {eX[i]}");

        // Each gradient alone (a first layer needs no input gradient; a frozen one no kernel gradient).
        var onlyK = new float[p * f];
        Conv.Backward(g, batch, x, dz, kernel, f, onlyK, default);
        var onlyX = new float[batch * h * w * c];
        Conv.Backward(g, batch, x, dz, kernel, f, default, onlyX);
        var dK0 = Synthetic.Uniform(p * f, 5, -1, 1);
        var dX0 = Synthetic.Uniform(batch * h * w * c, 6, -1, 1);
        for (int i = 0; i < onlyK.Length; i++) Assert.True(Math.Abs(onlyK[i] + dK0[i] - dK[i]) <= 1e-5 * (1 + Math.Abs(dK[i])));
        for (int i = 0; i < onlyX.Length; i++) Assert.True(Math.Abs(onlyX[i] + dX0[i] - dX[i]) <= 1e-5 * (1 + Math.Abs(dX[i])));
    }
}
