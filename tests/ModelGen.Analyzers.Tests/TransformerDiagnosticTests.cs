namespace ModelGen.Analyzers.Tests;

/// <summary>LayerNorm, attention and first-token pooling: MG0002, MG0005, MG0008, MG0018, and a BERT-style encoder
/// (residuals, LayerNorm, attention, a block list) with no diagnostics.</summary>
public sealed class TransformerDiagnosticTests
{
    private const string Encoder = """
        [Model]
        public partial class EncoderBlock
        {
            readonly int heads = HEADS;
            [Layer] readonly Linear query = new(8, 8);
            [Layer] readonly Linear key = new(8, 8);
            [Layer] readonly Linear value = new(8, 8);
            [Layer] readonly Linear attentionOutput = new(8, 8);
            [Layer] readonly LayerNorm attentionNorm = new(8, 1e-12);
            [Layer] readonly Linear intermediate = new(8, 16);
            [Layer] readonly Linear output = new(16, 8);
            [Layer] readonly LayerNorm outputNorm = new(8, 1e-12);

            Tensor Forward(Tensor h, Tensor mask)
            {
                var context = ATTENTION;
                var a = attentionNorm.Apply(attentionOutput.Apply(context) + h);
                return outputNorm.Apply(output.Apply(Gelu(intermediate.Apply(a))) + a);
            }
        }

        [Model]
        public partial class TinyBert
        {
            [Layer] readonly Embedding words = new(20, WORDDIM, paddingIndex: 0);
            [Layer] readonly Embedding positions = new(6, 8);
            [Layer] readonly LayerNorm embeddingNorm = new(8, 1e-12);
            [Layer] readonly LayerList<EncoderBlock> layers = LayerList<EncoderBlock>.Create(2, _ => new EncoderBlock());
            [Layer] readonly Linear pooler = new(8, 8);
            [Layer] readonly Linear classifier = new(8, 3);

            Tensor Forward(Tensor ids, Tensor positionIds, Tensor mask)
            {
                var h = embeddingNorm.Apply(words.Apply(ids) + positions.Apply(positionIds));
                foreach (var layer in layers) h = layer.Apply(h, mask);
                return classifier.Apply(Tanh(pooler.Apply(FirstToken(h))));
            }
        }
        """;

    private static string Bert(string heads = "2", string attention = "Attention(query.Apply(h), key.Apply(h), value.Apply(h), mask, heads)", string wordDim = "8")
        => Encoder.Replace("HEADS", heads).Replace("ATTENTION", attention).Replace("WORDDIM", wordDim);

    [Test]
    public Task TinyBert_NoDiagnostics() => Verify.Analyze(Bert());

    [Test]
    public Task HeadsDoNotDivideTheHiddenSize() => Verify.Analyze(Bert(heads: "3", attention: "{|#0:Attention(query.Apply(h), key.Apply(h), value.Apply(h), mask, heads)|}"),
        Verify.Diagnostic(Descriptors.HeadsDivide).WithLocation(0)
            .WithArguments("Attention with 3 heads needs a hidden size divisible by 3 but the hidden size is 8"));

    [Test]
    public Task HeadsAsALiteral() => Verify.Analyze(Bert(attention: "{|#0:Attention(query.Apply(h), key.Apply(h), value.Apply(h), mask, 5)|}"),
        Verify.Diagnostic(Descriptors.HeadsDivide).WithLocation(0)
            .WithArguments("Attention with 5 heads needs a hidden size divisible by 5 but the hidden size is 8"));

    [Test]
    public Task AttentionOperandsOfDifferentWidths() => Verify.Analyze(
        Bert(attention: "{|#0:Attention(query.Apply(h), key.Apply(h), intermediate.Apply(h), mask, heads)|}"),
        Verify.Diagnostic(Descriptors.UnusedLayer).WithSpan("/0/Test1.cs", 7, 29, 7, 34).WithArguments("value"),
        Verify.Diagnostic(Descriptors.AttentionOperands).WithLocation(0)
            .WithArguments("Attention needs query, key and value of one shape [batch, seq, hidden] but value 'intermediate.Apply(h)' has shape [?, ?, 16] and the query [?, ?, 8]"));

    [Test]
    public Task EmbeddingWidthDisagreesWithTheResidual() => Verify.Analyze(Bert(wordDim: "{|#1:16|}").Replace(
            "var h = embeddingNorm.Apply(words.Apply(ids) + positions.Apply(positionIds));",
            "var h = embeddingNorm.Apply({|#0:words.Apply(ids) + positions.Apply(positionIds)|});"),
        Verify.Diagnostic(Descriptors.ElementwiseShapes).WithLocation(0)
            .WithArguments("'+' cannot broadcast 'words.Apply(ids)' of shape […, 16] with 'positions.Apply(positionIds)' of shape […, 8]: dimension -1 is 16 against 8 (broadcast dimensions must be equal or 1)"));

    [Test]
    public Task LayerNormOfAnotherSize() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 6);
            [Layer] readonly LayerNorm {|#1:norm = new(8)|};
            Tensor Forward(Tensor x) => {|#0:norm.Apply|}(fc.Apply(x));
        }
        """,
        Verify.Diagnostic(Descriptors.LayerNormInput).WithLocation(0).WithLocation(1)
            .WithArguments("LayerNorm layer 'norm' normalises […, 8] but 'fc.Apply(x)' has shape […, 6]; 'norm' is declared at line 5"));

    [Test]
    public Task FirstTokenOfAMatrix() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:FirstToken(x.Reshape(4, 6))|};
        }
        """,
        Verify.Diagnostic(Descriptors.Rank).WithLocation(0)
            .WithArguments("FirstToken needs [batch, seq, hidden] but 'x.Reshape(4, 6)' has shape [4, 6]"));
}
