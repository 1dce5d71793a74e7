using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The Sentiment sample in --quick mode: imports MiniLM, fine-tunes one epoch on a few hundred sentences,
/// saves with SavePretrained and classifies through the pipeline loaded from disk.</summary>
public class SentimentSampleTests
{
    [Test]
    public void Sentiment_Quick_TrainsSavesAndClassifies()
    {
        var dll = Path.Combine(Repo.Root, "samples", "Sentiment", "bin", Repo.Configuration, "net10.0", "Sentiment.dll");
        var output = Path.Combine(Path.GetTempPath(), "modelgen-sentiment-" + Guid.NewGuid().ToString("N"));
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --quick --output \"{output}\"", Repo.Root, timeoutSeconds: 900);
        TestContext.Out.WriteLine(text);
        Assert.That(code, Is.EqualTo(0), text);
        var epoch = Regex.Match(text, @"^epoch 1: test accuracy (\d+\.\d{2})%", RegexOptions.Multiline);
        Assert.That(epoch.Success, Is.True, "the per-epoch accuracy line");
        Assert.That(double.Parse(epoch.Groups[1].Value, CultureInfo.InvariantCulture), Is.InRange(0, 100));
        var predictions = Regex.Matches(text, "^\"(.+)\" -> (POSITIVE|NEGATIVE) \\((0\\.\\d{4}|1\\.0000)\\)$", RegexOptions.Multiline);
        Assert.That(predictions.Count, Is.EqualTo(7), "one line per example sentence");
        Assert.That(predictions[0].Groups[1].Value, Is.EqualTo("I love NLP!"));
        foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt" })
            Assert.That(File.Exists(Path.Combine(output, "model", file)), Is.True, file);
        Directory.Delete(output, recursive: true);
    }
}
