using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The FashionCnn sample: --quick trains one epoch on 5,000 images (loss falls, accuracy above 70%, the
/// reloaded model with its BatchNorm statistics scores the same); and its model with the head sized for another image
/// fails `dotnet build` with MG0001 naming the 64·7·7 = 3136 features that Flatten makes.</summary>
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
    public void FashionCnn_Help_And_GpuDevices()
    {
        var dll = Path.Combine(Repo.Root, "samples", "FashionCnn", "bin", Repo.Configuration, "net10.0", "FashionCnn.dll");
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" --help", Repo.Root);
        Assert.That(code, Is.EqualTo(0), text);
        Assert.That(text, Does.Contain("--epochs N").And.Contain("--batch-size N").And.Contain("--quick"));
        var (gpuCode, gpuText) = Repo.Run("dotnet", $"\"{dll}\" --device ilgpu-cpu --quick", Repo.Root);
        Assert.That(gpuCode, Is.EqualTo(2), gpuText);
        Assert.That(gpuText, Does.Contain("runs on the CPU engine").And.Contain("use --device cpu"));
    }

    [Test]
    public void FashionCnn_HeadSizedForAnotherImage_FailsTheBuildNamingCxHxW()
    {
        var work = Directory.CreateTempSubdirectory("modelgen-cnn-build").FullName;
        File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(work, "Directory.Packages.props"), "<Project />");
        var src = Path.Combine(Repo.Root, "src");
        File.WriteAllText(Path.Combine(work, "Cnn.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{src}/Runtime/ModelGen.Runtime.csproj" />
                <ProjectReference Include="{src}/Generators/ModelGen.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                <ProjectReference Include="{src}/Analyzers/ModelGen.Analyzers.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
            </Project>
            """);
        var text = File.ReadAllText(Path.Combine(Repo.Root, "samples", "FashionCnn", "FashionCnnModel.cs"));
        const string head = "fc1 = new(64 * 7 * 7, 128)";
        int declaration = text.IndexOf(head, StringComparison.Ordinal);
        Assert.That(declaration, Is.GreaterThan(0), "the sample declares its head as " + head);
        text = text.Replace(head, "fc1 = new(64 * 8 * 8, 128)");
        File.WriteAllText(Path.Combine(work, "FashionCnnModel.cs"), text);
        var (useLine, useColumn) = LineColumn(text, text.IndexOf("fc1.Apply(", StringComparison.Ordinal));
        var (declLine, _) = LineColumn(text, declaration);

        var (code, output) = Repo.Run("dotnet", $"build -c {Repo.Configuration}", work);
        TestContext.Out.WriteLine(output);
        Assert.That(code, Is.Not.EqualTo(0), "the shape error fails the build");
        Assert.That(output, Does.Contain($"FashionCnnModel.cs({useLine},{useColumn}): error MG0001: Linear layer 'fc1' expects input […, 4096] but 'Flatten(h)' has shape [?, 3136]: " +
            $"Flatten makes C·H·W = 64·7·7 = 3136 features of [?, 64, 7, 7]; 'fc1' is declared at line {declLine}"), output);
        Assert.That(Regex.Matches(output, @"error MG\d{4}").Select(m => m.Value).Distinct(), Is.EqualTo(new[] { "error MG0001" }), "exactly the one mistake is reported");
        Directory.Delete(work, recursive: true);
    }

    private static (int Line, int Column) LineColumn(string text, int index)
    {
        int line = 1, column = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n') { line++; column = 1; }
            else column++;
        }
        return (line, column);
    }
}
