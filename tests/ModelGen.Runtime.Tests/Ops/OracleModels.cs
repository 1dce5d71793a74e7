namespace ModelGen.Tests.Ops;

// The architectures of tests/oracle/make_fixtures.py (PyTorch 1.13), with their weights loaded from the fixtures.
[Model]
public partial class OracleMlp
{
    [Layer] readonly Linear fc1 = new(13, 11);
    [Layer] readonly Linear fc2 = new(11, 7);
    [Layer] readonly Linear fc3 = new(7, 3);
    Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
}

[Model]
public partial class OracleTanhSigmoid
{
    [Layer] readonly Linear fc1 = new(6, 9);
    [Layer] readonly Linear fc2 = new(9, 5);
    Tensor Forward(Tensor x) => Sigmoid(fc2.Apply(Tanh(fc1.Apply(x))));
}

[Model]
public partial class OracleResidualGelu
{
    [Layer] readonly Linear fc1 = new(8, 8);
    [Layer] readonly Linear fc2 = new(8, 4);
    Tensor Forward(Tensor x) => fc2.Apply(Gelu(fc1.Apply(x)) + x);
}
