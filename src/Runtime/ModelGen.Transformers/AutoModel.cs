using ModelGen.IO;

namespace ModelGen.Transformers;

/// <summary>A BERT-family model that classifies sequences: what the Trainer task and the pipelines program against.</summary>
public interface ISequenceClassifier
{
    Module Module { get; }
    BertConfig Config { get; }

    /// <summary>Forward pass and mean cross-entropy; the float tensors hold ids, positions, token types and the mask.</summary>
    double Loss(Tensor ids, Tensor positions, Tensor types, Tensor mask, ReadOnlySpan<int> labels);

    /// <summary>Forward pass: logits [batch, num_labels].</summary>
    Tensor Logits(Tensor ids, Tensor positions, Tensor types, Tensor mask);

    void Backward();
}

public partial class BertForSequenceClassification : ISequenceClassifier
{
    public Module Module => this;
    public BertConfig Config { get; set; } = new() { Architectures = ["BertForSequenceClassification"] };
    public double Loss(Tensor ids, Tensor positions, Tensor types, Tensor mask, ReadOnlySpan<int> labels) => CrossEntropy(ids, positions, types, mask, labels);
    public Tensor Logits(Tensor ids, Tensor positions, Tensor types, Tensor mask) => Run(ids, positions, types, mask);

    /// <summary>Loads config.json and the weights of a HuggingFace-layout directory (a new classification head is
    /// initialised when the checkpoint has none, and reported).</summary>
    public static BertForSequenceClassification FromPretrained(string directory, Device? device = null, int? numLabels = null, int seed = 0)
        => (BertForSequenceClassification)AutoModel.FromPretrained(directory, device, numLabels, seed, "BertForSequenceClassification");

    /// <summary>Writes config.json and model.safetensors with HuggingFace's names.</summary>
    public void SavePretrained(string directory) => AutoModel.SavePretrained(this, Config with { Architectures = ["BertForSequenceClassification"], NumLabels = NumLabels }, directory);
}

public partial class DistilBertForSequenceClassification : ISequenceClassifier
{
    public Module Module => this;
    public BertConfig Config { get; set; } = new() { ModelType = "distilbert", Architectures = ["DistilBertForSequenceClassification"] };
    public double Loss(Tensor ids, Tensor positions, Tensor types, Tensor mask, ReadOnlySpan<int> labels) => CrossEntropy(ids, positions, mask, labels);
    public Tensor Logits(Tensor ids, Tensor positions, Tensor types, Tensor mask) => Run(ids, positions, mask);

    public static DistilBertForSequenceClassification FromPretrained(string directory, Device? device = null, int? numLabels = null, int seed = 0)
        => (DistilBertForSequenceClassification)AutoModel.FromPretrained(directory, device, numLabels, seed, "DistilBertForSequenceClassification");

    public void SavePretrained(string directory) => AutoModel.SavePretrained(this, Config with { Architectures = ["DistilBertForSequenceClassification"], NumLabels = NumLabels }, directory);
}

public partial class BertModel
{
    public BertConfig Config { get; internal set; } = new() { Architectures = ["BertModel"] };

    public static BertModel FromPretrained(string directory, Device? device = null, int seed = 0)
        => (BertModel)AutoModel.FromPretrained(directory, device, null, seed, "BertModel");

    public void SavePretrained(string directory) => AutoModel.SavePretrained(this, Config with { Architectures = ["BertModel"] }, directory);
}

/// <summary>HuggingFace's AutoModel: picks the class from config.json (architectures, model_type), builds it with the
/// config's sizes and loads the weights, reporting missing and unexpected keys.</summary>
public static class AutoModel
{
    /// <summary>What the last load found (missing keys are newly initialised, as in HuggingFace).</summary>
    public static LoadReport? LastLoadReport { get; private set; }

    public static EncoderSizes Sizes(BertConfig c)
    {
        if (c.Activation != BertActivation.Gelu)
            throw new NotSupportedException($"hidden_act '{c.HiddenAct}' is not supported yet by ModelGen's BERT (exact GELU only).");
        return new EncoderSizes(c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings,
            c.IsDistilBert ? 0 : c.TypeVocabSize, c.LayerNormEps, c.HiddenDropoutProb, c.PadTokenId ?? 0, c.AttentionProbsDropoutProb);
    }

