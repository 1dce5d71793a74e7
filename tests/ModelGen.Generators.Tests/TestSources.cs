namespace ModelGen.Generators.Tests;

/// <summary>Model classes as users write them: the inputs of the generator tests.</summary>
public static class TestSources
{
    /// <summary>A copy of tests/ModelGen.Runtime.Tests/Models/TestModels.cs (the PyTorch quickstart MLP).</summary>
    public const string FashionMlp = """
        namespace ModelGen.Tests.Models;

        /// <summary>The PyTorch quickstart MLP.</summary>
        [Model]
        public partial class FashionMlp
        {
            [Layer] readonly Linear fc1 = new(784, 512);
            [Layer] readonly Linear fc2 = new(512, 512);
            [Layer] readonly Linear fc3 = new(512, 10);

            Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
        }

        /// <summary>s = Sum(x · 2): ds/dx = 2.</summary>
        [Model]
        public partial class TimesTwoSum
        {
            Tensor Forward(Tensor x) => Sum(x * 2);
        }
        """;

    /// <summary>A residual GELU block repeated in a LayerList, with Dropout and Tanh before the head.</summary>
    public const string Deep = """
        using ModelGen;

        namespace Samples.Deep;

        [Model]
        public partial class Block
        {
            [Layer] readonly Linear fc = new(16, 16);

            Tensor Forward(Tensor x) => x + Gelu(fc.Apply(x));
        }

        [Model]
        public partial class Deep
        {
            [Layer] readonly Linear input = new(8, 16);
            [Layer] readonly LayerList<Block> blocks = LayerList<Block>.Create(3, _ => new Block());
            [Layer] readonly Dropout drop = new(0.1);
            [Layer] readonly Linear head = new(16, 4);

            Tensor Forward(Tensor x)
            {
                var h = input.Apply(x);
                foreach (var block in blocks) h = block.Apply(h);
                return head.Apply(drop.Apply(Tanh(h)));
            }
        }
        """;
}
