using ModelGen.Testing;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ModelGen.Training;

namespace ModelGen.Reliability.Tests.Training;

/// <summary>A process killed (SIGKILL) in the middle of writing a checkpoint: the checkpoints before it stay complete,
/// <see cref="Trainer.LatestCheckpoint"/> finds the last one (ignoring the half-written temporary folder), and a new
/// process resumes from it, continues and finishes with the weights of an uninterrupted run.</summary>
public sealed class CrashTests
{
    private const string Paused = "MODELGEN_TEST_WRITE_FAULT: writer paused";

    [Test]
    public void KilledWhileSavingTheThirdCheckpoint_ResumesFromTheSecond_AndFinishes()
    {
        Requirement.That(File.Exists(Repo.TrainerCheckDll), $"{Repo.TrainerCheckDll} is missing: TrainerCheck is built with these tests");
        var work = Directory.CreateTempSubdirectory("modelgen-crash").FullName;
        try
        {
            var reference = Run(Repo.Dotnet($"\"{Repo.TrainerCheckDll}\" --out \"{Path.Combine(work, "reference")}\" --steps 20 --save-steps 5"));
            Assert.That(reference.ExitCode, Is.EqualTo(0), reference.Output);

            // the third model.safetensors the process writes (checkpoint-15's) blocks after 1000 bytes; then SIGKILL
            var output = Path.Combine(work, "run");
            var psi = Repo.Dotnet($"\"{Repo.TrainerCheckDll}\" --out \"{output}\" --steps 20 --save-steps 5");
            psi.Environment["MODELGEN_TEST_WRITE_FAULT"] = "pause-after:1000:model:3";
            var log = new StringBuilder();
            using var paused = new ManualResetEventSlim();
            using (var process = new Process { StartInfo = psi })
            {
                process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
                process.ErrorDataReceived += (_, e) =>
                {
                    if (e.Data is null) return;
                    lock (log) log.AppendLine(e.Data);
                    if (e.Data.Contains(Paused, StringComparison.Ordinal)) paused.Set();
                };
                process.Start();
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                bool sawPause = paused.Wait(TimeSpan.FromSeconds(180));
                process.Kill(); // SIGKILL: no finally blocks, no flushing
                process.WaitForExit();
                Assert.That(sawPause, Is.True, $"the writer never paused:\n{log}");
            }

            var folders = Directory.GetDirectories(output).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            TestContext.Out.WriteLine("after the kill: " + string.Join(", ", folders));
            Assert.That(folders, Does.Contain("checkpoint-5").And.Contain("checkpoint-10").And.Not.Contain("checkpoint-15"));
            var partial = folders.Where(f => f!.StartsWith(".checkpoint-15.tmp-", StringComparison.Ordinal)).ToList();
            Assert.That(partial, Has.Count.EqualTo(1), "the half-written checkpoint is a temporary folder");
            Assert.That(Directory.GetFiles(Path.Combine(output, partial[0]!)).Select(Path.GetFileName),
                Has.Some.StartsWith("model.safetensors.tmp-"), "killed inside the model file");

            var latest = Trainer.LatestCheckpoint(output);
            Assert.That(latest, Is.EqualTo(Path.Combine(output, "checkpoint-10")));

            var resumed = Run(Repo.Dotnet($"\"{Repo.TrainerCheckDll}\" --out \"{output}\" --steps 20 --save-steps 5 --resume \"{latest}\""));
            Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Output);
            var steps = Regex.Matches(resumed.Output, @"^step (\d+) loss", RegexOptions.Multiline).Select(m => int.Parse(m.Groups[1].Value)).ToList();
            Assert.That(steps, Is.EqualTo(Enumerable.Range(11, 10)), "continues at step 11 and finishes at 20");
            Assert.That(Trainer.LatestCheckpoint(output), Is.EqualTo(Path.Combine(output, "checkpoint-20")));
            Assert.That(Weights(resumed.Output), Is.EqualTo(Weights(reference.Output)).And.Not.Empty, "the same final weights as an uninterrupted run");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [Test]
    public void LatestCheckpoint_IgnoresTemporaryAndIncompleteFolders()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-latest").FullName;
        try
        {
            Assert.That(Trainer.LatestCheckpoint(Path.Combine(dir, "missing")), Is.Null);
            Assert.That(Trainer.LatestCheckpoint(dir), Is.Null);
            foreach (var name in new[] { "checkpoint-5", "checkpoint-40", "checkpoint-100", ".checkpoint-200.tmp-abc", "checkpoint-x", "checkpoint-300" })
                Directory.CreateDirectory(Path.Combine(dir, name));
            foreach (var name in new[] { "checkpoint-5", "checkpoint-40", "checkpoint-100", ".checkpoint-200.tmp-abc", "checkpoint-x" })
                File.WriteAllText(Path.Combine(dir, name, "trainer_state.json"), "{}");
            // checkpoint-300 has no trainer_state.json; 100 > 40 numerically (not as text)
            Assert.That(Trainer.LatestCheckpoint(dir), Is.EqualTo(Path.Combine(dir, "checkpoint-100")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static (int ExitCode, string Output) Run(ProcessStartInfo psi)
    {
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{psi.FileName} {psi.Arguments} did not finish in 5 minutes:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    private static string Weights(string output) => Regex.Match(output, @"^weights (\w+)", RegexOptions.Multiline).Groups[1].Value;
}
