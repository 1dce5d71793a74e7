using ModelGen.Data;
using ModelGen.Training;
using ModelGen.Transformers;

namespace ModelGen.Reliability.Tests.Runtime;

/// <summary>Bad input at run time, through the public entry points (the layer-level checks are in
/// ModelGen.Runtime.Tests): a batch of the wrong shape through the Trainer, token ids beyond the model's vocabulary and
/// sequences beyond its positions through the pipeline, each a clear error; the pipeline stays usable after one.</summary>
public sealed class ValidationTests
{
    [Test]
    public void WrongBatchShape_ThroughTheTrainer_NamesTheLayerAndBothShapes()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-shape").FullName;
        try
        {
            using var model = new TinyMlp(Device.Cpu, seed: 1);
            var args = new TrainingArguments { OutputDir = dir, PerDeviceTrainBatchSize = 8, MaxSteps = 3, ProgressBar = false, SaveStrategy = IntervalStrategy.No };
            // five features per example for a model whose first layer takes four
            var trainer = Trainer.ForClassification(model, args, TestData.Examples(32, 5, 3, seed: 2), null, 5, 3, e => e.Pixels, e => e.Label, output: TextWriter.Null);
            var e = Assert.Throws<ShapeMismatchException>(() => trainer.Train())!;
            Assert.That(e.Message, Does.Contain("fc1").And.Contain("[*, 4]").And.Contain("[8, 5]"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void TokenIdsBeyondTheVocabulary_ThroughThePipeline_AreAClearError()
    {
        var dir = TinyBert.Save(Directory.CreateTempSubdirectory("modelgen-vocab").FullName, modelVocab: 12);
        try
        {
            using var pipeline = Pipeline.TextClassification(dir, Device.Cpu);
            // "i" has id 12 in the tokenizer; the model's embedding table has 12 rows
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Run("i love it"))!;
            Assert.That(e.Message, Does.Contain("word_embeddings").And.Contain("token id 12 at position (0, 1)").And.Contain("vocabulary of 12"));
            // the pipeline is still usable for text inside the vocabulary
            var result = pipeline.Run("the movie was good");
            Assert.That(result[0].Label, Is.AnyOf("NEGATIVE", "POSITIVE"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void SequencesBeyondTheModelsPositions_AreTruncatedByThePipeline_AndAClearErrorInTheModel()
    {
        var dir = TinyBert.Save(Directory.CreateTempSubdirectory("modelgen-positions").FullName, maxPositions: 8);
        try
        {
            using var pipeline = Pipeline.TextClassification(dir, Device.Cpu);
            Assert.That(pipeline.MaxLength, Is.EqualTo(8), "the pipeline truncates at the model's 8 positions");
            // 11 words: [CLS] + the first 6 + [SEP] reach the model, the same as the first six words alone
            var full = pipeline.Run("the movie was great and the plot was not boring");
            var truncated = pipeline.Run("the movie was great and the");
            Assert.That(full[0].Label, Is.EqualTo(truncated[0].Label));
            Assert.That(full[0].Score, Is.EqualTo(truncated[0].Score).Within(1e-6));
            // called directly with 9 positions, the model names the embedding and its size
            var model = pipeline.Model;
            var shape = new Shape(1, 9);
            using var ids = Tensor.Zeros(shape, DType.Int64, Device.Cpu);
            using var positions = Tensor.From<int>(Enumerable.Range(0, 9).ToArray(), shape, DType.Int64);
            using var types = Tensor.Zeros(shape, DType.Int64, Device.Cpu);
            using var mask = Tensor.Zeros(shape, DType.Float32, Device.Cpu);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Logits(ids, positions, types, mask))!;
            Assert.That(e.Message, Does.Contain("position_embeddings").And.Contain("8"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
