using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The Sentiment sample in --quick mode: imports MiniLM, fine-tunes two epochs on 960 sentences with dynamic
/// padding, must reach an accuracy floor a broken model cannot, saves with SavePretrained and classifies the example
/// sentences, each with its expected label, through the pipeline loaded from disk.</summary>
public class SentimentSampleTests
{
    /// <summary>The floor of --quick (2 epochs on 960 training sentences, tested on 320; seed 42). Calibrated over seeds
    /// 42, 43 and 44 on 2026-12-03: 91.56%, 90.31% and 92.19% after epoch 2 (all seven example sentences right in each).
    /// A model that predicts one class scores 50% on the stratified split; one that cannot learn stays near chance.
    /// The floor sits about 10 points below the lowest calibrated run, far above chance.</summary>
    private const double AccuracyFloor = 80;

    private static readonly (string, string)[] Expected =
    [
        ("I love NLP!", "POSITIVE"),
        ("This movie was absolutely wonderful, I enjoyed every minute of it.", "POSITIVE"),
        ("The food was delicious and the staff were friendly.", "POSITIVE"),
        ("Great phone, the battery lasts for days.", "POSITIVE"),
        ("This is the worst phone I have ever bought.", "NEGATIVE"),
        ("Terrible service, I will never come back.", "NEGATIVE"),
        ("The plot was boring and the acting was awful.", "NEGATIVE"),
    ];

    [Test]
    public void Sentiment_Quick_TrainsSavesAndClassifies()
    {
        var dll = Path.Combine(Repo.Root, "samples", "Sentiment", "bin", Repo.Configuration, "net10.0", "Sentiment.dll");
        var output = Path.Combine(Path.GetTempPath(), "modelgen-sentiment-" + Guid.NewGuid().ToString("N"));
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --quick --output \"{output}\"", Repo.Root, timeoutSeconds: 900);
        TestContext.Out.WriteLine(text);
        Assert.That(code, Is.EqualTo(0), text);
        var epochs = Regex.Matches(text, @"^epoch (\d+): test accuracy (\d+\.\d{2})%", RegexOptions.Multiline);
        Assert.That(epochs.Select(m => m.Groups[1].Value), Is.EqualTo(new[] { "1", "2" }), "one accuracy line per epoch");
        var epoch = epochs[^1];
        double accuracy = double.Parse(epoch.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(AccuracyFloor), $"--quick accuracy {accuracy}% is under the floor {AccuracyFloor}%: the model is broken");
        var predictions = Regex.Matches(text, "^\"(.+)\" -> (POSITIVE|NEGATIVE) \\((0\\.\\d{4}|1\\.0000)\\)$", RegexOptions.Multiline);
        Assert.That(predictions.Count, Is.EqualTo(7), "one line per example sentence");
        Assert.That(predictions.Select(p => (p.Groups[1].Value, p.Groups[2].Value)), Is.EqualTo(Expected), "every example sentence gets its label");
        foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt" })
            Assert.That(File.Exists(Path.Combine(output, "model", file)), Is.True, file);
        Directory.Delete(output, recursive: true);
    }
}
