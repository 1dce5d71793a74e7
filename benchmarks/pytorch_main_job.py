#!/usr/bin/python3
"""PyTorch 1.13 twin of ModelGen's main job (samples/Sentiment): fine-tunes all-MiniLM-L6-v2 as
BertForSequenceClassification on the same seeded stratified split, with the same recipe and the same dynamic padding,
then saves the model, loads it back into a fresh model and classifies the sample's 7 sentences.

Usage: /usr/bin/python3 benchmarks/pytorch_main_job.py --split DIR --model DIR --output DIR --seed N
                                                     [--epochs 3] [--batch-size 32] [--max-length 64] [--quick]
  --split DIR   train.jsonl and test.jsonl ({"text": ..., "label": 0|1} per line), as `Sentiment --export-split` writes
  --model DIR   HuggingFace-layout folder: config.json, model.safetensors (float32), vocab.txt (bert-base-uncased)
  --output DIR  where the fine-tuned model is saved (DIR/model/pytorch_model.bin, config.json, vocab.txt)
  --quick       1 epoch on the first 320 training and 160 test sentences (as the sample's --quick)

Everything is hand-written so that nothing but torch and numpy is needed: BERT with HuggingFace's BertModel layer
structure (and its parameter names, so the saved state_dict is a HuggingFace checkpoint), a numpy safetensors reader,
and a pure-Python port of HuggingFace's BertTokenizer (uncased). Recipe (HuggingFace Trainer defaults as ModelGen's
Trainer has them): batch 32, AdamW lr 5e-5 (0.9/0.999, eps 1e-8), weight decay 0.01 on weights only (none on biases
and LayerNorm weights), linear decay to 0 with no warm-up, global-norm clipping at 1.0, dropout 0.1 (embeddings,
attention probabilities, attention output, FFN output, classifier), evaluation on the test split after each epoch
(batch 64). Batches are padded to their longest example rounded up to a multiple of 8 (at most --max-length).
"""
import argparse, contextlib, json, math, os, shutil, sys, time, unicodedata
import numpy as np
import torch
from torch import nn

EXAMPLES = [
    "I love NLP!",
    "This movie was absolutely wonderful, I enjoyed every minute of it.",
    "The food was delicious and the staff were friendly.",
    "Great phone, the battery lasts for days.",
    "This is the worst phone I have ever bought.",
    "Terrible service, I will never come back.",
    "The plot was boring and the acting was awful.",
]
ID2LABEL = {0: "NEGATIVE", 1: "POSITIVE"}
PAD_MULTIPLE = 8


# ---------------------------------------------------------------------------------------------------------------------
# Tokenizer: HuggingFace's BertTokenizer (BasicTokenizer + WordpieceTokenizer), uncased
# ---------------------------------------------------------------------------------------------------------------------

def load_vocab(path):
    """One token per line, id = line index (LF or CRLF; Python's universal newlines); a repeated token keeps its last
    line, as in HuggingFace's load_vocab."""
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for index, line in enumerate(f):
            vocab[line.rstrip("\n")] = index
    return vocab


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class BertTokenizer:
    def __init__(self, vocab_path, do_lower_case=True, max_input_chars_per_word=100):
        self.vocab = load_vocab(vocab_path)
        self.do_lower_case = do_lower_case
        self.max_input_chars_per_word = max_input_chars_per_word
        self.never_split = {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"}
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]

    # BasicTokenizer
    @staticmethod
    def _clean_text(text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            out.append(" " if _is_whitespace(ch) else ch)
        return "".join(out)

    @staticmethod
    def _tokenize_chinese_chars(text):
        out = []
        for ch in text:
            if _is_chinese_char(ord(ch)):
                out.extend((" ", ch, " "))
            else:
                out.append(ch)
        return "".join(out)

    @staticmethod
    def _strip_accents(text):
        return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")

    @staticmethod
    def _split_on_punc(text):
        words, start_new = [], True
        for ch in text:
            if _is_punctuation(ch):
                words.append(ch)
                start_new = True
            else:
                if start_new:
                    words.append("")
                    start_new = False
                words[-1] += ch
        return words

    def basic_tokenize(self, text):
        text = self._tokenize_chinese_chars(self._clean_text(text))
        split = []
        for token in text.split():
            if token in self.never_split:
                split.append(token)
                continue
            if self.do_lower_case:
                token = self._strip_accents(token.lower())
            split.extend(self._split_on_punc(token))
        return " ".join(split).split()

    # WordpieceTokenizer: greedy longest-match-first
    def wordpiece(self, word):
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids

    def encode(self, text, max_length):
        """[CLS] pieces [SEP], the pieces truncated to max_length − 2."""
        pieces = []
        for word in self.basic_tokenize(text):
            pieces.extend(self.wordpiece(word))
        return [self.cls_id] + pieces[:max_length - 2] + [self.sep_id]


# ---------------------------------------------------------------------------------------------------------------------
# Model: HuggingFace's BertForSequenceClassification, module for module (same parameter names)
# ---------------------------------------------------------------------------------------------------------------------

class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c.get("type_vocab_size", 2), c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(c.get("hidden_dropout_prob", 0.1))

    def forward(self, input_ids, token_type_ids):
        positions = torch.arange(input_ids.shape[1], dtype=torch.long).unsqueeze(0)
        h = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(h))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["num_attention_heads"]
        self.head_size = c["hidden_size"] // self.heads
        self.query = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.key = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.value = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.dropout = nn.Dropout(c.get("attention_probs_dropout_prob", 0.1))

    def _heads(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_size).permute(0, 2, 1, 3)

    def forward(self, h, extended_mask):
        q, k, v = self._heads(self.query(h)), self._heads(self.key(h)), self._heads(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size) + extended_mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return context.view(context.shape[0], context.shape[1], -1)


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(c.get("hidden_dropout_prob", 0.1))

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, h, extended_mask):
        return self.output(self.self(h, extended_mask), h)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))  # exact (erf) GELU


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(c.get("hidden_dropout_prob", 0.1))

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, h, extended_mask):
        a = self.attention(h, extended_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, h, extended_mask):
        for layer in self.layer:
            h = layer(h, extended_mask)
        return h


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        # HuggingFace's get_extended_attention_mask of the 1.13 era: (1 − mask) · −10000 on the keys
        extended = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        return self.pooler(self.encoder(self.embeddings(input_ids, token_type_ids), extended))


