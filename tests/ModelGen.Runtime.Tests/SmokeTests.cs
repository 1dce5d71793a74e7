using ModelGen.Optim;
using ModelGen.Tests.Models;

namespace ModelGen.Tests;

public class SmokeTests
{
    [Test]
    public void ClassicExample_SumOfTwiceX_HasGradientTwo()
    {
        using var model = new TimesTwoSum(Device.Cpu);
        using var x = Tensor.From([1f, 2f, 3f], 3);
        x.RequiresGrad = true;
        var s = model.Run(x);
        Assert.That(s.Item(), Is.EqualTo(12).Within(1e-6));
        model.Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2f, 2f, 2f }));
    }

    [Test]
    public void FashionMlp_LossFallsOnALearnableProblem()
    {
        using var model = new FashionMlp(Device.Cpu, seed: 1);
        using var optimizer = new Adam(model.Parameters, lr: 1e-3);
        var rng = new Random(5);
        int batch = 33;
        var data = new float[batch * 784];
        var labels = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            labels[i] = i % 10;
            for (int j = 0; j < 784; j++) data[i * 784 + j] = (float)rng.NextDouble() * 0.1f + (j % 10 == labels[i] ? 1f : 0f);
        }
        using var x = Tensor.From(data, batch, 784);
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            var loss = model.CrossEntropy(x, labels);
            if (step == 0) first = loss;
            last = loss;
            model.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        TestContext.Out.WriteLine($"loss {first} -> {last}");
        Assert.That(last, Is.LessThan(first * 0.2));
    }
}
