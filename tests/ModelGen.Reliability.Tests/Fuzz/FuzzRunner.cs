using System.Security.Cryptography;
using CsCheck;

namespace ModelGen.Reliability.Tests.Fuzz;

/// <summary>A reader broke its contract on an input: it threw an exception of a type it may not throw, hung, or
/// allocated far more than the input could justify.</summary>
public sealed class FuzzFailure(string signature, string message) : Exception(message)
{
    /// <summary>What kind of failure (exception type and throwing method, "timeout", "allocation"): minimisation keeps it.</summary>
    public string Signature { get; } = signature;
}

/// <summary>Runs one input through a reader in a worker thread with a time limit and an allocation budget, and judges
/// the outcome: success, or one of the reader's allowed exception types with a message that names the file.</summary>
public static class FuzzRunner
{
    /// <summary>Inputs per reader: MODELGEN_FUZZ_ITER (scripts/reliability-full.sh sets 20000), 300 by default.</summary>
    public static int Iterations => EnvInt("MODELGEN_FUZZ_ITER", 300);

    /// <summary>Seconds one input may take: MODELGEN_FUZZ_TIMEOUT_S, 10 by default (a loaded CI machine is slow).</summary>
    public static TimeSpan Timeout => TimeSpan.FromSeconds(EnvInt("MODELGEN_FUZZ_TIMEOUT_S", 10));

    /// <summary>Managed bytes a read may allocate: generous for the readers' own structures, far below what a
    /// corrupted length field (2^31, 2^62) would make a naive reader allocate.</summary>
    public static long AllocationBudget(int inputLength) => (64L << 20) + 256L * inputLength;

    public static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v > 0 ? v : fallback;

    private static readonly string Root = Directory.CreateTempSubdirectory("modelgen-fuzz").FullName;