class BertForSequenceClassification(nn.Module):
    def __init__(self, c, num_labels):
        super().__init__()
        self.bert = BertModel(c)
        drop = c.get("classifier_dropout")
        self.dropout = nn.Dropout(drop if drop is not None else c.get("hidden_dropout_prob", 0.1))
        self.classifier = nn.Linear(c["hidden_size"], num_labels)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.classifier(self.dropout(self.bert(input_ids, attention_mask, token_type_ids)))


@contextlib.contextmanager
def without_default_init():
    """Builds modules with uninitialised parameters (every one is then loaded or initialised like HuggingFace), so
    that no time goes into PyTorch's default initialisation of weights that are overwritten at once."""
    kinds = (nn.Linear, nn.Embedding, nn.LayerNorm)
    saved = [k.reset_parameters for k in kinds]
    for k in kinds:
        k.reset_parameters = lambda self: None
    try:
        yield
    finally:
        for k, f in zip(kinds, saved):
            k.reset_parameters = f


def init_like_huggingface(module, std):
    """BertPreTrainedModel._init_weights for a newly created module."""
    if isinstance(module, nn.Linear):
        module.weight.data.normal_(mean=0.0, std=std)
        if module.bias is not None:
            module.bias.data.zero_()
    elif isinstance(module, nn.Embedding):
        module.weight.data.normal_(mean=0.0, std=std)
        if module.padding_idx is not None:
            module.weight.data[module.padding_idx].zero_()
    elif isinstance(module, nn.LayerNorm):
        module.bias.data.zero_()
        module.weight.data.fill_(1.0)


# ---------------------------------------------------------------------------------------------------------------------
# safetensors with numpy
# ---------------------------------------------------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32, "BF16": np.uint16}


