using ModelGen.Testing;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>Data-parallel training with MPI (MPICH's mpirun, loopback, 2 ranks) through the Trainer and MpiBackend:
/// identical weights on every rank, equal to one process on the combined batch; a few bucketed all-reduces per step;
/// resuming with the same or another world size; a rank that hangs, exits or throws stops the job with a clear error.</summary>
public class MpiTests
{
    private const string Mpirun = "mpirun.mpich";
    private static string Dll => Path.Combine(Repo.Root, "tests", "ModelGen.MpiCheck", "bin", Repo.Configuration, "net10.0", "ModelGen.MpiCheck.dll");
    private string _work = "";

    [SetUp]
    public void SetUp()
    {
        Requirement.That(File.Exists("/usr/bin/" + Mpirun) || File.Exists("/usr/local/bin/" + Mpirun),
            $"{Mpirun} is not installed (apt-get install mpich libmpich-dev; .ci/run installs it).");
        _work = Directory.CreateTempSubdirectory("modelgen-mpi").FullName;
    }

    [TearDown]
    public void TearDown()
    {
        if (_work.Length > 0 && Directory.Exists(_work)) Directory.Delete(_work, true);
    }

    [Test]
    public void TwoRanks_HoldIdenticalWeights_EqualToOneProcessOnTheCombinedBatch()
    {
        var single = Run("dotnet", $"\"{Dll}\" --out \"{Dir("single")}\" --steps 10 --global-batch 32");
        Assert.That(single.ExitCode, Is.EqualTo(0), single.Output);
        var two = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("two")}\" --steps 10 --global-batch 32");
        Assert.That(two.ExitCode, Is.EqualTo(0), two.Output);
        Assert.That(two.Output, Does.Contain("data-parallel on 2 ranks: each reads 256 examples per epoch, global batch 32"));

        var rank0 = Weights("two", 0);
        Assert.That(Weights("two", 1), Is.EqualTo(rank0), "rank 1's weights are rank 0's, bit for bit");
        var reference = Weights("single", 0);
        Assert.That(rank0, Has.Length.EqualTo(reference.Length));
        double maxDiff = rank0.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(maxDiff, Is.LessThan(1e-5), "2 ranks × 16 examples vs 1 process × 32 examples after 10 AdamW steps");

        // one 25 MiB bucket holds this model's 23,592 bytes of gradients: one all-reduce per step (+ the logged losses)
        var (total, gradients, steps) = Allreduces(two.Output, 0);
        Assert.That(steps, Is.EqualTo(10));
        Assert.That(gradients, Is.EqualTo(steps), two.Output);
        Assert.That(total, Is.LessThanOrEqualTo(2 * steps), two.Output);
    }

    [Test]
    public void SmallBuckets_SplitTheGradientsIntoFewCalls_WithTheSameResult()
    {
        var one = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("one")}\" --steps 6");
        Assert.That(one.ExitCode, Is.EqualTo(0), one.Output);
        var six = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("six")}\" --steps 6 --bucket-bytes 4000");
        Assert.That(six.ExitCode, Is.EqualTo(0), six.Output);
        // 5,898 float32 gradients = 23,592 bytes in buckets of ≤ 4,000 bytes: ⌈23,592 / 4,000⌉ = 6 calls, not 6 tensors' worth
        var (_, gradients, steps) = Allreduces(six.Output, 1);
        Assert.That(gradients, Is.EqualTo(6 * steps), six.Output);
        Assert.That(Weights("six", 0), Is.EqualTo(Weights("one", 0)), "bucketing does not change the sums");
        Assert.That(Weights("six", 1), Is.EqualTo(Weights("six", 0)));
    }

    [Test]
    public void Resuming_WithTheSameOrAnotherNumberOfRanks()
    {
        var full = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("full")}\" --steps 10 --save-steps 5");
        Assert.That(full.ExitCode, Is.EqualTo(0), full.Output);
        var checkpoint = Path.Combine(Dir("full"), "checkpoint-5");
        Assert.That(File.Exists(Path.Combine(checkpoint, "trainer_state.json")), "rank 0 wrote the checkpoint");

        var two = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("two")}\" --steps 10 --resume \"{checkpoint}\"");
        Assert.That(two.ExitCode, Is.EqualTo(0), two.Output);
        Assert.That(two.Output, Does.Contain("resuming from"));
        Assert.That(Weights("two", 0), Is.EqualTo(Weights("full", 0)), "2 ranks → 2 ranks continues bit-identically");

        // the same global batch on one rank: the same examples per step (the shards of a step are a contiguous run of the
        // epoch's order), so the run continues on the same trajectory up to float32 rounding
        var one = Run("dotnet", $"\"{Dll}\" --out \"{Dir("one")}\" --steps 10 --resume \"{checkpoint}\"");
        Assert.That(one.ExitCode, Is.EqualTo(0), one.Output);
        Assert.That(one.Output, Does.Contain("at step 5"));
        Assert.That(Weights("one", 0).Zip(Weights("full", 0), (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-5));
    }

    [Test]
    public void AStuckRank_IsAbortedByTheWatchdog_NamingTheStep()
    {
        var run = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("hang")}\" --steps 10 --timeout 8", fail: "hang:3");
        Assert.That(run.ExitCode, Is.Not.EqualTo(0), run.Output);
        Assert.That(run.Output, Does.Contain("rank 0 of 2: the gradient all-reduce of step 3 did not finish within 8 s"));
        Assert.That(run.AfterFailure, Is.InRange(6, 8 + 20), run.Output);
    }

    [Test]
    public void ARankThatExits_StopsTheOthers()
    {
        // the launcher notices a dead process on its own machine and ends the job at once
        var run = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("exit")}\" --steps 10 --timeout 8", fail: "exit:3");
        Assert.That(run.ExitCode, Is.Not.EqualTo(0), run.Output);
        Assert.That(run.Output, Does.Contain("rank 1: injected failure 'exit' before step 3"));
        Assert.That(run.AfterFailure, Is.LessThan(8 + 20), run.Output);

        // without the launcher's clean-up (as when a machine drops out), the watchdog stops the survivor
        var lost = Run(Mpirun, $"-disable-auto-cleanup -np 2 dotnet \"{Dll}\" --out \"{Dir("lost")}\" --steps 10 --timeout 8", fail: "exit:3");
        Assert.That(lost.ExitCode, Is.Not.EqualTo(0), lost.Output);
        Assert.That(lost.Output, Does.Contain("rank 0 of 2: the gradient all-reduce of step 3 did not finish within 8 s"));
        Assert.That(lost.AfterFailure, Is.InRange(6, 8 + 20), lost.Output);
    }

    [Test]
    public void AnExceptionOnOneRank_AbortsTheJobAtOnce()
    {
        var run = Run(Mpirun, $"-np 2 dotnet \"{Dll}\" --out \"{Dir("throw")}\" --steps 10 --timeout 60", fail: "throw:3");
        Assert.That(run.ExitCode, Is.Not.EqualTo(0), run.Output);
        Assert.That(run.Output, Does.Contain("rank 1 of 2: InvalidOperationException at step 3: injected failure before step 3"));
        Assert.That(run.AfterFailure, Is.LessThan(20), "well before the 60 s watchdog: " + run.Output);
    }

    private string Dir(string name) => Path.Combine(_work, name);

    private float[] Weights(string run, int rank)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir(run), $"weights-rank{rank}.bin"));
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    private static (long Total, long Gradients, long Steps) Allreduces(string output, int rank)
    {
        var m = Regex.Match(output, $@"^rank {rank}/2 allreduce (\d+) calls, (\d+) for gradients over (\d+) steps", RegexOptions.Multiline);
        Assert.That(m.Success, output);
        return (long.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value), long.Parse(m.Groups[3].Value));
    }

    /// <summary>Runs a command with a timestamp on the line that announces an injected failure: AfterFailure is the
    /// seconds from that line to the exit of the whole job.</summary>
    private static (int ExitCode, string Output, double AfterFailure) Run(string file, string arguments, string? fail = null)
    {
        var psi = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["MODELGEN_THREADS"] = "1"; // one compute thread per rank on this small machine
        psi.Environment.Remove("MODELGEN_MPI_TIMEOUT");
        if (fail is not null) psi.Environment["MODELGEN_MPICHECK_FAIL"] = fail;
        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        double failedAt = double.NaN;
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (output)
            {
                if (line.Contains("injected failure", StringComparison.Ordinal) && double.IsNaN(failedAt)) failedAt = clock.Elapsed.TotalSeconds;
                output.AppendLine(line);
            }
        }
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(300_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {arguments} did not finish in 300 s:\n{output}");
        }
        process.WaitForExit();
        double exitedAt = clock.Elapsed.TotalSeconds;
        lock (output) return (process.ExitCode, output.ToString(), exitedAt - failedAt);
    }
}
