using ModelGen;

namespace FashionMnistSample;

/// <summary>The PyTorch quickstart model: 784-512-512-10 with ReLU.</summary>
[Model]
public partial class FashionMlp
{
    [Layer] readonly Linear fc1 = new(784, 512);
    [Layer] readonly Linear fc2 = new(512, 512);
    [Layer] readonly Linear fc3 = new(512, 10);

    Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
}

/// <summary>The same MLP with dropout after each hidden layer: the Trainer's default recipe.</summary>
[Model]
public partial class FashionMlpDropout
{
    [Layer] readonly Linear fc1 = new(784, 512);
    [Layer] readonly Dropout drop1 = new(0.2);
    [Layer] readonly Linear fc2 = new(512, 512);
    [Layer] readonly Dropout drop2 = new(0.2);
    [Layer] readonly Linear fc3 = new(512, 10);

    Tensor Forward(Tensor x) => fc3.Apply(drop2.Apply(Relu(fc2.Apply(drop1.Apply(Relu(fc1.Apply(x)))))));
}
