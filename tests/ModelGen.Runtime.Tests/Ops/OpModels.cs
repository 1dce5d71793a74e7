namespace ModelGen.Tests.Ops;

// One tiny model per op: the generated kernels of each op are tested through exactly the code users get.
[Model] public partial class ReluOp { Tensor Forward(Tensor x) => Relu(x); }
[Model] public partial class TanhOp { Tensor Forward(Tensor x) => Tanh(x); }
[Model] public partial class SigmoidOp { Tensor Forward(Tensor x) => Sigmoid(x); }
[Model] public partial class GeluOp { Tensor Forward(Tensor x) => Gelu(x); }
[Model] public partial class GeluTanhOp { Tensor Forward(Tensor x) => Gelu(x, tanhApproximation: true); }
[Model] public partial class MulScalarOp { Tensor Forward(Tensor x) => x * 2.5; }
[Model] public partial class DivNegOp { Tensor Forward(Tensor x) => -(x / 4); }
[Model] public partial class SoftmaxOp { Tensor Forward(Tensor x) => Softmax(x); }
[Model] public partial class LogSoftmaxOp { Tensor Forward(Tensor x) => LogSoftmax(x); }
[Model] public partial class SumOp { Tensor Forward(Tensor x) => Sum(x); }
[Model] public partial class MeanOp { Tensor Forward(Tensor x) => Mean(x); }
[Model] public partial class FlattenOp { Tensor Forward(Tensor x) => Flatten(x); }
[Model] public partial class AddOp { Tensor Forward(Tensor a, Tensor b) => a + b; }
[Model] public partial class SubOp { Tensor Forward(Tensor a, Tensor b) => a - b; }
[Model] public partial class MseOp { Tensor Forward(Tensor a, Tensor b) => MseLoss(a, b); }

[Model]
public partial class LinearOp
{
    [Layer] readonly Linear fc;

    public LinearOp(int inFeatures, int outFeatures, DType dtype, int seed = 3) : base(Device.Cpu, seed, dtype)
        => fc = new Linear(inFeatures, outFeatures);

    Tensor Forward(Tensor x) => fc.Apply(x);
}
