namespace ModelGen.Analyzers.Tests;

/// <summary>The shape diagnostics: a failing case with the exact spans (the use, then the layer's declaration) and a
/// passing case for each, plus the cases that defeat a checker walking layers in declaration order.</summary>
public sealed class ShapeDiagnosticTests
{
    // ---------- MG0001: Linear input features ----------

    [Test]
    public Task Linear_AfterFlattenOfKnownShape_Mismatch() => Verify.Analyze("""
        [Model]
        public partial class Conv
        {
            [Layer] readonly Linear {|#1:head = new(20, 3)|};
            Tensor Forward(Tensor x) => {|#0:head.Apply|}(Flatten(x.Reshape(-1, 4, 6)));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'head' expects input […, 20] but 'Flatten(x.Reshape(-1, 4, 6))' has shape [?, 24]; 'head' is declared at line 4"));

    [Test]
    public Task Linear_AfterFlattenOfKnownShape_Matches() => Verify.Analyze("""
        [Model]
        public partial class Conv
        {
            [Layer] readonly Linear head = new(24, 3);
            Tensor Forward(Tensor x) => head.Apply(Flatten(x.Reshape(-1, 4, 6)));
        }
        """);

    [Test]
    public Task Linear_InputFeaturesAreInferredFromTheFirstLayer_SecondUseDisagrees() => Verify.Analyze("""
        [Model]
        public partial class TwoHeads
        {
            [Layer] readonly Linear a = new(784, 10);
            [Layer] readonly Linear {|#1:b = new(300, 10)|};
            Tensor Forward(Tensor x) => a.Apply(x) + {|#0:b.Apply|}(x);
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'b' expects input […, 300] but 'x' has shape […, 784]; 'b' is declared at line 5"));

    [Test]
    public Task Linear_OnAScalar() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear {|#1:fc = new(4, 2)|};
            Tensor Forward(Tensor x) => {|#0:fc.Apply|}(Sum(x));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'fc' expects input […, 4] but 'Sum(x)' is a scalar []; 'fc' is declared at line 4"));

    [Test]
    public Task Linear_NamedArguments() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc1 = new(outFeatures: 8, inFeatures: 4);
            [Layer] readonly Linear {|#1:fc2 = new(inFeatures: 4, outFeatures: 2)|};
            Tensor Forward(Tensor x) => {|#0:fc2.Apply|}(fc1.Apply(x));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'fc2' expects input […, 4] but 'fc1.Apply(x)' has shape […, 8]; 'fc2' is declared at line 5"));

    // ---------- order, reuse, residuals, nesting, lists ----------

    [Test]
    public Task DeclaredInAnotherOrderThanApplied_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class Shuffled
        {
            [Layer] readonly Linear head = new(32, 3);
            [Layer] readonly Linear middle = new(16, 32);
            [Layer] readonly Linear input = new(8, 16);
            Tensor Forward(Tensor x) => head.Apply(Relu(middle.Apply(Relu(input.Apply(x)))));
        }
        """);

    [Test]
    public Task DeclaredInAnotherOrderThanApplied_Mismatch() => Verify.Analyze("""
        [Model]
        public partial class Shuffled
        {
            [Layer] readonly Linear head = new(32, 3);
            [Layer] readonly Linear {|#1:middle = new(15, 32)|};
            [Layer] readonly Linear input = new(8, 16);
            Tensor Forward(Tensor x) => head.Apply(Relu({|#0:middle.Apply|}(Relu(input.Apply(x)))));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'middle' expects input […, 15] but 'Relu(input.Apply(x))' has shape […, 16]; 'middle' is declared at line 5"));

    [Test]
    public Task LayerAppliedTwice_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class SharedWeights
        {
            [Layer] readonly Linear fc = new(6, 6);
            [Layer] readonly Linear head = new(6, 3);
            Tensor Forward(Tensor x) => head.Apply(fc.Apply(Relu(fc.Apply(x))));
        }
        """);

    [Test]
    public Task LayerAppliedTwice_SecondUseGetsItsOwnOutput() => Verify.Analyze("""
        [Model]
        public partial class Twice
        {
            [Layer] readonly Linear {|#1:fc = new(6, 3)|};
            Tensor Forward(Tensor x) => {|#0:fc.Apply|}(Relu(fc.Apply(x)));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'fc' expects input […, 6] but 'Relu(fc.Apply(x))' has shape […, 3]; 'fc' is declared at line 4"));

    [Test]
    public Task ResidualPath_NoDiagnostics() => Verify.Analyze("""
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
        """);

    private const string Block = """
        [Model]
        public partial class Block
        {
            [Layer] readonly Linear fc;
            public Block(int width) => fc = new Linear(width, width);
            Tensor Forward(Tensor x) => x + Tanh(fc.Apply(x)) * 0.5;
        }

        """;

    [Test]
    public Task NestedModel_NoDiagnostics() => Verify.Analyze(Block + """
        [Model]
        public partial class Nested
        {
            [Layer] readonly Linear input = new(5, 6);
            [Layer] readonly Block block = new(6);
            [Layer] readonly Linear head = new(6, 4);
            Tensor Forward(Tensor x) => head.Apply(block.Apply(Relu(input.Apply(x))));
        }
        """);

    [Test]
    public Task NestedModel_ItsConstructorArgumentDisagreesWithItsInput() => Verify.Analyze(Block + """
        [Model]
        public partial class Nested
        {
            [Layer] readonly Linear input = new(5, 6);
            [Layer] readonly Block {|#1:block = new(7)|};
            [Layer] readonly Linear head = new(7, 4);
            Tensor Forward(Tensor x) => head.Apply({|#0:block.Apply|}(Relu(input.Apply(x))));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("in nested model 'block' (Block): Linear layer 'fc' expects input […, 7] but 'x' has shape […, 6]; 'block' is declared at line 12"));

    [Test]
    public Task NestedModel_OutputFeedsTheNextLayer() => Verify.Analyze(Block + """
        [Model]
        public partial class Nested
        {
            [Layer] readonly Linear input = new(5, 6);
            [Layer] readonly Block block = new(6);
            [Layer] readonly Linear {|#1:head = new(4, 4)|};
            Tensor Forward(Tensor x) => {|#0:head.Apply|}(block.Apply(Relu(input.Apply(x))));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'head' expects input […, 4] but 'block.Apply(Relu(input.Apply(x)))' has shape […, 6]; 'head' is declared at line 13"));

    private const string Stack = """
        [Model]
        public partial class Stack
        {
            [Layer] readonly Linear input;
            [Layer] readonly LayerList<Block> blocks;
            [Layer] readonly Linear head;

            public Stack(int depth, int width)
            {
                input = new Linear(5, width);
                blocks = LayerList<Block>.Create(depth, _ => new Block(BLOCKWIDTH));
                head = new Linear(width, 3);
            }

            Tensor Forward(Tensor x)
            {
                var h = input.Apply(x);
                foreach (var block in blocks) h = BLOCKAPPLY;
                return head.Apply(h);
            }
        }
        """;

    [Test]
    public Task BlockList_WithSymbolicWidth_NoDiagnostics() => Verify.Analyze(Block + Stack.Replace("BLOCKWIDTH", "width").Replace("BLOCKAPPLY", "block.Apply(h)"));

    [Test]
    public Task BlockList_BlocksOfAnotherWidth() => Verify.Analyze(Block + """
        [Model]
        public partial class Stack
        {
            [Layer] readonly Linear input = new(5, 6);
            [Layer] readonly LayerList<Block> {|#1:blocks = LayerList<Block>.Create(4, _ => new Block(8))|};
            [Layer] readonly Linear head = new(8, 3);

            Tensor Forward(Tensor x)
            {
                var h = input.Apply(x);
                foreach (var block in blocks) h = {|#0:block.Apply|}(h);
                return head.Apply(h);
            }
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("in nested model 'blocks' (Block): Linear layer 'fc' expects input […, 8] but 'x' has shape […, 6]; 'blocks' is declared at line 12"));

    [Test]
    public Task SymbolicDimensions_DifferentSymbolsAreLeftToTheRuntimeGuard() => Verify.Analyze("""
        [Model]
        public partial class Configured
        {
            [Layer] readonly Linear a;
            [Layer] readonly Linear b;
            public Configured(int width, int hidden)
            {
                a = new Linear(width, hidden);
                b = new Linear(width, 3);
            }
            Tensor Forward(Tensor x) => b.Apply(a.Apply(x));
        }
        """);

    [Test]
    public Task SymbolicDimensions_SameSymbolAgainstAConstantIsLeftToTheRuntimeGuard() => Verify.Analyze("""
        [Model]
        public partial class Configured
        {
            [Layer] readonly Linear a;
            [Layer] readonly Linear b = new(16, 3);
            public Configured(int width) => a = new Linear(8, width);
            Tensor Forward(Tensor x) => b.Apply(a.Apply(x));
        }
        """);

    [Test]
    public Task SymbolicDimensions_ConstantsThroughSymbolsStillConflict() => Verify.Analyze("""
        [Model]
        public partial class Configured
        {
            [Layer] readonly Linear a;
            [Layer] readonly Linear {|#1:b|};
            public Configured(int width)
            {
                a = new Linear(8, width);
                b = {|#2:new Linear(9, 3)|};
            }
            Tensor Forward(Tensor x) => a.Apply(x) + {|#0:b.Apply|}(x);
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1).WithLocation(2)
            .WithArguments("Linear layer 'b' expects input […, 9] but 'x' has shape […, 8]; 'b' is declared at line 5, created at line 9"));

    [Test]
    public Task SymbolicDimensions_ConfigPropertiesFollowTheConfigIntoNestedModels() => Verify.Analyze("""
        public sealed record Sizes(int Hidden, int Intermediate);

        [Model]
        public partial class Layer
        {
            [Layer] readonly Linear up, down;
            public Layer(Sizes s)
            {
                up = new Linear(s.Hidden, s.Intermediate);
                down = new Linear(s.Intermediate, s.Hidden);
            }
            Tensor Forward(Tensor x) => x + down.Apply(Gelu(up.Apply(x)));
        }

        [Model]
        public partial class Encoder
        {
            [Layer] readonly Linear input;
            [Layer] readonly LayerList<Layer> layers;
            [Layer] readonly Linear head;
            public Encoder(Sizes sizes)
            {
                input = new Linear(16, sizes.Hidden);
                layers = LayerList<Layer>.Create(4, _ => new Layer(sizes));
                head = new Linear(sizes.Hidden, 2);
            }
            Tensor Forward(Tensor x)
            {
                var h = input.Apply(x);
                foreach (var layer in layers) h = layer.Apply(h);
                return head.Apply(h);
            }
        }
        """);

    // ---------- MG0006: element-wise shapes ----------

    [Test]
    public Task Gate_WithAnotherWidth() => Verify.Analyze("""
        [Model]
        public partial class Gate
        {
            [Layer] readonly Linear a = new(4, 8);
            [Layer] readonly Linear g = new(4, 6);
            Tensor Forward(Tensor x) => {|#0:a.Apply(x) * Sigmoid(g.Apply(x))|};
        }
        """,
        Verify.Diagnostic(Descriptors.ElementwiseShapes).WithLocation(0)
            .WithArguments("'*' cannot broadcast 'a.Apply(x)' of shape […, 8] with 'Sigmoid(g.Apply(x))' of shape […, 6]: dimension -1 is 8 against 6 (broadcast dimensions must be equal or 1)"));

    [Test]
    public Task GatedUnitAndNumbersOnEitherSide_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class Gate
        {
            [Layer] readonly Linear a = new(4, 8);
            [Layer] readonly Linear g = new(4, 8);
            Tensor Forward(Tensor x) => (1.0 - a.Apply(x) * Sigmoid(g.Apply(x))) / (Square(g.Apply(x)) + 1) - 0.5;
        }
        """);

    [Test]
    public Task Residual_WithAnotherWidth() => Verify.Analyze("""
        [Model]
        public partial class Residual
        {
            [Layer] readonly Linear fc1 = new(4, 8);
            [Layer] readonly Linear fc2 = new(8, 6);
            Tensor Forward(Tensor x)
            {
                var h = fc1.Apply(x);
                return {|#0:h + Gelu(fc2.Apply(h))|};
            }
        }
        """,
        Verify.Diagnostic(Descriptors.ElementwiseShapes).WithLocation(0)
            .WithArguments("'+' cannot broadcast 'h' of shape […, 8] with 'Gelu(fc2.Apply(h))' of shape […, 6]: dimension -1 is 8 against 6 (broadcast dimensions must be equal or 1)"));

    [Test]
    public Task Subtract_RanksDiffer() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:x.Reshape(2, 3) - x.Reshape(2, 3, 1)|};
        }
        """,
        Verify.Diagnostic(Descriptors.ElementwiseShapes).WithLocation(0)
            .WithArguments("'-' cannot broadcast 'x.Reshape(2, 3)' of shape [2, 3] with 'x.Reshape(2, 3, 1)' of shape [2, 3, 1]: dimension -2 is 2 against 3 (broadcast dimensions must be equal or 1)"));

    [Test]
    public Task ElementwiseOfEqualShapes_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class FanOut
        {
            [Layer] readonly Linear fc1 = new(5, 7);
            [Layer] readonly Linear fc2 = new(7, 3);
            Tensor Forward(Tensor x, Tensor y)
            {
                var h = fc1.Apply(x);
                return fc2.Apply(Tanh(h) + Sigmoid(h) - y);
            }
        }
        """);

    [Test]
    public Task Elementwise_TensorPlusScalarTensor_Broadcasts() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(5, 3);
            Tensor Forward(Tensor x) => fc.Apply(x) + Sum(x);
        }
        """);

    [Test]
    public Task Broadcast_CompatibleShapes_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(5, 1);
            Tensor Forward(Tensor a, Tensor b) => a.Reshape(3, 1, 5) * fc.Apply(b.Reshape(4, 5)) + Maximum(a.Reshape(3, 1, 1, 5), a.Reshape(1, 15).Reshape(3, 1, 5)) - a.Reshape(5, 3).Reshape(15).Reshape(3, 5).Reshape(3, 1, 5);
        }
        """);

    [Test]
    public Task Broadcast_LeadingDimensionsDisagree() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:x.Reshape(2, 3, 4) / x.Reshape(4, 1, 4)|};
        }
        """,
        Verify.Diagnostic(Descriptors.ElementwiseShapes).WithLocation(0)
            .WithArguments("'/' cannot broadcast 'x.Reshape(2, 3, 4)' of shape [2, 3, 4] with 'x.Reshape(4, 1, 4)' of shape [4, 1, 4]: dimension -3 is 2 against 4 (broadcast dimensions must be equal or 1)"));

    // ---------- MatMul, Transpose, Permute, reductions over a dim ----------

    [Test]
    public Task MatMul_InnerDimensionsDiffer() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear q = new(8, 16);
            [Layer] readonly Linear k = new(8, 12);
            Tensor Forward(Tensor x, Tensor y) => {|#0:MatMul(q.Apply(x), Transpose(k.Apply(y.Reshape(5, 8)), 0, 1))|};
        }
        """,
        Verify.Diagnostic(Descriptors.MatMulInner).WithLocation(0)
            .WithArguments("MatMul of 'q.Apply(x)' of shape […, 16] and 'Transpose(k.Apply(y.Reshape(5, 8)), 0, 1)' of shape [12, 5]: the inner dimensions 16 and 12 differ (a's last must equal b's second-to-last)"));

    [Test]
    public Task MatMul_BatchDimensionsDoNotBroadcast() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:MatMul(x.Reshape(2, 3, 4), x.Reshape(3, 4, 2))|};
        }
        """,
        Verify.Diagnostic(Descriptors.AttentionOperands).WithLocation(0)
            .WithArguments("MatMul of 'x.Reshape(2, 3, 4)' of shape [2, 3, 4] and 'x.Reshape(3, 4, 2)' of shape [3, 4, 2]: the batch dimensions [2] and [3] do not broadcast (batch dimension -1 is 2 against 3)"));

    [Test]
    public Task MatMul_WithTransposeAndBroadcastBatches_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear q = new(8, 16);
            [Layer] readonly Linear k = new(8, 16);
            [Layer] readonly Linear head = new(5, 2);
            Tensor Forward(Tensor x) => head.Apply(MatMul(q.Apply(x.Reshape(3, 1, 5, 8)), Transpose(k.Apply(x.Reshape(4, 5, 8)), -2, -1)));
        }
        """);

    [Test]
    public Task Transpose_DimOutOfRange() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:Transpose(x.Reshape(2, 3), 0, 2)|};
        }
        """,
        Verify.Diagnostic(Descriptors.DimRange).WithLocation(0)
            .WithArguments("Transpose: dim 2 is out of range for 'x.Reshape(2, 3)', which has 2 dimensions (dims -2 to 1)"));

    [Test]
    public Task Permute_NotAPermutation() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:Permute(x.Reshape(2, 3, 4), 0, 1, 1)|};
        }
        """,
        Verify.Diagnostic(Descriptors.DimRange).WithLocation(0)
            .WithArguments("Permute(0, 1, 1) is not a permutation of the 3 dimensions of 'x.Reshape(2, 3, 4)' (each of 0 to 2 exactly once)"));

    [Test]
    public Task Sum_DimOutOfRange() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:Sum(x.Reshape(6), -2)|};
        }
        """,
        Verify.Diagnostic(Descriptors.DimRange).WithLocation(0)
            .WithArguments("Sum: dim -2 is out of range for 'x.Reshape(6)' of shape [6] (dims -1 to 0)"));

    [Test]
    public Task ReductionFeedsALinearOfTheWrongWidth() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear {|#1:fc = new(4, 2)|};
            Tensor Forward(Tensor x) => {|#0:fc.Apply|}(Mean(x.Reshape(2, 3, 4), 2, keepDim: true));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'fc' expects input […, 4] but 'Mean(x.Reshape(2, 3, 4), 2, keepDim: true)' has shape [2, 3, 1]; 'fc' is declared at line 4"));

    [Test]
    public Task TiedHead_WithAnotherWidth() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Embedding wte = new(100, 16);
            [Layer] readonly Linear mix = new(16, 12);
            Tensor Forward(Tensor ids) => {|#0:MatMul(mix.Apply(wte.Apply(ids)), Transpose(wte.Weight, 0, 1))|};
        }
        """,
        Verify.Diagnostic(Descriptors.MatMulInner).WithLocation(0)
            .WithArguments("MatMul of 'mix.Apply(wte.Apply(ids))' of shape […, 12] and 'Transpose(wte.Weight, 0, 1)' of shape [16, 100]: the inner dimensions 12 and 16 differ (a's last must equal b's second-to-last)"));

    // ---------- [Parameter] tensors: their initializer's shape ----------

    [Test]
    public Task ParameterTensor_ThatDoesNotBroadcast() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Parameter] readonly Tensor pos = Init.Normal([4, 5], std: 0.02);
            Tensor Forward(Tensor x) => {|#0:x.Reshape(3, 5) + pos|};
        }
        """,
        Verify.Diagnostic(Descriptors.ElementwiseShapes).WithLocation(0)
            .WithArguments("'+' cannot broadcast 'x.Reshape(3, 5)' of shape [3, 5] with 'pos' of shape [4, 5]: dimension -2 is 3 against 4 (broadcast dimensions must be equal or 1)"));

    [Test]
    public Task ParameterTensor_IntoALinearOfAnotherWidth() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Parameter] readonly Tensor cls = Tensor.Zeros(1, 7);
            [Layer] readonly Linear {|#1:fc = new(5, 3)|};
            Tensor Forward(Tensor x) => {|#0:fc.Apply|}(cls) + x;
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'fc' expects input […, 5] but 'cls' has shape [1, 7]; 'fc' is declared at line 5"));

    [Test]
    public Task ParameterTensor_WithConstructorDimensions_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc;
            [Parameter] readonly Tensor scale;
            [Buffer] readonly Tensor mask = Tensor.From(new float[] { 1, 0, 1 }, 3);
            public M(int width)
            {
                fc = new(5, width);
                scale = Tensor.Ones(width);
            }
            Tensor Forward(Tensor x) => fc.Apply(x) * scale + mask.Reshape(3, 1);
        }
        """);

    [Test]
    public Task Broadcast_SymbolicWidthAgainstAnotherConstant_IsLeftToTheRuntimeGuard() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc;
            public M(int width) { fc = new(5, width); }
            Tensor Forward(Tensor x, Tensor y) => fc.Apply(x) * y.Reshape(7);
        }
        """);

    // ---------- MG0007: reshape element count ----------

    [Test]
    public Task Reshape_DifferentCount() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:x.Reshape(4, 6).Reshape(5, 5)|};
        }
        """,
        Verify.Diagnostic(Descriptors.ReshapeCount).WithLocation(0)
            .WithArguments("cannot reshape 'x.Reshape(4, 6)' of shape [4, 6] to (5, 5): 24 elements cannot become 25"));

    [Test]
    public Task Reshape_MinusOneDoesNotDivide() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:x.Reshape(4, 6).Reshape(-1, 5)|};
        }
        """,
        Verify.Diagnostic(Descriptors.ReshapeCount).WithLocation(0)
            .WithArguments("cannot reshape 'x.Reshape(4, 6)' of shape [4, 6] to (-1, 5): 24 elements are not a multiple of 5"));

    [Test]
    public Task Reshape_SameCount_NoDiagnostics() => Verify.Analyze("""
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
                return head.Apply(Flatten(Sigmoid(fc2.Apply(h)))) + x.Reshape(4, 6).Reshape(3, 8).Reshape(-1, 3) * 0;
            }
        }
        """,
        // [?, 3] + [8, 3]: the batch of the first is unknown, so only the runtime can tell
        System.Array.Empty<Microsoft.CodeAnalysis.Testing.DiagnosticResult>());

    [Test]
    public Task Reshape_AfterALinearIsCheckedThroughTheInferredDimension() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(24, 12);
            [Layer] readonly Linear {|#1:head = new(5, 2)|};
            Tensor Forward(Tensor x) => {|#0:head.Apply|}(fc.Apply(x.Reshape(-1, 24)).Reshape(-1, 3, 4));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'head' expects input […, 5] but 'fc.Apply(x.Reshape(-1, 24)).Reshape(-1, 3, 4)' has shape [?, 3, 4]; 'head' is declared at line 5"));

    // ---------- MG0010: MSE target ----------

    [Test]
    public Task Mse_TargetOfAnotherShape() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(5, 4);
            [Layer] readonly Linear other = new(5, 3);
            Tensor Forward(Tensor x) => {|#0:MseLoss(fc.Apply(x), other.Apply(x))|};
        }
        """,
        Verify.Diagnostic(Descriptors.MseTarget).WithLocation(0)
            .WithArguments("MseLoss needs a target of the prediction's shape but prediction 'fc.Apply(x)' has shape […, 4] and target 'other.Apply(x)' has shape […, 3]"));

    [Test]
    public Task Mse_TargetFromAnInput_NoDiagnostics() => Verify.Analyze("""
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
        """);

    // ---------- MG0017: blocks that change the shape ----------

    [Test]
    public Task BlockList_BlocksChangeTheShape() => Verify.Analyze("""
        [Model]
        public partial class Narrow
        {
            [Layer] readonly Linear fc = new(8, 4);
            Tensor Forward(Tensor x) => fc.Apply(x);
        }

        [Model]
        public partial class Stack
        {
            [Layer] readonly LayerList<Narrow> {|#1:blocks = LayerList<Narrow>.Create(2, _ => new Narrow())|};
            Tensor Forward(Tensor x)
            {
                var h = x;
                foreach (var b in blocks) h = {|#0:b.Apply|}(h);
                return h;
            }
        }
        """,
        Verify.Diagnostic(Descriptors.BlockListShape).WithLocation(0).WithLocation(1)
            .WithArguments("the blocks of 'blocks' turn […, 8] into […, 4], so every block after the first would get the wrong shape; 'blocks' is declared at line 11"));
}
