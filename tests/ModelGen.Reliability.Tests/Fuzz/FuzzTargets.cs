using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ModelGen.Data;
using ModelGen.IO;
using ModelGen.Transformers;
using Encoding = System.Text.Encoding;

namespace ModelGen.Reliability.Tests.Fuzz;

/// <summary>A reader under fuzzing: its valid seed files, what it may throw, and how to read a file completely (every
/// tensor, every row, a tokenization), so that a corruption that gets past the first check is still exercised.</summary>
public sealed record FuzzTarget(string Name, string FileName, IReadOnlyList<FuzzSeed> Seeds, Type[] Allowed, Action<string> Read)
{
    public override string ToString() => Name;
}

public static class FuzzTargets
{
    private static readonly Lazy<List<FuzzTarget>> Targets = new(Create);

    public static IReadOnlyList<FuzzTarget> All => Targets.Value;

    public static FuzzTarget Get(string name) => All.Single(t => t.Name == name);

    private static List<FuzzTarget> Create() =>
    [
        new("safetensors", "model.safetensors", SafeTensorsSeeds(), [typeof(SafeTensorsFormatException)], ReadSafeTensors),
        new("config", "config.json", ConfigSeeds(), [typeof(BertConfigException)], ReadConfig),
        new("vocab", "vocab.txt", VocabSeeds(), [typeof(InvalidDataException)], path => UseTokenizer(BertTokenizer.FromVocabFile(path))),
        new("tokenizer-json", "tokenizer.json", TokenizerJsonSeeds(), [typeof(InvalidDataException)], path => UseTokenizer(BertTokenizer.FromTokenizerJson(path))),
        new("idx-images", "images-idx3-ubyte", IdxSeeds(images: true), [typeof(InvalidDataException)], path => Idx.ReadImages(path)),
        new("idx-labels", "labels-idx1-ubyte", IdxSeeds(images: false), [typeof(InvalidDataException)], path => Idx.ReadLabels(path)),
        new("csv", "data.csv", CsvSeeds(), [typeof(InvalidDataException)], path => UseRecords(Dataset.FromCsv(path))),
        new("json", "data.json", JsonSeeds(), [typeof(InvalidDataException)], path => UseRecords(Dataset.FromJson(path))),
        new("jsonl", "data.jsonl", JsonLinesSeeds(), [typeof(InvalidDataException)], path => UseRecords(Dataset.FromJsonLines(path))),
    ];

    // ------------------------------------------------------------------ safetensors

    private static void ReadSafeTensors(string path)
    {
        long fileLength = new FileInfo(path).Length;
        using var file = SafeTensorsFile.Open(path);
        foreach (var t in file.Tensors)
        {
            // every read stays inside the file: the header's layout was validated against the file's length
            if (t.Offset < 0 || t.ByteLength < 0 || file.DataStart + t.Offset + t.ByteLength > fileLength)
                throw new InvalidOperationException($"tensor {t} reaches outside the file ({fileLength} bytes)");
            _ = file.ReadFloats(t.Name);
            _ = file.ReadDoubles(t.Name);
            using var tensor = file.ReadTensor(t.Name);
        }
        _ = file.Metadata.Count;
    }

    private static List<FuzzSeed> SafeTensorsSeeds()
    {
        var seeds = new List<FuzzSeed>();
        // written by SafeTensorsWriter (F32 and F64, metadata), then split back into header and data
        using (var a = Tensor.From([1f, 2f, 3f, 4f, 5f, 6f], 2, 3))
        using (var b = Tensor.From(new float[] { -1.5f }, 1))
        using (var c = Tensor.From<double>([0.25, 1e300, -7], new Shape(3), DType.Float64, Device.Cpu))
        {
            var stream = new MemoryStream();
            SafeTensorsWriter.Write(stream, [("weight", a), ("bias", b), ("scale", c)], new Dictionary<string, string> { ["format"] = "pt" });
            seeds.Add(SplitSafeTensors("writer", stream.ToArray()));
        }
        // every other dtype, a scalar, an empty tensor, by hand
        seeds.Add(SafeTensorsByHand("dtypes", [("h", "F16", [2], 4), ("bf", "BF16", [2, 1], 4), ("i", "I64", [1], 8), ("u", "U8", [3], 3),
            ("b", "BOOL", [2], 2), ("s", "I16", [], 2), ("e", "F32", [0, 5], 0), ("w", "U32", [1], 4), ("q", "I8", [1], 1), ("z", "U64", [1], 8)]));
        seeds.Add(SafeTensorsByHand("one", [("x", "F32", [1, 1], 4)]));
        return seeds;
    }

