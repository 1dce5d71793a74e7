using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

public class SampleTests
{
    [Test]
    public void FashionMnist_Quick_LossFallsAndAccuracyBeats70Percent()
    {
        if (!Directory.Exists("/usr/share/datasets/fashion-mnist"))
            Assert.Fail("Fashion-MNIST is missing: install the Debian package dataset-fashion-mnist (.ci/run does).");
        var dll = Path.Combine(Repo.Root, "samples", "FashionMnist", "bin", Repo.Configuration, "net10.0", "FashionMnist.dll");
        var output = Path.Combine(Path.GetTempPath(), "modelgen-sample-" + Guid.NewGuid().ToString("N"));
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --quick --output \"{output}\"", Repo.Root);
        TestContext.Out.WriteLine(text);
        Assert.That(code, Is.EqualTo(0), text);
        double first = double.Parse(Regex.Match(text, @"first batch: loss (\d+\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var epoch = Regex.Match(text, @"^epoch 1: train loss (\d+\.\d{4}), test accuracy (\d+\.\d{2})%, \d+\.\d s$", RegexOptions.Multiline);
        Assert.That(epoch.Success, Is.True, "the epoch line has the documented format");
        double trainLoss = double.Parse(epoch.Groups[1].Value, CultureInfo.InvariantCulture);
        double accuracy = double.Parse(epoch.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.That(trainLoss, Is.LessThan(first * 0.6), "the loss falls");
        Assert.That(accuracy, Is.GreaterThan(70));
        var reloaded = Regex.Match(text, @"^reloaded: test accuracy (\d+\.\d{2})%$", RegexOptions.Multiline);
        Assert.That(reloaded.Groups[1].Value, Is.EqualTo(epoch.Groups[2].Value), "the reloaded model gives the same accuracy");
        Assert.That(File.Exists(Path.Combine(output, "model.safetensors")), Is.True);
        var checkpoint = Directory.GetDirectories(output, "checkpoint-*").Single();
        Assert.That(File.Exists(Path.Combine(checkpoint, "model.safetensors")), Is.True);
        Assert.That(File.Exists(Path.Combine(checkpoint, "trainer_state.json")), Is.True);
        Assert.That(File.ReadAllLines(Path.Combine(output, "metrics.jsonl")), Is.Not.Empty);
        Assert.That(File.Exists(Path.Combine(output, "loss.png")), Is.True);
        Directory.Delete(output, recursive: true);
    }

    [Test]
    public void FashionMnist_ExplicitLoop_Quick()
    {
        var dll = Path.Combine(Repo.Root, "samples", "FashionMnist", "bin", Repo.Configuration, "net10.0", "FashionMnist.dll");
        var output = Path.Combine(Path.GetTempPath(), "modelgen-loop-" + Guid.NewGuid().ToString("N"));
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --loop --quick --output \"{output}\"", Repo.Root);
        Assert.That(code, Is.EqualTo(0), text);
        var epoch = Regex.Match(text, @"^epoch 1: train loss (\d+\.\d{4}), test accuracy (\d+\.\d{2})%, \d+\.\d s$", RegexOptions.Multiline);
        Assert.That(epoch.Success, Is.True, text);
        Assert.That(double.Parse(epoch.Groups[2].Value, CultureInfo.InvariantCulture), Is.GreaterThan(70));
        Assert.That(Regex.Match(text, @"^reloaded: test accuracy (\d+\.\d{2})%$", RegexOptions.Multiline).Groups[1].Value, Is.EqualTo(epoch.Groups[2].Value));
        Directory.Delete(output, recursive: true);
    }

    [Test]
    public void FashionMnist_MissingData_NamesThePackageAndTheOption()
    {
        var dll = Path.Combine(Repo.Root, "samples", "FashionMnist", "bin", Repo.Configuration, "net10.0", "FashionMnist.dll");
        var empty = Directory.CreateTempSubdirectory("modelgen-empty").FullName;
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --quick --data \"{empty}\"", Repo.Root,
            new Dictionary<string, string> { ["HOME"] = empty, ["MODELGEN_DATA"] = empty });
        if (Directory.Exists("/usr/share/datasets/fashion-mnist"))
        {
            // the Debian folder is always searched; with it installed the run succeeds from there
            Assert.That(code, Is.EqualTo(0), text);
            return;
        }
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(text, Does.Contain("dataset-fashion-mnist").And.Contain("--data"));
    }
}