def read_safetensors(path):
    """{name: float32 torch tensor} (F32, F16, BF16 and F64 are read; integer tensors such as position_ids are kept as
    they are)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = info["dtype"]
        if dtype not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        array = np.frombuffer(data, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"), count=(end - begin) // np.dtype(_DTYPES[dtype]).itemsize,
                              offset=begin).reshape(info["shape"])
        if dtype == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        elif dtype in ("F16", "F64"):
            array = array.astype(np.float32)
        tensors[name] = torch.from_numpy(np.array(array))  # a copy: writable, native byte order
    return tensors


def load_pretrained(model, path, std):
    """Loads the checkpoint into the model (names with or without the `bert.` prefix); what the checkpoint lacks (the
    classifier) is initialised as HuggingFace does (normal std 0.02, zero bias)."""
    weights = read_safetensors(path)
    own = model.state_dict()
    loaded, unexpected = set(), []
    for stored, value in weights.items():
        name = stored if stored.startswith(("bert.", "classifier.")) else "bert." + stored
        if name not in own:
            if not stored.endswith("position_ids"):
                unexpected.append(stored)
            continue
        if tuple(own[name].shape) != tuple(value.shape):
            raise ValueError(f"{path}: {stored} has shape {list(value.shape)}, the model expects {list(own[name].shape)}")
        with torch.no_grad():
            own[name].copy_(value)
        loaded.add(name)
    missing = [n for n in own if n not in loaded]
    modules = dict(model.named_modules())
    for owner in dict.fromkeys(name.rsplit(".", 1)[0] for name in missing):
        init_like_huggingface(modules[owner], std)
    not_head = [n for n in missing if not n.startswith("classifier.")]
    if not_head or unexpected:
        print(f"{path}: newly initialised {not_head}; unused {unexpected}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------------

def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def collate(encoded, labels, indices, max_length, pad_id):
    """Pads to the batch's longest example rounded up to a multiple of 8 (at most max_length)."""
    longest = max(len(encoded[i]) for i in indices)
    seq = min(max_length, (longest + PAD_MULTIPLE - 1) // PAD_MULTIPLE * PAD_MULTIPLE)
    ids = torch.full((len(indices), seq), pad_id, dtype=torch.long)
    mask = torch.zeros((len(indices), seq), dtype=torch.long)
    for row, i in enumerate(indices):
        e = encoded[i]
        ids[row, :len(e)] = torch.tensor(e, dtype=torch.long)
        mask[row, :len(e)] = 1
    types = torch.zeros_like(ids)
    return ids, mask, types, (torch.tensor([labels[i] for i in indices], dtype=torch.long) if labels is not None else None)


def evaluate(model, encoded, labels, batch_size, max_length, pad_id):
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            indices = list(range(start, min(start + batch_size, len(encoded))))
            ids, mask, types, y = collate(encoded, labels, indices, max_length, pad_id)
            logits = model(ids, mask, types)
            loss_sum += nn.functional.cross_entropy(logits, y).item() * len(indices)
            correct += (logits.argmax(dim=-1) == y).sum().item()
    model.train()
    n = max(1, len(encoded))
    return correct / n, loss_sum / n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval-batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    model_dir = os.path.expanduser(args.model)

    # the data: the split ModelGen's sample holds, in its order
    train = read_jsonl(os.path.join(args.split, "train.jsonl"))
    test = read_jsonl(os.path.join(args.split, "test.jsonl"))
    epochs = args.epochs
    if args.quick:
        epochs, train, test = 1, train[:320], test[:160]
    print(f"{len(train)} training and {len(test)} test sentences; {epochs} epoch(s), batch {args.batch_size}, AdamW {args.lr}, device cpu", flush=True)

    # the model: pretrained encoder and pooler, a new classifier from the seed
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    if config.get("hidden_act", "gelu") != "gelu":
        raise SystemExit(f"hidden_act {config['hidden_act']} is not supported (exact GELU only)")
    torch.manual_seed(args.seed)
    with without_default_init():
        model = BertForSequenceClassification(config, num_labels=2)
    load_pretrained(model, os.path.join(model_dir, "model.safetensors"), config.get("initializer_range", 0.02))
    model.train()
    tokenizer = BertTokenizer(os.path.join(model_dir, "vocab.txt"))

    clock = time.perf_counter()
    # tokenised once before training (HuggingFace's dataset.map); inside the training time, as ModelGen tokenises
    # while it trains
    train_ids = [tokenizer.encode(e["text"], args.max_length) for e in train]
    train_labels = [int(e["label"]) for e in train]
    test_ids = [tokenizer.encode(e["text"], args.max_length) for e in test]
    test_labels = [int(e["label"]) for e in test]

    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    steps_per_epoch = max(1, math.ceil(len(train_ids) / args.batch_size))
    total_steps = epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, (total_steps - step) / max(1, total_steps)))
    generator = torch.Generator().manual_seed(args.seed)
    parameters = list(model.parameters())

    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_ids), generator=generator).tolist()
        for start in range(0, len(order), args.batch_size):
            ids, mask, types, y = collate(train_ids, train_labels, order[start:start + args.batch_size], args.max_length, tokenizer.pad_id)
            loss = nn.functional.cross_entropy(model(ids, mask, types), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        accuracy, eval_loss = evaluate(model, test_ids, test_labels, args.eval_batch_size, args.max_length, tokenizer.pad_id)
        print(f"epoch {epoch + 1}: test accuracy {100 * accuracy:.2f}%, eval loss {eval_loss:.4f}", flush=True)
    print(f"training took {time.perf_counter() - clock:.0f} s", flush=True)

    # save, load back into a fresh model, classify
    saved = os.path.join(args.output, "model")
    os.makedirs(saved, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(saved, "pytorch_model.bin"))
    with open(os.path.join(saved, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config | {"architectures": ["BertForSequenceClassification"], "id2label": {str(k): v for k, v in ID2LABEL.items()},
                            "label2id": {v: k for k, v in ID2LABEL.items()}}, f, indent=2)
    shutil.copyfile(os.path.join(model_dir, "vocab.txt"), os.path.join(saved, "vocab.txt"))

    with open(os.path.join(saved, "config.json"), encoding="utf-8") as f:
        reloaded_config = json.load(f)
    labels = {int(k): v for k, v in reloaded_config["id2label"].items()}
    with without_default_init():
        classifier = BertForSequenceClassification(reloaded_config, num_labels=len(labels))
    classifier.load_state_dict(torch.load(os.path.join(saved, "pytorch_model.bin")))
    classifier.eval()
    reloaded_tokenizer = BertTokenizer(os.path.join(saved, "vocab.txt"))
    encoded = [reloaded_tokenizer.encode(text, reloaded_config.get("max_position_embeddings", 512)) for text in EXAMPLES]
    with torch.no_grad():
        ids, mask, types, _ = collate(encoded, None, list(range(len(encoded))), reloaded_config.get("max_position_embeddings", 512), reloaded_tokenizer.pad_id)
        probabilities = torch.softmax(classifier(ids, mask, types), dim=-1)
    for text, p in zip(EXAMPLES, probabilities):
        best = int(p.argmax())
        print(f"\"{text}\" -> {labels[best]} ({p[best].item():.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
