namespace ModelGen;

/// <summary>The generated API of a [Model] whose Forward takes one tensor: what trainers and tools program against.</summary>
public interface IModel : IDisposable
{
    IReadOnlyList<Parameter> Parameters { get; }
    bool Training { get; }
    void Train(bool training = true);
    void Eval();
    void ZeroGrad();

    /// <summary>Forward pass; the result lives in the model until the next call.</summary>
    Tensor Run(Tensor x);

    /// <summary>Forward pass and mean cross-entropy against class ids.</summary>
    double CrossEntropy(Tensor x, ReadOnlySpan<int> labels);

    /// <summary>Forward pass and mean squared error against a target of the output's shape.</summary>
    double Mse(Tensor x, Tensor target);

    void Backward();
    void Backward(Tensor gradOutput);

    /// <summary>The output shape for an input shape (checks every layer).</summary>
    Shape InferShape(Shape x);
}
