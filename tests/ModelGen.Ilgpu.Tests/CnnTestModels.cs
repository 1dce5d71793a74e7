namespace ModelGen.Ilgpu.Tests;

/// <summary>One Conv2d with every option, on a chosen device (the op tests' ConvOp is pinned to the CPU).</summary>
[Model]
public partial class DeviceConv
{
    [Layer] readonly Conv2d conv;

    public DeviceConv(Device device, int inChannels, int outChannels, int kernel, int stride, int padding, int dilation, int groups, bool bias)
        : base(device, 5) => conv = new Conv2d(inChannels, outChannels, kernel, stride, padding, dilation, groups, bias);

    Tensor Forward(Tensor x) => conv.Apply(x);
}

/// <summary>Conv2d with a sigmoid fused into its epilogue, then a tanh conv (the other activation codes' gradients).</summary>
[Model]
public partial class DeviceConvSigmoidTanh
{
    [Layer] readonly Conv2d conv1 = new(2, 3, 3, padding: 1);
    [Layer] readonly Conv2d conv2 = new(3, 2, 3, stride: 2, padding: 1);

    Tensor Forward(Tensor x) => Tanh(conv2.Apply(Sigmoid(conv1.Apply(x))));
}

[Model]
public partial class DeviceMaxPool
{
    [Layer] readonly MaxPool2d pool;
    public DeviceMaxPool(Device device, int kernel, int stride, int padding) : base(device, 0) => pool = new MaxPool2d(kernel, stride, padding);
    Tensor Forward(Tensor x) => pool.Apply(x);
}

[Model]
public partial class DeviceAvgPool
{
    [Layer] readonly AvgPool2d pool;
    public DeviceAvgPool(Device device, int kernel, int stride, int padding) : base(device, 0) => pool = new AvgPool2d(kernel, stride, padding);
    Tensor Forward(Tensor x) => pool.Apply(x);
}

[Model]
public partial class DeviceAdaptiveAvgPool
{
    [Layer] readonly AdaptiveAvgPool2d pool;
    public DeviceAdaptiveAvgPool(Device device, int height, int width) : base(device, 0) => pool = new AdaptiveAvgPool2d(height, width);
    Tensor Forward(Tensor x) => pool.Apply(x);
}

/// <summary>BatchNorm2d after a convolution (so its input gradient flows into a parameter's gradient too).</summary>
[Model]
public partial class DeviceConvBatchNorm
{
    [Layer] readonly Conv2d conv = new(2, 3, 3, padding: 1, bias: false);
    [Layer] readonly BatchNorm2d bn = new(3, 1e-5, 0.3);

    Tensor Forward(Tensor x) => bn.Apply(conv.Apply(x));
}

/// <summary>samples/FashionCnn's FashionCnn layer for layer, for 12×12 images (12 → 6 → 3, so fc1 reads 64·3·3).</summary>
[Model]
public partial class FashionCnn12
{
    [Layer] readonly Conv2d conv1 = new(1, 32, 3, padding: 1, bias: false);
    [Layer] readonly BatchNorm2d bn1 = new(32);
    [Layer] readonly MaxPool2d pool1 = new(2);
    [Layer] readonly Conv2d conv2 = new(32, 64, 3, padding: 1, bias: false);
    [Layer] readonly BatchNorm2d bn2 = new(64);
    [Layer] readonly MaxPool2d pool2 = new(2);
    [Layer] readonly Linear fc1 = new(64 * 3 * 3, 128);
    [Layer] readonly Dropout drop = new(0.3);
    [Layer] readonly Linear fc2 = new(128, 10);

    Tensor Forward([Shape(1, 12, 12)] Tensor x)
    {
        var h = pool1.Apply(Relu(bn1.Apply(conv1.Apply(x))));
        h = pool2.Apply(Relu(bn2.Apply(conv2.Apply(h))));
        return fc2.Apply(drop.Apply(Relu(fc1.Apply(Flatten(h)))));
    }
}
