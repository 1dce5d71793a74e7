namespace ModelGen.IntegrationTests;

/// <summary>Packs ModelGen with a unique version and consumes it from a fresh console project through a local folder
/// feed (dependencies such as ILGPU from nuget.org) and a private NUGET_PACKAGES folder (so no cached copy is used), as a user would.</summary>
public class PackageTests
{
    private const string Program = """
        using ModelGen;
        using ModelGen.Optim;

        var rng = new Random(7);
        const int n = 64;
        var xs = new float[n * 3];
        var ys = new float[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < 3; j++) xs[i * 3 + j] = (float)(rng.NextDouble() * 2 - 1);
            ys[i] = 0.5f * xs[i * 3] - 2f * xs[i * 3 + 1] + xs[i * 3 + 2] * xs[i * 3 + 2];
        }
        using var x = Tensor.From(xs, n, 3);
        using var y = Tensor.From(ys, n, 1);
        using var model = new Regressor(Device.Cpu, seed: 1);
        var optimizer = new Adam(model.Parameters, lr: 0.01);
        for (int step = 0; step < 20; step++)
        {
            double loss = model.Mse(x, y);
            Console.WriteLine($"step {step}: loss {loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
            model.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }

        [Model]
        public partial class Regressor
        {
            [Layer] readonly Linear hidden = new(3, 32);
            [Layer] readonly Linear output = new(32, 1);
            Tensor Forward(Tensor x) => output.Apply(Tanh(hidden.Apply(x)));
        }
        """;

    [Test]
    public void PackedNuGet_CompilesAndTrainsAModelInAFreshProject()
    {
        var project = FreshPackageProject.Create("modelgen-package", "test", "App");
        Assert.That(File.Exists(Path.Combine(project.Feed, $"ModelGen.{project.Version}.nupkg")), Is.True, "the package");
        Assert.That(File.Exists(Path.Combine(project.Feed, $"ModelGen.{project.Version}.snupkg")), Is.True, "symbols package");
        File.WriteAllText(Path.Combine(project.App, "Program.cs"), Program);

        var (runCode, runOut) = Repo.Run("dotnet", "run -c Release", project.App, project.Environment);
        TestContext.Out.WriteLine(runOut);
        Assert.That(runCode, Is.EqualTo(0), runOut);
        Assert.That(Directory.Exists(Path.Combine(project.Packages, "modelgen", project.Version)), Is.True, "restored from the local feed into the private folder");
        var losses = System.Text.RegularExpressions.Regex.Matches(runOut, @"step \d+: loss (\S+)")
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(losses, Has.Count.EqualTo(20));
        Assert.That(losses[^1], Is.LessThan(losses[0] * 0.5), "the loss falls");
        Directory.Delete(project.Work, recursive: true);
    }
}