    private static FuzzSeed SplitSafeTensors(string name, byte[] file)
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return SafeTensorsSeed(name, file.AsSpan(8, headerLength).ToArray(), file.AsSpan(8 + headerLength).ToArray());
    }

    private static FuzzSeed SafeTensorsByHand(string name, (string Name, string DType, int[] Shape, int Bytes)[] tensors)
    {
        var header = new StringBuilder("{\"__metadata__\":{\"source\":\"fuzz\"}");
        long offset = 0;
        foreach (var t in tensors)
        {
            header.Append($",\"{t.Name}\":{{\"dtype\":\"{t.DType}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{offset},{offset + t.Bytes}]}}");
            offset += t.Bytes;
        }
        header.Append('}');
        var data = new byte[offset];
        new Random(name.Length).NextBytes(data);
        return SafeTensorsSeed(name, Encoding.UTF8.GetBytes(header.ToString()), data);
    }

    /// <summary>Header and data as segments; the assembled file carries the (mutated) header's true length, so header
    /// mutations reach the JSON parser and the layout checks (whole-file mutations still corrupt the prefix).</summary>
    private static FuzzSeed SafeTensorsSeed(string name, byte[] header, byte[] data) =>
        new(name, [new Segment(header, Text: true), new Segment(data, Text: false)], parts =>
        {
            var file = new byte[8 + parts[0].Length + parts[1].Length];
            BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)parts[0].Length);
            parts[0].CopyTo(file, 8);
            parts[1].CopyTo(file, 8 + parts[0].Length);
            return file;
        });

    // ------------------------------------------------------------------ config.json

    private static void ReadConfig(string path)
    {
        var config = BertConfig.Load(path);
        config.Validate(path);
        _ = config.Activation;
        _ = config.HeadDim;
        _ = config.GetLabel(0);
        _ = BertConfig.Parse(config.ToJson(), path); // what it writes, it reads back
    }

    private static List<FuzzSeed> ConfigSeeds()
    {
        var bert = new BertConfig
        {
            VocabSize = 30, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 32,
            Architectures = ["BertForSequenceClassification"], NumLabels = 2,
            Id2Label = new Dictionary<int, string> { [0] = "NEGATIVE", [1] = "POSITIVE" },
            Label2Id = new Dictionary<string, int> { ["NEGATIVE"] = 0, ["POSITIVE"] = 1 }, ProblemType = "single_label_classification",
        };
        var distil = new BertConfig { ModelType = "distilbert", VocabSize = 50, HiddenSize = 12, NumHiddenLayers = 2, NumAttentionHeads = 3, IntermediateSize = 24, TypeVocabSize = 0, SinusoidalPosEmbds = true };
        return
        [
            FuzzSeed.Whole("bert", Encoding.UTF8.GetBytes(bert.ToJson()), text: true),
            FuzzSeed.Whole("distilbert", Encoding.UTF8.GetBytes(distil.ToJson()), text: true),
            FuzzSeed.Whole("minimal", """{"vocab_size": 10, "hidden_size": 4, "num_attention_heads": 2, "pad_token_id": null, "transformers_version": "4.44.0", "layer_norm_eps": 1e-12}"""u8.ToArray(), text: true),
        ];
    }

    // ------------------------------------------------------------------ vocab.txt and tokenizer.json

    private static readonly string[] Vocabulary =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s", "sat", "on", "mat", "hello", "world", ",", "!", ".", "é", "##é", "你", "好",
        "un", "##believ", "##able", "i", "love", "nl", "##p",
    ];

    private static readonly string[] Sentences = ["Hello, world! The cats sat on the mat.", "unbelievable NLP: I love 你好 [MASK] é", "", "   \t\n", "x" + new string('y', 300)];

    private static void UseTokenizer(BertTokenizer tokenizer)
    {
        foreach (var s in Sentences)
        {
            var e = tokenizer.Encode(s, maxLength: 64);
            _ = tokenizer.Decode(e.InputIds);
        }
        _ = tokenizer.EncodeBatch(Sentences, maxLength: 16);
    }

    private static List<FuzzSeed> VocabSeeds() =>
    [
        FuzzSeed.Whole("lf", Encoding.UTF8.GetBytes(string.Join("\n", Vocabulary) + "\n"), text: true),
        FuzzSeed.Whole("crlf-bom", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(string.Join("\r\n", Vocabulary))], text: true),
    ];

    private static List<FuzzSeed> TokenizerJsonSeeds()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-fuzz-seed").FullName;
        try
        {
            BertTokenizer.FromVocab(Vocabulary).SavePretrained(dir);
            var saved = File.ReadAllBytes(Path.Combine(dir, "tokenizer.json"));
            // HuggingFace's older post-processor form and a non-special added token
            var bertProcessing = """
                {"version":"1.0","added_tokens":[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                 {"id":27,"content":"<new>","single_word":false,"lstrip":true,"rstrip":false,"normalized":true,"special":false}],
                 "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
                 "pre_tokenizer":{"type":"BertPreTokenizer"},
                 "post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},
                 "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
                 "vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":4,"the":5,"cat":6,"##s":7,"hello":8}}}
                """;
            return
            [
                FuzzSeed.Whole("saved", saved, text: true),
                FuzzSeed.Whole("bert-processing", Encoding.UTF8.GetBytes(bertProcessing), text: true),
            ];
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    // ------------------------------------------------------------------ IDX

    private static List<FuzzSeed> IdxSeeds(bool images)
    {
        var header = new byte[images ? 16 : 8];
        BinaryPrimitives.WriteInt32BigEndian(header, images ? Idx.ImagesMagic : Idx.LabelsMagic);
        int count = 3;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        if (images)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 4);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 5);
        }
        var payload = new byte[images ? count * 4 * 5 : count];
        new Random(5).NextBytes(payload);
        Segment[] segments = [new(header, Text: false), new(payload, Text: false)];
        return
        [
            new FuzzSeed("plain", segments, parts => [.. parts[0], .. parts[1]]),
            new FuzzSeed("gzip", segments, parts => Gzip([.. parts[0], .. parts[1]])),
        ];
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return output.ToArray();
    }

    // ------------------------------------------------------------------ CSV, JSON, JSON Lines

    private static void UseRecords(Dataset<Record> rows)
    {
        foreach (var row in rows)
            foreach (var key in row.Keys)
                if (!row.IsNull(key)) _ = row.GetString(key);
    }

    private static List<FuzzSeed> CsvSeeds() =>
    [
        FuzzSeed.Whole("quoted", "text,label,score\n\"hello, world\",1,0.5\n\"say \"\"hi\"\"\",0,-2e3\n\"two\nlines\",1,\n"u8.ToArray(), text: true),
        FuzzSeed.Whole("crlf", "a,b\r\n1,2\r\n3,4\r\n\r\n5,6"u8.ToArray(), text: true),
    ];

    private static List<FuzzSeed> JsonSeeds() =>
    [
        FuzzSeed.Whole("records", """[{"text": "good", "label": 1, "score": 0.25, "ok": true}, {"text": "bad \u00e9", "label": 0, "score": -1e5, "ok": null, "tags": ["a", {"b": 2}]}]"""u8.ToArray(), text: true),
    ];

    private static List<FuzzSeed> JsonLinesSeeds() =>
    [
        FuzzSeed.Whole("lines", "{\"text\": \"good\", \"label\": 1}\n\n{\"text\": \"bad\", \"label\": 0, \"score\": 12345678901234}\n{\"x\": [1, 2.5, null]}\n"u8.ToArray(), text: true),
    ];
}
