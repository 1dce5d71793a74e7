namespace ModelGen.Tests.Reference;

/// <summary>Float64 references of the convolutional ops (NCHW, direct loops), written from PyTorch's definitions.</summary>
public static class ConvRef
{
    public static int OutputSize(int size, int k, int stride, int pad, int dilation) => (size + 2 * pad - dilation * (k - 1) - 1) / stride + 1;

    /// <summary>y[n, o, i, j] = b[o] + Σ_(c in o's group, p, q) W[o, c, p, q] · x[n, g·Cin/G + c, i·s − pad + p·d, j·s − pad + q·d].</summary>
    public static double[] Conv2d(double[] x, int n, int cin, int h, int w, double[] weight, double[]? bias, int cout, int k, int stride, int pad, int dilation, int groups)
    {
        int ho = OutputSize(h, k, stride, pad, dilation), wo = OutputSize(w, k, stride, pad, dilation);
        int cinG = cin / groups, coutG = cout / groups;
        var y = new double[n * cout * ho * wo];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < cout; o++)
            {
                int g = o / coutG;
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                    {
                        double s = bias?[o] ?? 0;
                        for (int c = 0; c < cinG; c++)
                            for (int p = 0; p < k; p++)
                                for (int q = 0; q < k; q++)
                                {
                                    int ih = i * stride - pad + p * dilation, iw = j * stride - pad + q * dilation;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                    s += weight[((o * cinG + c) * k + p) * k + q] * x[((b * cin + g * cinG + c) * h + ih) * w + iw];
                                }
                        y[((b * cout + o) * ho + i) * wo + j] = s;
                    }
            }
        return y;
    }

    /// <summary>Max or average pooling (count_include_pad) over k×k windows; padding never wins a max.</summary>
    public static double[] Pool(double[] x, int planes, int h, int w, int k, int stride, int pad, bool max)
    {
        int ho = OutputSize(h, k, stride, pad, 1), wo = OutputSize(w, k, stride, pad, 1);
        var y = new double[planes * ho * wo];
        for (int pl = 0; pl < planes; pl++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    for (int p = 0; p < k; p++)
                        for (int q = 0; q < k; q++)
                        {
                            int ih = i * stride - pad + p, iw = j * stride - pad + q;
                            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                            double v = x[(pl * h + ih) * w + iw];
                            acc = max ? Math.Max(acc, v) : acc + v;
                        }
                    y[(pl * ho + i) * wo + j] = max ? acc : acc / (k * k);
                }
        return y;
    }

    public static double[] AdaptiveAvgPool(double[] x, int planes, int h, int w, int oh, int ow)
    {
        var y = new double[planes * oh * ow];
        for (int pl = 0; pl < planes; pl++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int h0 = (int)Math.Floor((double)i * h / oh), h1 = (int)Math.Ceiling((double)(i + 1) * h / oh);
                    int w0 = (int)Math.Floor((double)j * w / ow), w1 = (int)Math.Ceiling((double)(j + 1) * w / ow);
                    double s = 0;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) s += x[(pl * h + ih) * w + iw];
                    y[(pl * oh + i) * ow + j] = s / ((h1 - h0) * (w1 - w0));
                }
        return y;
    }

    /// <summary>Per-channel mean and biased variance over (batch, height, width).</summary>
    public static (double[] Mean, double[] Var) ChannelStats(double[] x, int n, int c, int plane)
    {
        var mean = new double[c];
        var variance = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < plane; i++) s += x[(b * c + ch) * plane + i];
            mean[ch] = s / (n * plane);
            double q = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < plane; i++) q += Math.Pow(x[(b * c + ch) * plane + i] - mean[ch], 2);
            variance[ch] = q / (n * plane);
        }
        return (mean, variance);
    }

    /// <summary>y = (x − mean)/√(var + eps)·w + b per channel, with the given statistics (batch or running).</summary>
    public static double[] BatchNorm(double[] x, int n, int c, int plane, double[] mean, double[] variance, double[] weight, double[] bias, double eps)
    {
        var y = new double[x.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < plane; i++)
                {
                    int at = (b * c + ch) * plane + i;
                    y[at] = (x[at] - mean[ch]) / Math.Sqrt(variance[ch] + eps) * weight[ch] + bias[ch];
                }
        return y;
    }

    /// <summary>Training-mode BatchNorm: normalised with the batch's own statistics (so the gradient flows through them).</summary>
    public static double[] BatchNormTrain(double[] x, int n, int c, int plane, double[] weight, double[] bias, double eps)
    {
        var (mean, variance) = ChannelStats(x, n, c, plane);
        return BatchNorm(x, n, c, plane, mean, variance, weight, bias, eps);
    }
}
