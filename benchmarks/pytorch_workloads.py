#!/usr/bin/python3
"""PyTorch side of ModelGen's side-by-side benchmarks (Debian's python3-torch 1.13).

Usage: OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 benchmarks/pytorch_workloads.py WORKLOAD
WORKLOAD: gemm | mlp64 | mlp512 | minilm_forward_1x16 | minilm_forward_32x128 | minilm_step_32x64
Prints one JSON object per line: {"workload": ..., "seconds" or "gflops": ...}. Flush-to-zero is on (PyTorch's
fastest configuration here: Adam's state otherwise fills with denormals). MiniLM is the HuggingFace-structured BERT of
benchmarks/pytorch_main_job.py with random weights; gradients are released with zero_grad(set_to_none=True).
"""
import gzip, json, os, resource, sys, time
import numpy as np
import torch

# the hand-written HuggingFace BERT of the main job's twin (same folder; importable however this script is started)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_main_job import BertForSequenceClassification, init_like_huggingface, without_default_init  # noqa: E402

torch.set_flush_denormal(True)
torch.set_num_threads(2)
torch.manual_seed(0)


def emit(fields):
    """One JSON line, with the process's peak resident set (ru_maxrss is in KiB on Linux)."""
    fields["peak_working_set_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(json.dumps(fields), flush=True)


def warm_up(call):
    """At least 3 calls and 1 s, as on ModelGen's side (where the JIT needs it; here it is only symmetric)."""
    start, calls = time.perf_counter(), 0
    while calls < 3 or time.perf_counter() - start < 1:
        call()
        calls += 1


def fashion(split):
    root = "/usr/share/datasets/fashion-mnist/"
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(root + prefix + "-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255
    with gzip.open(root + prefix + "-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return torch.from_numpy(images), torch.from_numpy(labels)


# the square sizes, then the shapes the workloads run (layout, M, N, K); keep in step with ModelGen.Benchmarks
WORKLOAD_SHAPES = [
    ("NT", 64, 512, 784), ("NT", 64, 512, 512), ("NN", 64, 512, 512), ("TN", 512, 784, 64),
    ("NT", 512, 512, 784), ("TN", 512, 784, 512),
    ("NT", 16, 384, 384), ("NT", 16, 1536, 384), ("NT", 16, 384, 1536),
    ("NT", 4096, 384, 384), ("NT", 4096, 1536, 384), ("NT", 4096, 384, 1536),
    ("NN", 2048, 384, 1536), ("TN", 1536, 384, 2048),
]


def gemm():
    shapes = [(layout, n, n, n, f"gemm {layout} {n}") for n in (256, 512, 1024) for layout in ("NN", "NT", "TN")]
    shapes += [(layout, m, n, k, f"gemm {layout} {m}x{n}x{k}") for layout, m, n, k in WORKLOAD_SHAPES]
    for layout, m, n, k, name in shapes:
        a = torch.rand(k, m).t() if layout == "TN" else torch.rand(m, k)
        b = torch.rand(n, k).t() if layout == "NT" else torch.rand(k, n)
        c = torch.empty(m, n)
        warm_up(lambda: torch.matmul(a, b, out=c))
        flop = 2.0 * m * n * k
        reps = max(3, int(1e11 / flop))  # about 0.5 s of timed calls per shape
        t = time.perf_counter()
        for _ in range(reps):
            torch.matmul(a, b, out=c)
        s = (time.perf_counter() - t) / reps
        emit({"workload": name, "gflops": flop / s / 1e9})
    gemm_streamed()


def gemm_streamed():
    """A Linear layer on 16 tokens with its weights coming from memory (24 different 1536×384 weights, 57 MB > L3)."""
    m, n, k, copies = 16, 1536, 384, 24
    a = torch.rand(m, k)
    weights = [torch.rand(n, k) for _ in range(copies)]
    c = torch.empty(m, n)
    calls = [0]

    def call():
        torch.matmul(a, weights[calls[0] % copies].t(), out=c)
        calls[0] += 1
    warm_up(call)
    reps = 100 * copies
    t = time.perf_counter()
    for i in range(reps):
        torch.matmul(a, weights[i % copies].t(), out=c)
    s = (time.perf_counter() - t) / reps
    emit({"workload": f"gemm NT {m}x{n}x{k} weights from memory", "gflops": 2.0 * m * n * k / s / 1e9})


def mlp(batch):
    x, y = fashion("train")
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    perm = torch.randperm(len(x))
    t = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)  # PyTorch 1.13's default zero_grad() is a memset of every gradient
        loss.backward()
        opt.step()
    emit({"workload": f"mlp epoch batch {batch}", "seconds": time.perf_counter() - t})


# MiniLM-L6 sizes (all-MiniLM-L6-v2's config.json), with ModelGen.Benchmarks' MiniLmSizes(): dropout 0.1 everywhere
MINILM_CONFIG = {
    "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536,
    "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "classifier_dropout": None, "pad_token_id": 0, "hidden_act": "gelu",
}


def minilm():
    """BertForSequenceClassification (2 labels) at MiniLM-L6's sizes with random weights, initialised as HuggingFace
    initialises a new model (normal std 0.02, zero biases, LayerNorm 1/0; the 91 MB ONNX file is not needed for timing).
    It is the hand-written HuggingFace BERT of benchmarks/pytorch_main_job.py, so the same work as ModelGen's BERT:
    HuggingFace's 3 dropouts per layer (attention probabilities, attention output, FFN output), plus the embeddings'
    and the classifier's; the pooler (dense + tanh on token 0); the mask added as (1 − mask) · −10000 on the keys.
    Called as model(ids, attention_mask, token_type_ids)."""
    with without_default_init():
        model = BertForSequenceClassification(MINILM_CONFIG, num_labels=2)
    model.apply(lambda module: init_like_huggingface(module, 0.02))
    return model


def minilm_inputs(batch, seq):
    """Token ids, an all-ones attention mask (1 real, 0 padding) and token types 0, as ModelGen.Benchmarks' Inputs()."""
    ids = torch.randint(1000, 20000, (batch, seq))
    return ids, torch.ones(batch, seq, dtype=torch.long), torch.zeros(batch, seq, dtype=torch.long)


def minilm_forward(batch, seq):
    model = minilm().eval()
    ids, mask, types = minilm_inputs(batch, seq)
    with torch.no_grad():
        warm_up(lambda: model(ids, mask, types))
        reps = 200 if batch == 1 else 3
        t = time.perf_counter()
        for _ in range(reps):
            model(ids, mask, types)
    emit({"workload": f"minilm forward {batch}x{seq}", "seconds": (time.perf_counter() - t) / reps})


def minilm_step(batch, seq):
    model = minilm().train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    ids, mask, types = minilm_inputs(batch, seq)
    labels = torch.randint(0, 2, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(ids, mask, types), labels)
        opt.zero_grad(set_to_none=True)  # PyTorch 1.13's default zero_grad() is a memset of every gradient
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    t = time.perf_counter()
    for _ in range(3):
        step()
    emit({"workload": f"minilm step {batch}x{seq}", "seconds": (time.perf_counter() - t) / 3})


if __name__ == "__main__":
    w = sys.argv[1]
    {"gemm": gemm, "mlp64": lambda: mlp(64), "mlp512": lambda: mlp(512),
     "minilm_forward_1x16": lambda: minilm_forward(1, 16), "minilm_forward_32x128": lambda: minilm_forward(32, 128),
     "minilm_step_32x64": lambda: minilm_step(32, 64)}[w]()
