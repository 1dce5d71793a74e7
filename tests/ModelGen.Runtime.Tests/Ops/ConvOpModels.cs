namespace ModelGen.Tests.Ops;

/// <summary>One Conv2d with every option, for the op tests.</summary>
[Model]
public partial class ConvOp
{
    [Layer] readonly Conv2d conv;

    public ConvOp(int inChannels, int outChannels, int kernel, int stride, int padding, int dilation, int groups, bool bias, DType dtype)
        : base(Device.Cpu, 5, dtype) => conv = new Conv2d(inChannels, outChannels, kernel, stride, padding, dilation, groups, bias);

    Tensor Forward(Tensor x) => conv.Apply(x);
}

/// <summary>Conv2d with its ReLU fused into the GEMM epilogue, then a second conv reading it (an activation's gradient
/// that is assigned, not an input's).</summary>
[Model]
public partial class ConvReluConv
{
    [Layer] readonly Conv2d conv1 = new(3, 4, 3, padding: 1);
    [Layer] readonly Conv2d conv2 = new(4, 2, 3, stride: 2);

    Tensor Forward(Tensor x) => conv2.Apply(Relu(conv1.Apply(x)));
}

/// <summary>One input read by two convolutions (its gradient is assigned by one and accumulated by the other).</summary>
[Model]
public partial class ConvFanOut
{
    [Layer] readonly Conv2d a = new(2, 3, 3, padding: 1);
    [Layer] readonly Conv2d b = new(2, 3, 1);

    Tensor Forward(Tensor x) => a.Apply(x) + b.Apply(x);
}

[Model]
public partial class MaxPoolOp
{
    [Layer] readonly MaxPool2d pool;
    public MaxPoolOp(int kernel, int stride, int padding, DType dtype) : base(Device.Cpu, 0, dtype) => pool = new MaxPool2d(kernel, stride, padding);
    Tensor Forward(Tensor x) => pool.Apply(x);
}

[Model]
public partial class AvgPoolOp
{
    [Layer] readonly AvgPool2d pool;
    public AvgPoolOp(int kernel, int stride, int padding, DType dtype) : base(Device.Cpu, 0, dtype) => pool = new AvgPool2d(kernel, stride, padding);
    Tensor Forward(Tensor x) => pool.Apply(x);
}

[Model]
public partial class AdaptiveAvgPoolOp
{
    [Layer] readonly AdaptiveAvgPool2d pool;
    public AdaptiveAvgPoolOp(int height, int width, DType dtype) : base(Device.Cpu, 0, dtype) => pool = new AdaptiveAvgPool2d(height, width);
    Tensor Forward(Tensor x) => pool.Apply(x);
}

[Model]
public partial class BatchNormOp
{
    [Layer] readonly BatchNorm2d bn;
    public BatchNormOp(int channels, DType dtype, double momentum = 0.1) : base(Device.Cpu, 0, dtype) => bn = new BatchNorm2d(channels, 1e-5, momentum);
    Tensor Forward(Tensor x) => bn.Apply(x);
}

[Model]
public partial class Dropout2dOp
{
    [Layer] readonly Dropout2d drop = new(0.5);
    Tensor Forward(Tensor x) => drop.Apply(x);
}

/// <summary>A small CNN through every op: conv–BN–ReLU–max-pool, a grouped conv, avg-pool, channel dropout,
/// adaptive pooling, Flatten and a Linear head. Its example shape is declared, so the analyzers check it all.</summary>
[Model]
public partial class TinyCnn
{
    [Layer] readonly Conv2d conv1 = new(2, 4, 3, padding: 1, bias: false);
    [Layer] readonly BatchNorm2d bn1 = new(4);
    [Layer] readonly MaxPool2d pool1 = new(2);
    [Layer] readonly Conv2d conv2 = new(4, 6, 3, padding: 1, dilation: 1, groups: 2);
    [Layer] readonly AvgPool2d pool2 = new(3, stride: 1, padding: 1);
    [Layer] readonly Dropout2d drop = new(0.25);
    [Layer] readonly AdaptiveAvgPool2d gap = new(2, 1);
    [Layer] readonly Linear head = new(6 * 2 * 1, 3);

    Tensor Forward([Shape(2, 9, 7)] Tensor x)
    {
        var h = pool1.Apply(Relu(bn1.Apply(conv1.Apply(x))));
        h = drop.Apply(pool2.Apply(Relu(conv2.Apply(h))));
        return head.Apply(Flatten(gap.Apply(h)));
    }
}

/// <summary>The tiny CNN of tests/oracle/make_fixtures.py (conv.json), weights loaded from the fixture.</summary>
[Model]
public partial class OracleCnn
{
    [Layer] readonly Conv2d conv = new(1, 4, 3, padding: 1);
    [Layer] readonly BatchNorm2d bn = new(4);
    [Layer] readonly MaxPool2d pool = new(2);
    [Layer] readonly Linear fc = new(4 * 3 * 3, 3);

    Tensor Forward([Shape(1, 6, 6)] Tensor x) => fc.Apply(Flatten(pool.Apply(Relu(bn.Apply(conv.Apply(x))))));
}
