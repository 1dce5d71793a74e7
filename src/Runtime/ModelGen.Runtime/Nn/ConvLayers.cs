namespace ModelGen;

/// <summary>
/// 2-D convolution over NCHW input, like torch.nn.Conv2d with square kernels: weight [out, in/groups, k, k] and bias
/// [out], both initialised from U(−1/√fan_in, 1/√fan_in) with fan_in = in/groups·k·k (PyTorch's kaiming_uniform with
/// a = √5). Output size per spatial dimension: ⌊(size + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1.
/// </summary>
public sealed class Conv2d : ILayer
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true)
    {
        string self = $"Conv2d({inChannels}, {outChannels}, {kernelSize})";
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), $"{self}: channel counts must be positive.");
        if (kernelSize <= 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), $"{self}: the kernel size must be positive.");
        if (stride <= 0) throw new ArgumentOutOfRangeException(nameof(stride), $"{self}: stride {stride} must be positive.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), $"{self}: padding {padding} must not be negative.");
        if (dilation <= 0) throw new ArgumentOutOfRangeException(nameof(dilation), $"{self}: dilation {dilation} must be positive.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), $"{self}: groups = {groups} must divide both channel counts.");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        HasBias = bias;
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public bool HasBias { get; }
    public string Name { get; private set; } = "conv";

    public Parameter Weight => _weight ?? throw new InvalidOperationException($"Layer {Name} has no parameters yet: its model is not bound to a device.");
    public Parameter? Bias => _bias;
    private Parameter? _weight, _bias;

    /// <summary>Output size of one spatial dimension (may be below 1 for an input smaller than the dilated kernel).</summary>
    public int OutputSize(int size) => ConvGeometry.OutputSize(size, KernelSize, Stride, Padding, Dilation);

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix)
    {
        Name = prefix.TrimEnd('.');
        double bound = 1.0 / Math.Sqrt((double)InChannels / Groups * KernelSize * KernelSize);
        _weight = binder.Parameter(prefix + "weight", new Shape(OutChannels, InChannels / Groups, KernelSize, KernelSize), bound);
        if (HasBias) _bias = binder.Parameter(prefix + "bias", new Shape(OutChannels), bound);
    }

    public override string ToString()
        => $"Conv2d({InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}"
           + (Dilation != 1 ? $", dilation={Dilation}" : "") + (Groups != 1 ? $", groups={Groups}" : "") + (HasBias ? "" : ", bias=False") + ")";
}

/// <summary>Max pooling over NCHW windows like torch.nn.MaxPool2d (stride defaults to the kernel size; padding counts
/// as −∞, at most half the kernel). The backward routes each gradient to the first maximum of its window.</summary>
public sealed class MaxPool2d : ILayer
{
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0)
    {
        Pooling.Validate("MaxPool2d", kernelSize, stride, padding);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
    }

    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public string Name { get; private set; } = "max_pool";

    public int OutputSize(int size) => ConvGeometry.OutputSize(size, KernelSize, Stride, Padding, 1);

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix) => Name = prefix.TrimEnd('.');

    public override string ToString() => $"MaxPool2d(kernel_size={KernelSize}, stride={Stride}, padding={Padding})";
}

/// <summary>Average pooling over NCHW windows like torch.nn.AvgPool2d (stride defaults to the kernel size;
/// count_include_pad = True: every window divides by kernel²).</summary>
public sealed class AvgPool2d : ILayer
{
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0)
    {
        Pooling.Validate("AvgPool2d", kernelSize, stride, padding);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
    }

    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public string Name { get; private set; } = "avg_pool";

    public int OutputSize(int size) => ConvGeometry.OutputSize(size, KernelSize, Stride, Padding, 1);

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix) => Name = prefix.TrimEnd('.');

    public override string ToString() => $"AvgPool2d(kernel_size={KernelSize}, stride={Stride}, padding={Padding})";
}

/// <summary>Average pooling to a fixed output size like torch.nn.AdaptiveAvgPool2d: output cell i of n averages input
/// rows ⌊i·H/n⌋ … ⌈(i+1)·H/n⌉ − 1 (likewise for columns).</summary>
public sealed class AdaptiveAvgPool2d : ILayer
{
    public AdaptiveAvgPool2d(int outputSize) : this(outputSize, outputSize) { }

