using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The FashionCnn sample: --quick trains one epoch on 5,000 images (loss falls, accuracy above 70%, the
/// reloaded model with its BatchNorm statistics scores the same). The shape check of its head is in SampleAnalyzerTests.</summary>
public class CnnSampleTests
{
    [Test]
    public void FashionCnn_Quick_LossFallsAndAccuracyBeats70Percent()
    {
        if (!Directory.Exists("/usr/share/datasets/fashion-mnist"))
            Assert.Fail("Fashion-MNIST is missing: install the Debian package dataset-fashion-mnist (.ci/run does).");
        var dll = Path.Combine(Repo.Root, "samples", "FashionCnn", "bin", Repo.Configuration, "net10.0", "FashionCnn.dll");
        var output = Path.Combine(Path.GetTempPath(), "modelgen-cnn-" + Guid.NewGuid().ToString("N"));
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --quick --output \"{output}\"", Repo.Root);
        TestContext.Out.WriteLine(text);
        Assert.That(code, Is.EqualTo(0), text);
        Assert.That(text, Does.Contain("device: cpu, 5000 training and 2000 test images, batch 64, 1 epoch(s), Trainer"));
        double first = double.Parse(Regex.Match(text, @"first batch: loss (\d+\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var epoch = Regex.Match(text, @"^epoch 1: train loss (\d+\.\d{4}), test accuracy (\d+\.\d{2})%, \d+\.\d s$", RegexOptions.Multiline);
        Assert.That(epoch.Success, Is.True, "the epoch line has the documented format");
        double trainLoss = double.Parse(epoch.Groups[1].Value, CultureInfo.InvariantCulture);
        double accuracy = double.Parse(epoch.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.That(trainLoss, Is.LessThan(first * 0.6), "the loss falls");
        Assert.That(accuracy, Is.GreaterThan(70));
        var reloaded = Regex.Match(text, @"^reloaded: test accuracy (\d+\.\d{2})%$", RegexOptions.Multiline);
        Assert.That(reloaded.Groups[1].Value, Is.EqualTo(epoch.Groups[2].Value), "the reloaded model (weights and running statistics) gives the same accuracy");
        // the safetensors header (8-byte length, then JSON) names the BatchNorm buffers next to the parameters
        var bytes = File.ReadAllBytes(Path.Combine(output, "model.safetensors"));
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
        Assert.That(header, Does.Contain("\"bn1.running_mean\"").And.Contain("\"bn2.running_var\"").And.Contain("\"bn2.num_batches_tracked\"").And.Contain("\"conv2.weight\""));
        var checkpoint = Directory.GetDirectories(output, "checkpoint-*").Single();
        Assert.That(File.Exists(Path.Combine(checkpoint, "model.safetensors")), Is.True);
        Directory.Delete(output, recursive: true);
    }

    [Test]
    public void FashionCnn_Help_And_AMissingGpu()
    {
        var dll = Path.Combine(Repo.Root, "samples", "FashionCnn", "bin", Repo.Configuration, "net10.0", "FashionCnn.dll");
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --help", Repo.Root);
        Assert.That(code, Is.EqualTo(0), text);
        Assert.That(text, Does.Contain("--epochs N").And.Contain("--batch-size N").And.Contain("--quick"));
        // the CNN runs on the ILGPU engine too (ModelGen.Ilgpu.Tests compares it with the CPU engine); asked for a GPU that
        // is not there, it says what the driver reported instead of a stack trace
        var (gpuCode, gpuText) = Repo.Run("dotnet", $"\"{dll}\" --device cuda:7 --quick", Repo.Root);
        Assert.That(gpuCode, Is.EqualTo(2), gpuText);
        Assert.That(gpuText, Does.Contain("No CUDA device 7").And.Contain("NVIDIA driver library").And.Contain("MODELGEN_DEVICE=cpu"));
        Assert.That(gpuText, Does.Not.Contain("   at "), "no stack trace");
    }
}
