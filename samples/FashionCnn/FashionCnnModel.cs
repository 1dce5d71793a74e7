using ModelGen;

namespace FashionCnnSample;

/// <summary>A small CNN for 28×28 grey images: two conv–BatchNorm–ReLU–max-pool blocks (1→32→64 channels, 3×3 kernels
/// with padding 1, so each block halves the image: 28 → 14 → 7) and a linear head with dropout. The input's example
/// shape is declared, so the analyzers check every size at compile time: change fc1 to 64 * 8 * 8 and the build fails
/// with MG0001 naming the 64·7·7 = 3136 features Flatten makes.</summary>
[Model]
public partial class FashionCnn
{
    [Layer] readonly Conv2d conv1 = new(1, 32, 3, padding: 1, bias: false);
    [Layer] readonly BatchNorm2d bn1 = new(32);
    [Layer] readonly MaxPool2d pool1 = new(2);
    [Layer] readonly Conv2d conv2 = new(32, 64, 3, padding: 1, bias: false);
    [Layer] readonly BatchNorm2d bn2 = new(64);
    [Layer] readonly MaxPool2d pool2 = new(2);
    [Layer] readonly Linear fc1 = new(64 * 7 * 7, 128);
    [Layer] readonly Dropout drop = new(0.3);
    [Layer] readonly Linear fc2 = new(128, 10);

    Tensor Forward([Shape(1, 28, 28)] Tensor x)
    {
        var h = pool1.Apply(Relu(bn1.Apply(conv1.Apply(x))));
        h = pool2.Apply(Relu(bn2.Apply(conv2.Apply(h))));
        return fc2.Apply(drop.Apply(Relu(fc1.Apply(Flatten(h)))));
    }
}
