namespace ModelGen.Analyzers.Tests;

/// <summary>MG0030: dtypes decided at compile time — a floating-point value as a mask, integer ids used as numbers, numbers
/// looked up as ids — reported at the op with the argument named; and no report for what is well typed.</summary>
public sealed class DTypeDiagnosticTests
{
    [Test]
    public Task FloatMaskOfMaskedFill() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 4);
            Tensor Forward(Tensor x) => {|#0:MaskedFill(x, fc.Apply(x), -1e9)|};
        }
        """,
        Verify.Diagnostic(Descriptors.DType).WithLocation(0)
            .WithArguments("MaskedFill's mask must be a Bool tensor, but 'fc.Apply(x)' is a floating-point tensor (compare it, such as m > 0, to make a Bool mask)"));

    [Test]
    public Task IdsAlsoUsedAsNumbers() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Embedding table = new(10, 4);
            Tensor Forward(Tensor ids) => table.Apply(ids) * {|#0:(ids + 1)|};
        }
        """,
        Verify.Diagnostic(Descriptors.DType).WithLocation(0)
            .WithArguments("'ids' holds integer indices (it is the ids of Embedding 'table') and cannot also be an operand of '+': pass the numbers as another input, or convert them outside the model"));

    [Test]
    public Task NumbersLookedUpAsIds() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 4);
            [Layer] readonly Embedding table = new(10, 4);
            Tensor Forward(Tensor x) => {|#0:table.Apply|}(fc.Apply(x));
        }
        """,
        Verify.Diagnostic(Descriptors.DType).WithLocation(0)
            .WithArguments("the ids of Embedding 'table' must hold integers, but 'fc.Apply(x)' is a floating-point tensor"));

    [Test]
    public Task WellTypedMasksAndIds_AreNotReported() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Embedding table = new(10, 4);
            Tensor Forward(Tensor ids, Tensor padding, Tensor x)
                => Where(x > 0, MaskedFill(table.Apply(ids.Reshape(-1)), padding, 0.0), x * (1.0 - padding)) + Eq(x, 1.0);
        }
        """);
}
