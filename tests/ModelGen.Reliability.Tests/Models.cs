namespace ModelGen.Reliability.Tests;

/// <summary>A small classifier for the Trainer tests: 4 features, 3 classes.</summary>
[Model]
public partial class TinyMlp
{
    [Layer] readonly Linear fc1 = new(4, 16);
    [Layer] readonly Linear fc2 = new(16, 3);
    Tensor Forward(Tensor x) => fc2.Apply(Gelu(fc1.Apply(x)));
}

/// <summary>The long-run model: TrainerCheck's 12-32-4 classifier with dropout.</summary>
[Model]
public partial class SoakMlp
{
    [Layer] readonly Linear fc1 = new(12, 32);
    [Layer] readonly Dropout drop = new(0.1);
    [Layer] readonly Linear fc2 = new(32, 4);
    Tensor Forward(Tensor x) => fc2.Apply(drop.Apply(Gelu(fc1.Apply(x))));
}

/// <summary>4 MiB of weights: big enough to see in the C heap.</summary>
[Model]
public partial class Big
{
    [Layer] readonly Linear fc = new(1024, 1024);
    Tensor Forward(Tensor x) => fc.Apply(x);
}

public static class TestData
{
    /// <summary>Seeded examples whose label depends on the features (so training has something to learn).</summary>
    public static List<ModelGen.Data.LabeledImage> Examples(int count, int features, int classes, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var x = Enumerable.Range(0, features).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            int label = Math.Abs((int)Math.Floor((x[0] + x[1]) * classes)) % classes;
            return new ModelGen.Data.LabeledImage(x, label);
        }).ToList();
    }
}
