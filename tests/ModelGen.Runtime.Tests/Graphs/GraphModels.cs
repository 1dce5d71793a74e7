namespace ModelGen.Tests.Graphs;

/// <summary>One value used twice (fan-out): the gradients of both uses sum.</summary>
[Model]
public partial class FanOut
{
    [Layer] readonly Linear fc1 = new(5, 7);
    [Layer] readonly Linear fc2 = new(7, 3);
    Tensor Forward(Tensor x)
    {
        var h = fc1.Apply(x);
        return fc2.Apply(Tanh(h) + Sigmoid(h));
    }
}

/// <summary>The same layer applied twice (shared weights accumulate both uses).</summary>
[Model]
public partial class SharedWeights
{
    [Layer] readonly Linear fc = new(6, 6);
    [Layer] readonly Linear head = new(6, 3);
    Tensor Forward(Tensor x) => head.Apply(fc.Apply(Relu(fc.Apply(x))));
}

/// <summary>Residual connections with GELU.</summary>
[Model]
public partial class Residual
{
    [Layer] readonly Linear fc1 = new(4, 8);
    [Layer] readonly Linear fc2 = new(8, 8);
    [Layer] readonly Linear fc3 = new(8, 3);
    Tensor Forward(Tensor x)
    {
        var h = fc1.Apply(x);
        h = h + Gelu(fc2.Apply(h));
        return fc3.Apply(h);
    }
}

/// <summary>A block used as a layer and in lists.</summary>
[Model]
public partial class Block
{
    [Layer] readonly Linear fc;
    public Block(int width) => fc = new Linear(width, width);
    Tensor Forward(Tensor x) => x + Tanh(fc.Apply(x)) * 0.5;
}

/// <summary>A nested model.</summary>
[Model]
public partial class Nested
{
    [Layer] readonly Linear input = new(5, 6);
    [Layer] readonly Block block = new(6);
    [Layer] readonly Linear head = new(6, 4);
    Tensor Forward(Tensor x) => head.Apply(block.Apply(Relu(input.Apply(x))));
}

/// <summary>A list of blocks whose length is known only at run time.</summary>
[Model]
public partial class Stack
{
    [Layer] readonly Linear input;
    [Layer] readonly LayerList<Block> blocks;
    [Layer] readonly Linear head;

    public Stack(int depth, int width, DType dtype, Device? device = null) : base(device ?? Device.Cpu, 11, dtype)
    {
        input = new Linear(5, width);
        blocks = LayerList<Block>.Create(depth, _ => new Block(width));
        head = new Linear(width, 3);
    }

    Tensor Forward(Tensor x)
    {
        var h = input.Apply(x);
        foreach (var block in blocks) h = block.Apply(h);
        return head.Apply(h);
    }
}

/// <summary>Tanh / Sigmoid / GELU chains (fused element-wise kernels and epilogues).</summary>
[Model]
public partial class ActivationChain
{
    [Layer] readonly Linear fc1 = new(4, 9);
    [Layer] readonly Linear fc2 = new(9, 5);
    Tensor Forward(Tensor x) => Sigmoid(fc2.Apply(Tanh(Gelu(fc1.Apply(x), tanhApproximation: true) * 1.5)));
}

/// <summary>Dropout (train: seeded mask; eval: identity).</summary>
[Model]
public partial class WithDropout
{
    [Layer] readonly Linear fc1 = new(6, 32);
    [Layer] readonly Dropout drop = new(0.25);
    [Layer] readonly Linear fc2 = new(32, 3);
    Tensor Forward(Tensor x) => fc2.Apply(drop.Apply(Relu(fc1.Apply(x))));
}

/// <summary>Reshape of an input and of an activation, a rank-3 Linear, and Flatten.</summary>
[Model]
public partial class Reshapes
{
    [Layer] readonly Linear fc1 = new(24, 12);
    [Layer] readonly Linear fc2 = new(4, 5);
    [Layer] readonly Linear head = new(15, 3);
    Tensor Forward(Tensor x)
    {
        var flat = x.Reshape(-1, 24);
        var h = Relu(fc1.Apply(flat)).Reshape(-1, 3, 4);
        return head.Apply(Flatten(Sigmoid(fc2.Apply(h))));
    }
}

/// <summary>An in-graph MSE loss with two inputs and LogSoftmax / Softmax / Mean in the graph.</summary>
[Model]
public partial class InGraphLosses
{
    [Layer] readonly Linear fc = new(5, 4);
    Tensor Forward(Tensor x, Tensor target)
    {
        var h = fc.Apply(x);
        return MseLoss(Softmax(h), target) + Mean(LogSoftmax(h)) * -0.1;
    }
}