    public AdaptiveAvgPool2d(int outputHeight, int outputWidth)
    {
        if (outputHeight <= 0 || outputWidth <= 0)
            throw new ArgumentOutOfRangeException(nameof(outputHeight), $"AdaptiveAvgPool2d({outputHeight}, {outputWidth}): output sizes must be positive.");
        OutputHeight = outputHeight;
        OutputWidth = outputWidth;
    }

    public int OutputHeight { get; }
    public int OutputWidth { get; }
    public string Name { get; private set; } = "adaptive_avg_pool";

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix) => Name = prefix.TrimEnd('.');

    public override string ToString() => $"AdaptiveAvgPool2d(output_size=({OutputHeight}, {OutputWidth}))";
}

/// <summary>
/// Batch normalisation of NCHW input per channel, like torch.nn.BatchNorm2d: weight (ones) and bias (zeros), and the
/// buffers running_mean (zeros), running_var (ones) and num_batches_tracked, saved and loaded with the model. Training
/// normalises with the batch's mean and biased variance and updates the running statistics with
/// r ← (1 − momentum)·r + momentum·batch (the running variance from the unbiased estimate); evaluation uses them.
/// </summary>
public sealed class BatchNorm2d : ILayer
{
    public BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1)
    {
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), $"BatchNorm2d({numFeatures}): the channel count must be positive.");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"BatchNorm2d eps {eps} must be positive.");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), $"BatchNorm2d momentum {momentum} must be in [0, 1].");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
    }

    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public string Name { get; private set; } = "batch_norm";

    public Parameter Weight => _weight ?? throw Unbound();
    public Parameter Bias => _bias ?? throw Unbound();
    public Parameter RunningMean => _runningMean ?? throw Unbound();
    public Parameter RunningVar => _runningVar ?? throw Unbound();
    public Parameter NumBatchesTracked => _numBatchesTracked ?? throw Unbound();
    private Parameter? _weight, _bias, _runningMean, _runningVar, _numBatchesTracked;

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix)
    {
        Name = prefix.TrimEnd('.');
        _weight = binder.ConstantParameter(prefix + "weight", new Shape(NumFeatures), 1.0);
        _bias = binder.ConstantParameter(prefix + "bias", new Shape(NumFeatures), 0.0);
        _runningMean = binder.Buffer(prefix + "running_mean", new Shape(NumFeatures), 0.0);
        _runningVar = binder.Buffer(prefix + "running_var", new Shape(NumFeatures), 1.0);
        _numBatchesTracked = binder.Buffer(prefix + "num_batches_tracked", Shape.Scalar, 0.0);
    }

    private InvalidOperationException Unbound() => new($"Layer {Name} is not bound to a device yet.");

    public override string ToString() => $"BatchNorm2d({NumFeatures}, eps={Eps}, momentum={Momentum})";
}

/// <summary>Channel dropout like torch.nn.Dropout2d: in training each (sample, channel) plane of NCHW input is zeroed
/// with probability p and the rest scaled by 1/(1−p); the identity in evaluation.</summary>
public sealed class Dropout2d : ILayer
{
    public Dropout2d(double p = 0.5)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout2d probability {p} is not in [0, 1).");
        P = p;
    }

    public double P { get; }
    public string Name { get; private set; } = "dropout2d";

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix) => Name = prefix.TrimEnd('.');

    public override string ToString() => $"Dropout2d(p={P})";
}

internal static class ConvGeometry
{
    public static int OutputSize(int size, int kernel, int stride, int padding, int dilation)
    {
        long span = (long)size + 2L * padding - (long)dilation * (kernel - 1) - 1;
        return span < 0 ? 0 : (int)(span / stride + 1);
    }
}

internal static class Pooling
{
    public static void Validate(string op, int kernelSize, int? stride, int padding)
    {
        if (kernelSize <= 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), $"{op}: the kernel size {kernelSize} must be positive.");
        if (stride is int s && s <= 0) throw new ArgumentOutOfRangeException(nameof(stride), $"{op}: stride {s} must be positive.");
        if (padding < 0 || 2 * padding > kernelSize)
            throw new ArgumentOutOfRangeException(nameof(padding), $"{op}: padding {padding} must be between 0 and half the kernel size {kernelSize}.");
    }
}
