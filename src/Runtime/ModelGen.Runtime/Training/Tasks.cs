using ModelGen.Data;

namespace ModelGen.Training;

/// <summary>How the Trainer feeds one kind of model: builds reusable batches from examples, runs the forward pass with
/// its loss, the backward pass, and the logits for evaluation.</summary>
public interface ITrainingTask<TExample, TBatch> : IBatchCollator<TExample, TBatch> where TBatch : class
{
    Module Model { get; }
    int Classes { get; }

    /// <summary>Forward pass and mean loss of a batch of <paramref name="count"/> examples.</summary>
    double Loss(TBatch batch, int count);

    /// <summary>Backward pass of the last loss.</summary>
    void Backward();

    /// <summary>Forward pass; writes [count, Classes] logits into <paramref name="logits"/>.</summary>
    void Logits(TBatch batch, int count, Span<float> logits);

    int Label(TExample example);
}

/// <summary>A task whose examples have a length (tokens, with special tokens), which
/// <see cref="TrainingArguments.GroupByLength"/> groups batches by.</summary>
public interface IExampleLength<TExample>
{
    int Length(TExample example);
}

/// <summary>A batch of fixed-size float features and integer labels, staged on the host.</summary>
public sealed class FeatureBatch(int capacity, int features)
{
    public float[] Features { get; } = new float[capacity * features];
    public int[] Labels { get; } = new int[capacity];
}

/// <summary>Classification of fixed-size feature vectors with a single-input [Model] (cross-entropy loss).</summary>
public sealed class ClassificationTask<TExample> : ITrainingTask<TExample, FeatureBatch>
{
    private readonly IModel _model;
    private readonly Func<TExample, ReadOnlyMemory<float>> _features;
    private readonly Func<TExample, int> _label;
    private readonly Dictionary<int, Tensor> _inputs = new();

    /// <param name="exampleShape">The shape of one example's input without the batch dimension (a CNN's [1, 28, 28]); by
    /// default the features are a vector, [features].</param>
    public ClassificationTask(Module model, int features, int classes, Func<TExample, ReadOnlyMemory<float>> featuresOf, Func<TExample, int> labelOf,
        Shape? exampleShape = null)
    {
        _model = model as IModel ?? throw new ArgumentException($"{model.GetType().Name} does not take one tensor input.");
        if (exampleShape is not null && exampleShape.Count != features)
            throw new ArgumentException($"The example shape {exampleShape} holds {exampleShape.Count} values, not the {features} features.", nameof(exampleShape));
        Model = model;
        ExampleShape = exampleShape ?? new Shape(features);
        Features = features;
        Classes = classes;
        _features = featuresOf;
        _label = labelOf;
    }

    public Module Model { get; }
    public int Features { get; }
    public Shape ExampleShape { get; }
    public int Classes { get; }

    public FeatureBatch Create(int capacity) => new(capacity, Features);

    public void Collate(IReadOnlyList<TExample> data, ReadOnlySpan<int> indices, FeatureBatch batch)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            var example = data[indices[i]];
            var f = _features(example).Span;
            if (f.Length != Features) throw new InvalidDataException($"Example {indices[i]} has {f.Length} features, expected {Features}.");
            f.CopyTo(batch.Features.AsSpan(i * Features, Features));
            batch.Labels[i] = _label(example);
        }
    }

    private Tensor Input(FeatureBatch batch, int count)
    {
        if (!_inputs.TryGetValue(count, out var x))
            _inputs[count] = x = Tensor.Zeros(new Shape([count, .. ExampleShape.Dims]), Model.DType, Model.Device);
        x.CopyFrom<float>(batch.Features.AsSpan(0, count * Features));
        return x;
    }

    public double Loss(FeatureBatch batch, int count) => _model.CrossEntropy(Input(batch, count), batch.Labels.AsSpan(0, count));

    public void Backward() => _model.Backward();

    public void Logits(FeatureBatch batch, int count, Span<float> logits)
    {
        var y = _model.Run(Input(batch, count));
        if (y.Count != count * Classes) throw new ShapeMismatchException($"The model returns {y.Shape}, expected [{count}, {Classes}] logits.");
        if (y.Device.IsCpu && y.DType == DType.Float32) y.AsSpan<float>().CopyTo(logits);
        else y.ToArray().CopyTo(logits);
    }

    public int Label(TExample example) => _label(example);
}
