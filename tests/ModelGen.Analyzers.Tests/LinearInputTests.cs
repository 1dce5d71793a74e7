namespace ModelGen.Analyzers.Tests;

public sealed class LinearInputTests
{
    [Test]
    public Task FashionMlp_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class FashionMlp
        {
            [Layer] readonly Linear fc1 = new(784, 512);
            [Layer] readonly Linear fc2 = new(512, 512);
            [Layer] readonly Linear fc3 = new(512, 10);

            Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
        }
        """);

    [Test]
    public Task FashionMlp_LastLayerWith300Inputs() => Verify.Analyze("""
        [Model]
        public partial class FashionMlp
        {
            [Layer] readonly Linear fc1 = new(784, 512);
            [Layer] readonly Linear fc2 = new(512, 512);
            [Layer] readonly Linear {|#1:fc3 = new(300, 10)|};

            Tensor Forward(Tensor x) => {|#0:fc3.Apply|}(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithLocation(1)
            .WithArguments("Linear layer 'fc3' expects input […, 300] but 'Relu(fc2.Apply(Relu(…)))' has shape […, 512]; 'fc3' is declared at line 6"));
}
