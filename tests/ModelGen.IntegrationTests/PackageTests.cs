using System.Globalization;
using System.Text.RegularExpressions;
using ModelGen.Testing;

namespace ModelGen.IntegrationTests;

/// <summary>The packages as users get them: all five packed by one <c>dotnet pack</c> (same version, symbols, their own
/// README), consumed from a local feed by fresh console projects. ModelGen alone trains an MLP with a build output of at
/// most 10 MB and no plotting, MPI, Protobuf or tokenizer assemblies; a project that references only the packages by
/// concern gets ModelGen, its generator and its analyzers transitively, writes PNG plots and trains under MPI.</summary>
public class PackageTests
{
    private const string MlpProgram = """
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

    /// <summary>Uses every package by concern, and ModelGen only through them: a [Model] (the generator comes with
    /// ModelGen, transitively), the tokenizer, the cleaner, plots, and MPI data-parallel training.</summary>
    private const string ConcernsProgram = """
        using ModelGen;
        using ModelGen.Data;
        using ModelGen.Distributed;
        using ModelGen.Plots;
        using ModelGen.Text.Cleaning;
        using ModelGen.Training;
        using ModelGen.Transformers;

        var mode = args[0];
        var output = args[1];
        var tokenizer = BertTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "token", "##ized"]);
        Console.WriteLine($"tokens: {tokenizer.Encode(TextCleaner.All.Clean("<b>Hello</b>   world tokenized"))}");

        using var backend = mode == "mpi" ? MpiBackend.FromLaunch() : SingleProcess.Instance;
        var rng = new Random(1);
        var data = Enumerable.Range(0, 1024).Select(_ => new[] { rng.NextSingle(), rng.NextSingle() })
            .Select(x => new LabeledImage(x, x[0] > x[1] ? 1 : 0)).ToList();
        using var model = new Classifier(Device.Cpu, seed: 1);
        var arguments = new TrainingArguments
        {
            OutputDir = output, PerDeviceTrainBatchSize = 32, NumTrainEpochs = 3, LearningRate = 0.01, ProgressBar = false,
            EvaluationStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.No, Distributed = backend,
        };
        var plots = new TrainingPlotsCallback();
        var result = Trainer.ForClassification(model, arguments, data, data, 2, 2, x => x.Pixels, x => x.Label,
            callbacks: mode == "plots" ? [plots] : [], output: TextWriter.Null).Train();
        if (backend.Rank == 0) Console.WriteLine($"trained on {backend.WorldSize} rank(s), {result.GlobalStep} steps, loss {result.TrainingLoss:F4}");
        Console.WriteLine($"plots written: {plots.Written.Count}");

        [Model]
        public partial class Classifier
        {
            [Layer] readonly Linear fc1 = new(2, 16);
            [Layer] readonly Linear fc2 = new(16, 2);
            Tensor Forward(Tensor x) => fc2.Apply(Relu(fc1.Apply(x)));
        }
        """;

    [Test]
    public void OneDotnetPack_MakesEveryPackage_WithSymbolsAndItsOwnReadme()
    {
        foreach (var id in FreshPackageProject.PackageIds)
        {
            var package = Path.Combine(FreshPackageProject.Feed, $"{id}.{FreshPackageProject.Version}.nupkg");
            Assert.That(File.Exists(package), Is.True, package);
            Assert.That(File.Exists(Path.ChangeExtension(package, ".snupkg")), Is.True, $"{id}: symbols package");
            using var zip = System.IO.Compression.ZipFile.OpenRead(package);
            var readme = new StreamReader(zip.GetEntry("README.md")!.Open()).ReadToEnd();
            Assert.That(readme, Does.StartWith($"# {id}\n"), $"{id} carries its own README");
            Assert.That(zip.Entries.Select(e => e.FullName), Does.Contain(id == "ModelGen" ? "lib/net10.0/ModelGen.Runtime.xml" : $"lib/net10.0/{id}.xml"), $"{id}: XML docs");
        }
    }

    [Test]
    public void ModelGenAlone_TrainsAnMlp_WithABuildOutputOfAtMost10MB_AndNoPlottingMpiProtobufOrTokenizers()
    {
        var project = FreshPackageProject.Create("modelgen-package", "App");
        File.WriteAllText(Path.Combine(project.App, "Program.cs"), MlpProgram);
        var (buildCode, buildOut) = Repo.Run("dotnet", "build -c Release", project.App, project.Environment);
        Assert.That(buildCode, Is.EqualTo(0), buildOut);
        Assert.That(Directory.Exists(Path.Combine(FreshPackageProject.Packages, "modelgen", FreshPackageProject.Version)), Is.True, "restored from the local feed into the private folder");

        var bin = Path.Combine(project.App, "bin", "Release", "net10.0");
        var files = Directory.GetFiles(bin, "*", SearchOption.AllDirectories);
        long bytes = files.Sum(f => new FileInfo(f).Length);
        var listing = string.Join("\n", files.Select(f => $"{new FileInfo(f).Length,12} {Path.GetRelativePath(bin, f)}"));
        TestContext.Out.WriteLine($"{bytes / 1e6:F1} MB in {files.Length} files:\n{listing}");
        Assert.That(bytes, Is.LessThanOrEqualTo(10_000_000), listing);
        foreach (var unwanted in new[] { "SkiaSharp", "HarfBuzz", "ScottPlot", "MPI", "msmpi", "Google.Protobuf", "Microsoft.ML.Tokenizers", "ModelGen.Transformers", "ModelGen.Text", "ModelGen.Plots", "ModelGen.Distributed" })
            Assert.That(files.Where(f => Path.GetFileName(f).Contains(unwanted, StringComparison.OrdinalIgnoreCase)), Is.Empty, $"{unwanted} is not in the output of an app that references ModelGen alone");

        var (runCode, runOut) = Repo.Run("dotnet", Path.Combine(bin, "App.dll"), project.App);
        TestContext.Out.WriteLine(runOut);
        Assert.That(runCode, Is.EqualTo(0), runOut);
        var losses = Regex.Matches(runOut, @"step \d+: loss (\S+)").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.That(losses, Has.Count.EqualTo(20));
        Assert.That(losses[^1], Is.LessThan(losses[0] * 0.5), "the loss falls");
        Directory.Delete(project.Work, recursive: true);
    }

    [Test]
    public void PackagesByConcern_BringModelGenTransitively_WritePlots_AndTrainUnderMpi()
    {
        var project = FreshPackageProject.Create("modelgen-concerns", "Concerns", "ModelGen.Transformers", "ModelGen.Text", "ModelGen.Plots", "ModelGen.Distributed");
        File.WriteAllText(Path.Combine(project.App, "Program.cs"), ConcernsProgram);
        var (buildCode, buildOut) = Repo.Run("dotnet", "build -c Release", project.App, project.Environment);
        Assert.That(buildCode, Is.EqualTo(0), buildOut);
        var dll = Path.Combine(project.App, "bin", "Release", "net10.0", "Concerns.dll");

        // plots: loss.png and metrics.png, written by ModelGen.Plots' callback
        var plotsDir = Path.Combine(project.Work, "plots-run");
        var (plotsCode, plotsOut) = Repo.Run("dotnet", $"\"{dll}\" plots \"{plotsDir}\"", project.App);
        TestContext.Out.WriteLine(plotsOut);
        Assert.That(plotsCode, Is.EqualTo(0), plotsOut);
        Assert.That(plotsOut, Does.Contain("tokens: [CLS] hello world token ##ized [SEP]"), "ModelGen.Text cleaned, ModelGen.Transformers tokenised");
        Assert.That(plotsOut, Does.Contain("trained on 1 rank(s), 96 steps").And.Contain("plots written: 2"));
        foreach (var png in new[] { "loss.png", "metrics.png" })
            Assert.That(File.ReadAllBytes(Path.Combine(plotsDir, png))[..4], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), png);

        // MPI: the same program under mpirun.mpich -np 2 through ModelGen.Distributed
        const string mpirun = "mpirun.mpich";
        Requirement.That(File.Exists("/usr/bin/" + mpirun) || File.Exists("/usr/local/bin/" + mpirun),
            $"{mpirun} is not installed (apt-get install mpich libmpich-dev; .ci/run installs it).");
        var (mpiCode, mpiOut) = Repo.Run(mpirun, $"-np 2 dotnet \"{dll}\" mpi \"{Path.Combine(project.Work, "mpi-run")}\"", project.App, timeoutSeconds: 300);
        TestContext.Out.WriteLine(mpiOut);
        Assert.That(mpiCode, Is.EqualTo(0), mpiOut);
        Assert.That(mpiOut, Does.Contain("trained on 2 rank(s), 48 steps"), "each rank reads half the data: 16 steps per epoch");

        // the analyzers came too: a shape error in the model fails the build with MG0001
        var program = Path.Combine(project.App, "Program.cs");
        File.WriteAllText(program, ConcernsProgram.Replace("fc2 = new(16, 2)", "fc2 = new(15, 2)", StringComparison.Ordinal));
        var (failCode, failOut) = Repo.Run("dotnet", "build -c Release --no-restore", project.App, project.Environment);
        Assert.That(failCode, Is.Not.EqualTo(0), failOut);
        Assert.That(failOut, Does.Contain("error MG0001: Linear layer 'fc2' expects input […, 15]"), failOut);
        Directory.Delete(project.Work, recursive: true);
    }
}
