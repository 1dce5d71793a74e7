namespace ModelGen.Training;

/// <summary>
/// Data-parallel training across processes: the Trainer calls these hooks so that every rank reads its own shard,
/// starts from rank 0's weights, averages gradients before each optimizer step and lets rank 0 alone log, evaluate
/// and write checkpoints. <see cref="SingleProcess"/> is the default (one rank, no communication).
/// </summary>
public interface IDistributedBackend : IDisposable
{
    int Rank { get; }
    int WorldSize { get; }

    /// <summary>Copies rank 0's parameter values to every rank (before training).</summary>
    void Broadcast(IReadOnlyList<Parameter> parameters);

    /// <summary>Replaces every rank's gradients by their mean over the ranks (before each optimizer step);
    /// <paramref name="step"/> names the step in errors and timeouts.</summary>
    void AverageGradients(IReadOnlyList<Parameter> parameters, long step);

    /// <summary>The mean of a value over the ranks (losses, metrics).</summary>
    double Average(double value);

    /// <summary>Waits for every rank.</summary>
    void Barrier();

    /// <summary>Ends every rank of the job after an error on this one (MPI_Abort), printing the message, so that the
    /// others do not wait for it; a single process does nothing (the exception propagates as usual).</summary>
    void Abort(string message);
}

/// <summary>One process, no communication.</summary>
public sealed class SingleProcess : IDistributedBackend
{
    public static SingleProcess Instance { get; } = new();
    public int Rank => 0;
    public int WorldSize => 1;
    public void Broadcast(IReadOnlyList<Parameter> parameters) { }
    public void AverageGradients(IReadOnlyList<Parameter> parameters, long step) { }
    public double Average(double value) => value;
    public void Barrier() { }
    public void Abort(string message) { }
    public void Dispose() { }
}
