using System.Diagnostics;
using System.Text;

namespace ModelGen.Analyzers.Tests;

/// <summary>How long the analyzer takes on a 24-layer transformer (BERT-base sizes: hidden 768, 12 heads, FFN 3072),
/// each layer its own [Layer] field so that every layer is checked by inlining its encoder block. Printed, not
/// asserted (timed asserts are flaky on shared machines); the target is under 200 ms.</summary>
public sealed class AnalyzerBenchmark
{
    public static string Transformer(int layers)
    {
        var s = new StringBuilder();
        s.AppendLine("""
            [Model]
            public partial class EncoderLayer
            {
                readonly int heads = 12;
                [Layer] readonly Linear query = new(768, 768);
                [Layer] readonly Linear key = new(768, 768);
                [Layer] readonly Linear value = new(768, 768);
                [Layer] readonly Linear attentionOutput = new(768, 768);
                [Layer] readonly LayerNorm attentionNorm = new(768);
                [Layer] readonly Linear intermediate = new(768, 3072);
                [Layer] readonly Linear output = new(3072, 768);
                [Layer] readonly LayerNorm outputNorm = new(768);
                [Layer] readonly Dropout drop = new(0.1);

                Tensor Forward(Tensor h, Tensor mask)
                {
                    var context = Attention(query.Apply(h), key.Apply(h), value.Apply(h), mask, heads);
                    var a = attentionNorm.Apply(drop.Apply(attentionOutput.Apply(context)) + h);
                    return outputNorm.Apply(drop.Apply(output.Apply(Gelu(intermediate.Apply(a)))) + a);
                }
            }

            [Model]
            public partial class Transformer
            {
                [Layer] readonly Embedding words = new(30522, 768, paddingIndex: 0);
                [Layer] readonly Embedding positions = new(512, 768);
                [Layer] readonly LayerNorm embeddingNorm = new(768);
            """);
        for (int i = 0; i < layers; i++) s.AppendLine($"    [Layer] readonly EncoderLayer layer{i} = new();");
        s.AppendLine("""
                [Layer] readonly Linear pooler = new(768, 768);
                [Layer] readonly Linear classifier = new(768, 2);

                Tensor Forward(Tensor ids, Tensor positionIds, Tensor mask)
                {
                    var h = embeddingNorm.Apply(words.Apply(ids) + positions.Apply(positionIds));
            """);
        for (int i = 0; i < layers; i++) s.AppendLine($"        h = layer{i}.Apply(h, mask);");
        s.AppendLine("""
                    return classifier.Apply(Tanh(pooler.Apply(FirstToken(h))));
                }
            }
            """);
        return s.ToString();
    }

    [Test]
    public async Task TwentyFourLayerTransformer()
    {
        var compilation = CompilationHarness.Create(Transformer(24));
        // the generator's output is part of what the IDE analyses; the analyzer is what is timed
        var (generator, analyzer, exceptions) = await CompilationHarness.RunAsync(compilation);
        Assert.That(exceptions, Is.Empty);
        Assert.That(analyzer, Is.Empty, string.Join("\n", analyzer));
        var output = CompilationHarness.Generate(compilation);
        Assert.That(output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error), Is.Empty);

        // The analyzer's own time, as the compiler measures it (the build or the IDE binds the compilation anyway), and
        // the wall time of a whole analysis pass over a fresh copy of the compilation, which includes binding every
        // method body of the user's and the generated code.
        var own = new List<double>();
        var wall = new List<double>();
        for (int i = 0; i < 12; i++)
        {
            var fresh = output.RemoveAllSyntaxTrees().AddSyntaxTrees(output.SyntaxTrees);
            var withAnalyzer = CompilationHarness.WithAnalyzer(fresh, null, logTime: true);
            var sw = Stopwatch.StartNew();
            var diagnostics = await withAnalyzer.GetAnalyzerDiagnosticsAsync();
            sw.Stop();
            Assert.That(diagnostics, Is.Empty);
            var telemetry = await withAnalyzer.GetAnalyzerTelemetryInfoAsync(withAnalyzer.Analyzers[0], default);
            if (i < 3) continue; // warm-up (JIT)
            own.Add(telemetry.ExecutionTime.TotalMilliseconds);
            wall.Add(sw.Elapsed.TotalMilliseconds);
        }
        own.Sort();
        wall.Sort();
        var line = $"ModelAnalyzer on a 24-layer transformer: analyzer execution time median {own[own.Count / 2]:F1} ms (min {own[0]:F1}, max {own[^1]:F1}); " +
                   $"whole pass including binding the compilation median {wall[wall.Count / 2]:F1} ms (target < 200 ms for the analyzer)";
        TestContext.Out.WriteLine(line);
        Console.WriteLine(line);
    }

    [Test]
    public async Task TwentyFourLayerTransformer_WithAMismatchInTheLastLayer()
    {
        var source = Transformer(24).Replace("        h = layer23.Apply(h, mask);", "        h = layer23.Apply(h.Reshape(-1, 4, 192) + h.Reshape(-1, 4, 192), mask);");
        var (_, analyzer, exceptions) = await CompilationHarness.RunAsync(CompilationHarness.Create(source));
        Assert.That(exceptions, Is.Empty);
        Assert.That(analyzer.Select(d => d.Id), Is.EqualTo(new[] { "MG0001" }), string.Join("\n", analyzer));
    }
}