    /// <summary>Writes the input to the reader's file name and reads it; throws <see cref="FuzzFailure"/> when the
    /// reader breaks its contract. Returns the exception type name, or "ok".</summary>
    public static string Check(FuzzTarget target, byte[] input)
    {
        var dir = Path.Combine(Root, target.Name);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, target.FileName);
        File.WriteAllBytes(path, input);

        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = null;
            try
            {
                target.Read(path);
            }
            catch (Exception e)
            {
                error = e;
            }
            return (Error: error, Allocated: GC.GetAllocatedBytesForCurrentThread() - before);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!task.Wait(Timeout))
            throw new FuzzFailure("timeout", $"{target.Name}: the reader did not finish within {Timeout.TotalSeconds} s (hang?)");

        var (e, allocated) = task.Result;
        if (allocated > AllocationBudget(input.Length))
            throw new FuzzFailure("allocation", $"{target.Name}: the reader allocated {allocated:N0} bytes for a {input.Length}-byte input"
                + (e is null ? "" : $" and then threw {e.GetType().Name}: {e.Message}"));
        if (e is null) return "ok";
        if (!target.Allowed.Any(t => t.IsInstanceOfType(e)))
            throw new FuzzFailure(Signature(e), $"{target.Name}: {e.GetType().FullName} is not one of the allowed {string.Join(", ", target.Allowed.Select(t => t.Name))}: {e.Message}\n{e.StackTrace}");
        if (string.IsNullOrWhiteSpace(e.Message) || !e.Message.Contains(target.FileName, StringComparison.Ordinal))
            throw new FuzzFailure("message:" + e.GetType().Name, $"{target.Name}: the message of {e.GetType().Name} does not name the file: \"{e.Message}\"\n{e.StackTrace}");
        return e.GetType().Name;
    }

    private static string Signature(Exception e)
    {
        var frame = new System.Diagnostics.StackTrace(e).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("ModelGen", StringComparison.Ordinal) == true);
        return $"{e.GetType().Name}@{frame?.GetMethod()?.DeclaringType?.Name}.{frame?.GetMethod()?.Name}";
    }

    /// <summary>The CsCheck seed of iteration <paramref name="i"/> of a reader: fixed, so CI runs the same inputs every
    /// time (CsCheck's own Sample seeds only its first iteration).</summary>
    public static string SeedOf(FuzzTarget target, int i) => new PCG((uint)StableHash(target.Name), (ulong)i * 0x9E3779B97F4A7C15UL + 1).ToString();

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (var c in s) h = h * 31 + c;
        return h & 0x7FFFFFFF;
    }

    /// <summary>Fuzzes a reader: <see cref="Iterations"/> seeded inputs. For each distinct kind of failure, CsCheck
    /// shrinks the mutations, then a byte-level pass minimises the file; it is saved under fuzz-failures/ and reported.</summary>
    public static (int Inputs, Dictionary<string, int> Outcomes) Fuzz(FuzzTarget target, int iterations)
    {
        var gen = Mutations.Inputs(target.Seeds.Count);
        var outcomes = new Dictionary<string, int>();
        var failures = new Dictionary<string, (string Seed, FuzzInput Input, FuzzFailure Failure)>();
        for (int i = 0; i < iterations; i++)
        {
            var seed = SeedOf(target, i);
            var input = gen.Generate(PCG.Parse(seed), null!, out _);
            var bytes = Mutations.Build(target.Seeds, input);
            try
            {
                var outcome = Check(target, bytes);
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
            catch (FuzzFailure failure)
            {
                outcomes["FAILED " + failure.Signature] = outcomes.GetValueOrDefault("FAILED " + failure.Signature) + 1;
                failures.TryAdd(failure.Signature, (seed, input, failure));
            }
        }
        if (failures.Count > 0)
            Assert.Fail($"{target.Name}: {failures.Count} kind(s) of failure in {iterations} inputs:\n\n"
                + string.Join("\n\n", failures.Values.Select(f => ReportFailure(target, gen, f.Seed, f.Input, f.Failure))));
        return (iterations, outcomes);
    }

    private static string ReportFailure(FuzzTarget target, Gen<FuzzInput> gen, string seed, FuzzInput input, FuzzFailure failure)
    {
        // CsCheck shrinks the mutation list (fewer, simpler corruptions) while the same kind of failure occurs
        FuzzInput smallest = input;
        try
        {
            gen.Sample(candidate =>
            {
                try
                {
                    Check(target, Mutations.Build(target.Seeds, candidate));
                }
                catch (FuzzFailure f) when (f.Signature == failure.Signature)
                {
                    smallest = candidate;
                    throw;
                }
                catch (FuzzFailure)
                {
                }
            }, seed: seed, iter: 200, threads: 1, print: c => c.ToString());
        }
        catch (CsCheckException)
        {
        }
        var minimal = Minimise(target, Mutations.Build(target.Seeds, smallest), failure.Signature);
        var saved = Save(target, minimal);
        return $"[{failure.Signature}] seed {seed} ({input})\nShrunk to {smallest}; minimised file ({minimal.Length} bytes): {saved}\n"
            + $"{Preview(minimal)}\n{Describe(target, minimal)}\nFirst report: {failure.Message}";
    }

    private static string Describe(FuzzTarget target, byte[] bytes)
    {
        try
        {
            return "Minimised input: " + Check(target, bytes);
        }
        catch (FuzzFailure f)
        {
            return "Minimised input: " + f.Message;
        }
    }

    /// <summary>Delta debugging on bytes: removes ever smaller chunks while the failure keeps its signature.</summary>
    public static byte[] Minimise(FuzzTarget target, byte[] bytes, string signature, int budget = 1500)
    {
        bool Fails(byte[] candidate)
        {
            try
            {
                Check(target, candidate);
                return false;
            }
            catch (FuzzFailure f)
            {
                return f.Signature == signature;
            }
        }

        if (signature == "timeout") return bytes; // each try would take the whole time limit
        int tries = 0;
        for (int chunk = Math.Max(1, bytes.Length / 2); chunk >= 1 && tries < budget; chunk /= 2)
        {
            for (int start = 0; start < bytes.Length && tries < budget;)
            {
                byte[] candidate = [.. bytes.AsSpan(0, start), .. bytes.AsSpan(Math.Min(bytes.Length, start + chunk))];
                tries++;
                if (candidate.Length < bytes.Length && Fails(candidate)) bytes = candidate;
                else start += chunk;
            }
        }
        return bytes;
    }

    private static string Save(FuzzTarget target, byte[] bytes)
    {
        var dir = Path.Combine(Environment.GetEnvironmentVariable("MODELGEN_FUZZ_FAILURES") ?? Path.Combine(TestContext.CurrentContext.WorkDirectory, "fuzz-failures"), target.Name);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Convert.ToHexStringLower(SHA256.HashData(bytes))[..12] + ".bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static string Preview(byte[] bytes) =>
        bytes.Length <= 600 ? "base64: " + Convert.ToBase64String(bytes) : $"({bytes.Length} bytes; see the saved file)";
}