    public static Module FromPretrained(string directory, Device? device = null, int? numLabels = null, int seed = 0, string? architecture = null)
    {
        var config = PretrainedFiles.LoadConfig(directory);
        architecture ??= config.Architectures.FirstOrDefault() ?? (config.IsDistilBert ? "DistilBertModel" : "BertModel");
        var sizes = Sizes(config);
        int labels = numLabels ?? config.NumLabels;
        if (numLabels is int n && n != config.NumLabels) config = config with { NumLabels = n, Id2Label = new Dictionary<int, string>(), Label2Id = new Dictionary<string, int>() };
        device ??= Device.Default;
        Module model = architecture switch
        {
            "BertForSequenceClassification" => new BertForSequenceClassification(sizes, labels, device, seed) { Config = config },
            "DistilBertForSequenceClassification" => new DistilBertForSequenceClassification(sizes, labels, device, seed) { Config = config },
            "BertModel" => new BertModel(sizes, device, seed) { Config = config },
            "DistilBertModel" => new DistilBertModel(sizes, device, seed),
            _ => throw new NotSupportedException($"{directory}: architecture '{architecture}' is not supported (BertModel, BertForSequenceClassification, DistilBertModel, DistilBertForSequenceClassification)."),
        };
        using var weights = PretrainedFiles.OpenWeights(directory);
        LastLoadReport = LoadWeights(model, architecture, weights);
        if (!LastLoadReport.IsExact) Console.Error.WriteLine($"{directory}: {LastLoadReport}");
        return model;
    }

    /// <summary>Loads every parameter found in the checkpoint (names mapped to HuggingFace's, shapes checked).</summary>
    public static LoadReport LoadWeights(Module model, string architecture, PretrainedWeights weights)
    {
        var loaded = new List<string>();
        var missing = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in model.Parameters)
        {
            var name = WeightNames.ToHuggingFace(p.Name, architecture);
            if (!weights.TryResolve(name, out var stored))
            {
                missing.Add(name);
                continue;
            }
            var shape = weights.GetShape(stored);
            if (!shape.AsSpan().SequenceEqual(p.Shape.Dims))
                throw new InvalidDataException($"{weights.Directory}: tensor '{stored}' has shape {Shape.Format(shape)} but {model.GetType().Name} expects {p.Shape} for {name}.");
            if (p.Value.Device.IsCpu && p.Value.DType == DType.Float64) weights.ReadInto(stored, p.Value.AsSpan<double>());
            else if (p.Value.Device.IsCpu) weights.ReadInto(stored, p.Value.AsSpan<float>());
            else p.Value.CopyFrom<float>(weights.ReadFloats(stored));
            used.Add(stored);
            loaded.Add(name);
        }
        var ignored = weights.Names.Where(n => !used.Contains(n) && n.EndsWith("position_ids", StringComparison.Ordinal)).ToList();
        var unexpected = weights.Names.Where(n => !used.Contains(n) && !ignored.Contains(n)).ToList();
        return new LoadReport(loaded, missing, unexpected, ignored);
    }

    public static void SavePretrained(Module model, BertConfig config, string directory)
    {
        Directory.CreateDirectory(directory);
        config.Save(Path.Combine(directory, PretrainedFiles.ConfigFileName));
        var architecture = config.Architectures.FirstOrDefault() ?? "BertModel";
        var host = model.Parameters.Select(p => (Name: WeightNames.ToHuggingFace(p.Name, architecture), Value: p.Value.Device.IsCpu ? p.Value : p.Value.To(Device.Cpu))).ToList();
        try
        {
            SafeTensorsWriter.Write(Path.Combine(directory, PretrainedFiles.WeightsFileName), host.Select(h => (h.Name, h.Value)),
                new Dictionary<string, string> { ["format"] = "pt" });
        }
        finally
        {
            foreach (var (_, value) in host)
                if (!model.Parameters.Any(p => ReferenceEquals(p.Value, value))) value.Dispose();
        }
    }
}
