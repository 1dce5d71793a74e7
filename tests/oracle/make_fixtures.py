#!/usr/bin/python3
"""Generate PyTorch oracle fixtures for the ModelGen C# tests.

Run:   /usr/bin/python3 tests/oracle/make_fixtures.py
Needs: PyTorch (tested with Debian's torch 1.13). No other dependencies.

Writes six JSON files (or only those named as arguments) into the `fixtures/` directory next to this script:

  ops.json     {"cases": [...]}   single-op forward values and autograd VJPs
  models.json  {"models": [...]}  tiny networks: loss, parameter grads, dloss/dinput
  optim.json   {"traces": [...]}  5-step optimizer traces with explicit gradients
  conv.json    {"cases": [...]}   conv2d, batch_norm (train/eval, running stats), pooling, a tiny CNN
  bert.json    {"cases": [...]}   one HuggingFace BertLayer in float64 with padding: output, input and parameter grads
  tensor_ops.json {"cases": [...]} matmul, permute/transpose, reductions over a dim, softmax over a dim,
                                  broadcasting element-wise binary ops

Every tensor is stored as {"shape": [...], "data": [flat row-major float64]}.
All computation is in torch.float64; each section is seeded with
torch.manual_seed, and floats are written with repr (full float64 precision,
shortest round-trip form), so running the script twice produces byte-identical
files. See README.md in this directory for the full layout.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

DTYPE = torch.float64
torch.set_default_dtype(DTYPE)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def T(t):
    """Tensor -> {"shape": [...], "data": [flat row-major floats]}."""
    t = t.detach().to(DTYPE).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def randn(*shape):
    return torch.randn(*shape, dtype=DTYPE)


def dump(name, top_key, items):
    """Write {top_key: items} with one item per line (compact, deterministic)."""
    path = os.path.join(OUT_DIR, name)
    lines = [json.dumps(it, separators=(",", ":"), allow_nan=False) for it in items]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write('{"%s":[\n' % top_key)
        f.write(",\n".join(lines))
        f.write("\n]}\n")
    return path


def vjp(fn, x, extra_params=()):
    """Return (output, grad_output, grad_x, grads of extra_params) via autograd.

    A scalar output gets grad_output = 1.0; otherwise grad_output ~ randn."""
    x = x.detach().clone().requires_grad_(True)
    params = [p.detach().clone().requires_grad_(True) for p in extra_params]
    y = fn(x, *params)
    if y.dim() == 0:
        gy = torch.ones((), dtype=DTYPE)
    else:
        gy = randn(*y.shape)
    grads = torch.autograd.grad(y, [x] + params, grad_outputs=gy)
    return y, gy, grads[0], list(grads[1:])


# --------------------------------------------------------------------------
# 1. ops.json
# --------------------------------------------------------------------------

ELEMENTWISE = {
    "relu": lambda x: torch.relu(x),
    "tanh": lambda x: torch.tanh(x),
    "sigmoid": lambda x: torch.sigmoid(x),
    "gelu": lambda x: F.gelu(x),  # exact (erf) form
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "mul_scalar": lambda x: x * 2.5,
}
ROW_OPS = {
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
}
REDUCTIONS = {
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(),
}


def make_ops():
    torch.manual_seed(1234)
    cases = []

    def add(op, fn, shape, extra=None):
        x = randn(*shape)
        y, gy, gx, _ = vjp(fn, x)
        case = {"op": op, "input": T(x), "output": T(y),
                "grad_output": T(gy), "grad_input": T(gx)}
        if extra:
            case.update(extra)
        cases.append(case)

    shapes = [(3, 17), (1, 1), (257,)]
    for op, fn in ELEMENTWISE.items():
        for shape in shapes:
            add(op, fn, shape, {"scalar": 2.5} if op == "mul_scalar" else None)
    # softmax / log_softmax over the last dim; [1,1] and [257] are extra edge cases
    for op, fn in ROW_OPS.items():
        for shape in shapes:
            add(op, fn, shape, {"dim": -1})
    for op, fn in REDUCTIONS.items():
        add(op, fn, (3, 17))

    # linear: y = x @ W^T + b, W [5,17], b [5]
    x = randn(3, 17)
    w = randn(5, 17)
    b = randn(5)
    y, gy, gx, (gw, gb) = vjp(lambda x_, w_, b_: F.linear(x_, w_, b_), x, (w, b))
    cases.append({"op": "linear", "input": T(x), "output": T(y),
                  "grad_output": T(gy), "grad_input": T(gx),
                  "weight": T(w), "bias": T(b),
                  "grad_weight": T(gw), "grad_bias": T(gb)})

    # cross_entropy: logits [4,7], int targets, mean reduction
    x = randn(4, 7)
    target = torch.randint(0, 7, (4,))
    y, gy, gx, _ = vjp(lambda x_: F.cross_entropy(x_, target), x)
    cases.append({"op": "cross_entropy", "input": T(x), "output": T(y),
                  "grad_output": T(gy), "grad_input": T(gx),
                  "target": [int(t) for t in target.tolist()]})

    # mse: input [3,5], target [3,5], mean reduction
    x = randn(3, 5)
    tgt = randn(3, 5)
    y, gy, gx, _ = vjp(lambda x_: F.mse_loss(x_, tgt), x)
    cases.append({"op": "mse", "input": T(x), "output": T(y),
                  "grad_output": T(gy), "grad_input": T(gx),
                  "target": T(tgt)})
    return cases


# --------------------------------------------------------------------------
# 2. models.json
# --------------------------------------------------------------------------

def init_linear(name, in_f, out_f):
    return {name + ".weight": randn(out_f, in_f) * 0.3,
            name + ".bias": randn(out_f) * 0.3}


def model_case(name, params, x, target, forward, loss_fn):
    p = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    xg = x.detach().clone().requires_grad_(True)
    loss = loss_fn(forward(p, xg), target)
    keys = list(p.keys())
    grads = torch.autograd.grad(loss, [p[k] for k in keys] + [xg])
    return {
        "name": name,
        "layers": {k: T(params[k]) for k in keys},
        "input": T(x),
        "target": ([int(t) for t in target.tolist()]
                   if target.dtype == torch.int64 else T(target)),
        "loss": float(loss.item()),
        "grads": {k: T(g) for k, g in zip(keys, grads[:-1])},
        "grad_input": T(grads[-1]),
    }


def lin(p, name, x):
    return F.linear(x, p[name + ".weight"], p[name + ".bias"])


def make_models():
    models = []

    # mlp: 13 -> 11 -> relu -> 7 -> relu -> 3, cross entropy
    torch.manual_seed(1235)
    params = {}
    params.update(init_linear("fc1", 13, 11))
    params.update(init_linear("fc2", 11, 7))
    params.update(init_linear("fc3", 7, 3))
    x = randn(5, 13)
    target = torch.randint(0, 3, (5,))
    models.append(model_case(
        "mlp", params, x, target,
        lambda p, x_: lin(p, "fc3", torch.relu(lin(p, "fc2", torch.relu(lin(p, "fc1", x_))))),
        F.cross_entropy))

    # tanh_sigmoid_mse: 6 -> 9 -> tanh -> 5 -> sigmoid, MSE
    torch.manual_seed(1236)
    params = {}
    params.update(init_linear("fc1", 6, 9))
    params.update(init_linear("fc2", 9, 5))
    x = randn(4, 6)
    target = randn(4, 5)
    models.append(model_case(
        "tanh_sigmoid_mse", params, x, target,
        lambda p, x_: torch.sigmoid(lin(p, "fc2", torch.tanh(lin(p, "fc1", x_)))),
        F.mse_loss))

    # residual_gelu: h = gelu(fc1(x)) + x; fc2(h); cross entropy
    torch.manual_seed(1237)
    params = {}
    params.update(init_linear("fc1", 8, 8))
    params.update(init_linear("fc2", 8, 4))
    x = randn(3, 8)
    target = torch.randint(0, 4, (3,))
    models.append(model_case(
        "residual_gelu", params, x, target,
        lambda p, x_: lin(p, "fc2", F.gelu(lin(p, "fc1", x_)) + x_),
        F.cross_entropy))
    return models


# --------------------------------------------------------------------------
# 3. optim.json
# --------------------------------------------------------------------------

SGD_DEFAULTS = dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)
ADAM_DEFAULTS = dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)

TRACES = [
    ("sgd", "sgd", dict(lr=0.1)),
    ("sgd_momentum", "sgd", dict(lr=0.1, momentum=0.9)),
    ("sgd_nesterov", "sgd", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_dampening", "sgd", dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.1)),
    ("adam", "adam", dict(lr=1e-2)),
    ("adam_wd", "adam", dict(lr=1e-2, weight_decay=0.1)),
    ("adam_amsgrad", "adam", dict(lr=1e-2, amsgrad=True)),
    ("adamw", "adamw", dict(lr=1e-2, weight_decay=0.1)),
]


def make_optim():
    # One fixed problem shared by all traces: same init and same 5 gradients.
    torch.manual_seed(1238)
    w0 = randn(3, 4)
    b0 = randn(3)
    steps = [{"w": randn(3, 4), "b": randn(3)} for _ in range(5)]

    traces = []
    for name, kind, hp in TRACES:
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        if kind == "sgd":
            opt = torch.optim.SGD([w, b], **hp)
        elif kind == "adam":
            opt = torch.optim.Adam([w, b], **hp)
        else:
            opt = torch.optim.AdamW([w, b], **hp)
        g = opt.param_groups[0]
        # All 8 keys always present; keys the optimizer does not use are filled
        # with the other optimizer family's torch defaults (they are ignored).
        hparams = {
            "lr": float(g["lr"]),
            "momentum": float(g.get("momentum", SGD_DEFAULTS["momentum"])),
            "dampening": float(g.get("dampening", SGD_DEFAULTS["dampening"])),
            "weight_decay": float(g["weight_decay"]),
            "nesterov": bool(g.get("nesterov", SGD_DEFAULTS["nesterov"])),
            "betas": [float(v) for v in g.get("betas", ADAM_DEFAULTS["betas"])],
            "eps": float(g.get("eps", ADAM_DEFAULTS["eps"])),
            "amsgrad": bool(g.get("amsgrad", ADAM_DEFAULTS["amsgrad"])),
        }
        after = []
        for s in steps:
            w.grad = s["w"].clone()
            b.grad = s["b"].clone()
            opt.step()
            after.append({"w": T(w), "b": T(b)})
        traces.append({
            "name": name,
            "optimizer": kind,
            "hparams": hparams,
            "init": {"w": T(w0), "b": T(b0)},
            "grads": [{"w": T(s["w"]), "b": T(s["b"])} for s in steps],
            "params_after": after,
        })
    return traces


# --------------------------------------------------------------------------
# 4. conv.json
# --------------------------------------------------------------------------

def make_conv():
    """Convolutional ops in NCHW: conv2d (stride, padding, dilation, groups), batch_norm in training (batch statistics,
    running statistics after two steps) and in evaluation, max/avg/adaptive pooling, and a tiny CNN's loss and grads."""
    torch.manual_seed(1239)
    cases = []

    # conv2d: [N, Cin, H, W] * W [Cout, Cin/groups, k, k] + b
    for n, cin, h, w, cout, k, stride, pad, dil, groups, bias in (
            (2, 4, 7, 6, 6, 3, 2, 1, 1, 2, True),
            (1, 3, 5, 8, 4, 3, 1, 2, 2, 1, True),
            (3, 2, 4, 4, 3, 1, 1, 0, 1, 1, False)):
        x = randn(n, cin, h, w)
        wt = randn(cout, cin // groups, k, k)
        b = randn(cout) if bias else None
        params = (wt, b) if bias else (wt,)

        def fn(x_, w_, b_=None, s=stride, p=pad, d=dil, g=groups):
            return F.conv2d(x_, w_, b_, stride=s, padding=p, dilation=d, groups=g)
        y, gy, gx, grads = vjp(fn, x, params)
        case = {"op": "conv2d", "stride": stride, "padding": pad, "dilation": dil, "groups": groups,
                "input": T(x), "weight": T(wt), "output": T(y), "grad_output": T(gy),
                "grad_input": T(gx), "grad_weight": T(grads[0])}
        if bias:
            case.update({"bias": T(b), "grad_bias": T(grads[1])})
        cases.append(case)

    # batch_norm, training: two steps from running_mean 0 / running_var 1 (momentum 0.1, eps 1e-5); the gradients of
    # the first step, the running statistics after both
    x = randn(3, 4, 5, 6) * 2 + 0.5
    x2 = randn(3, 4, 5, 6)
    wt = randn(4)
    b = randn(4)
    bn = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(wt)
        bn.bias.copy_(b)
    bn.train()
    xg = x.detach().clone().requires_grad_(True)
    y = bn(xg)
    gy = randn(*y.shape)
    gx, gw, gb = torch.autograd.grad(y, [xg, bn.weight, bn.bias], grad_outputs=gy)
    after_one = {"running_mean": T(bn.running_mean), "running_var": T(bn.running_var)}
    bn(x2)
    cases.append({"op": "batch_norm_train", "eps": 1e-5, "momentum": 0.1,
                  "input": T(x), "weight": T(wt), "bias": T(b), "output": T(y), "grad_output": T(gy),
                  "grad_input": T(gx), "grad_weight": T(gw), "grad_bias": T(gb),
                  "after_one": after_one, "second_input": T(x2),
                  "running_mean": T(bn.running_mean), "running_var": T(bn.running_var),
                  "num_batches_tracked": int(bn.num_batches_tracked.item())})

    # batch_norm, evaluation: the running statistics are constants
    x = randn(2, 3, 4, 3)
    mean = randn(3)
    var = randn(3) ** 2 + 0.5
    wt = randn(3)
    b = randn(3)
    y, gy, gx, (gw, gb) = vjp(lambda x_, w_, b_: F.batch_norm(x_, mean, var, w_, b_, training=False, eps=1e-5), x, (wt, b))
    cases.append({"op": "batch_norm_eval", "eps": 1e-5, "input": T(x), "running_mean": T(mean), "running_var": T(var),
                  "weight": T(wt), "bias": T(b), "output": T(y), "grad_output": T(gy),
                  "grad_input": T(gx), "grad_weight": T(gw), "grad_bias": T(gb)})

    # pooling
    x = randn(2, 3, 7, 5)
    for op, fn, extra in (
            ("max_pool2d", lambda x_: F.max_pool2d(x_, 3, stride=2, padding=1), {"kernel": 3, "stride": 2, "padding": 1}),
            ("avg_pool2d", lambda x_: F.avg_pool2d(x_, 3, stride=2, padding=1), {"kernel": 3, "stride": 2, "padding": 1}),
            ("adaptive_avg_pool2d", lambda x_: F.adaptive_avg_pool2d(x_, (3, 2)), {"output_size": [3, 2]})):
        y, gy, gx, _ = vjp(fn, x)
        case = {"op": op, "input": T(x), "output": T(y), "grad_output": T(gy), "grad_input": T(gx)}
        case.update(extra)
        cases.append(case)

    # a tiny CNN: conv(1->4, 3, padding 1) -> batch norm -> relu -> max-pool 2 -> flatten -> linear(36 -> 3), cross entropy
    params = {"conv.weight": randn(4, 1, 3, 3) * 0.5, "conv.bias": randn(4) * 0.1,
              "bn.weight": 1 + 0.1 * randn(4), "bn.bias": 0.1 * randn(4)}
    params.update(init_linear("fc", 36, 3))
    x = randn(4, 1, 6, 6)
    target = torch.randint(0, 3, (4,))

    def cnn(p, x_):
        h = F.conv2d(x_, p["conv.weight"], p["conv.bias"], padding=1)
        h = F.batch_norm(h, None, None, p["bn.weight"], p["bn.bias"], training=True, eps=1e-5)
        h = F.max_pool2d(torch.relu(h), 2)
        return lin(p, "fc", h.flatten(1))
    model = model_case("tiny_cnn", params, x, target, cnn, F.cross_entropy)
    model["op"] = "tiny_cnn"
    cases.append(model)
    return cases


# --------------------------------------------------------------------------
# 5. bert.json
# --------------------------------------------------------------------------

def make_bert():
    """One HuggingFace BertLayer (post-LayerNorm; eps 1e-12; exact GELU; no dropout) in float64 with a padding mask:
    self-attention (Q, K, V, scores/sqrt(d) + (1 - mask)·(-10000), softmax, context), output dense + residual +
    LayerNorm, intermediate dense + GELU, output dense + residual + LayerNorm. Hidden 8, 2 heads, intermediate 16;
    batch 2 × seq 5, the second sequence with 2 padding positions. Parameter names are the C# test's EncoderBlock's."""
    torch.manual_seed(99)
    hidden, heads, inter, batch, seq = 8, 2, 16, 2, 5
    names = [("query", hidden, hidden), ("key", hidden, hidden), ("value", hidden, hidden),
             ("attentionOutput", hidden, hidden), ("intermediate", hidden, inter), ("output", inter, hidden)]
    params = {}
    for name, i, o in names:
        params[name + ".weight"] = randn(o, i) * 0.3
        params[name + ".bias"] = randn(o) * 0.1
    for name in ("attentionNorm", "outputNorm"):
        params[name + ".weight"] = 1 + 0.1 * randn(hidden)
        params[name + ".bias"] = 0.1 * randn(hidden)
    x = randn(batch, seq, hidden)
    mask = torch.ones(batch, seq, dtype=DTYPE)
    mask[1, 3:] = 0
    keys = list(params)

    def layer(x_, *ps):
        p = dict(zip(keys, ps))
        d = hidden // heads

        def heads_of(t):
            return t.view(batch, seq, heads, d).transpose(1, 2)
        q = heads_of(F.linear(x_, p["query.weight"], p["query.bias"]))
        k = heads_of(F.linear(x_, p["key.weight"], p["key.bias"]))
        v = heads_of(F.linear(x_, p["value.weight"], p["value.bias"]))
        scores = q @ k.transpose(-1, -2) / d ** 0.5 + (1 - mask)[:, None, None, :] * -10000.0
        context = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, seq, hidden)
        a = F.layer_norm(F.linear(context, p["attentionOutput.weight"], p["attentionOutput.bias"]) + x_, (hidden,),
                         p["attentionNorm.weight"], p["attentionNorm.bias"], 1e-12)
        f = F.linear(F.gelu(F.linear(a, p["intermediate.weight"], p["intermediate.bias"])), p["output.weight"], p["output.bias"])
        return F.layer_norm(f + a, (hidden,), p["outputNorm.weight"], p["outputNorm.bias"], 1e-12)

    y, gy, gx, gps = vjp(layer, x, [params[k] for k in keys])
    return [{"name": "bert_layer", "heads": heads, "input": T(x), "mask": T(mask), "layers": {k: T(v) for k, v in params.items()},
             "output": T(y), "grad_output": T(gy), "grad_input": T(gx), "grads": {k: T(g) for k, g in zip(keys, gps)}}]


# --------------------------------------------------------------------------
# 6. tensor_ops.json
# --------------------------------------------------------------------------

def make_tensor_ops():
    """Tensor algebra: matmul (1-D, 2-D, batched, broadcast batch dims), permute/transpose, reductions over one dim
    (sum, mean, amax, amin, var, logsumexp; negative dims, keepdim), softmax/log_softmax over a middle dim, and
    broadcasting element-wise binary ops (add, sub, mul, div, maximum, minimum) whose broadcast operands' gradients are
    summed back to their shapes."""
    torch.manual_seed(1240)
    cases = []

    def unary(op, fn, x, extra):
        y, gy, gx, _ = vjp(fn, x)
        case = {"op": op}
        case.update(extra)
        case.update({"input": T(x), "output": T(y), "grad_output": T(gy), "grad_input": T(gx)})
        cases.append(case)

    def binary(op, fn, a, b):
        y, gy, ga, (gb,) = vjp(fn, a, (b,))
        cases.append({"op": op, "a": T(a), "b": T(b), "output": T(y), "grad_output": T(gy),
                      "grad_a": T(ga), "grad_b": T(gb)})

    # matmul
    for sa, sb in (((3, 1, 5, 4), (2, 4, 6)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((4,), (4,)),
                   ((3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 6)), ((2, 3, 4), (4, 5)), ((4, 3, 16, 8), (4, 3, 8, 16))):
        binary("matmul", torch.matmul, randn(*sa), randn(*sb))

    # permute / transpose
    for shape, dims in (((2, 3, 4, 5), (0, 2, 1, 3)), ((2, 3, 4), (2, 0, 1)), ((3, 17), (1, 0)), ((2, 3, 4), (-1, 0, -2))):
        unary("permute", lambda x_, d=dims: x_.permute(*d), randn(*shape), {"dims": list(dims)})
    for shape, d0, d1 in (((2, 3, 4), -1, -2), ((4, 5, 6), 0, 2)):
        unary("transpose", lambda x_, a=d0, b=d1: x_.transpose(a, b), randn(*shape), {"dim0": d0, "dim1": d1})

    # reductions over one dim
    layouts = (((3, 4, 5), 0, False), ((3, 4, 5), 1, True), ((3, 4, 5), -1, False), ((257,), 0, False),
               ((2, 17, 3), -2, True))
    for shape, dim, keepdim in layouts:
        x = randn(*shape)
        for op, fn in (("sum", lambda x_, d=dim, k=keepdim: x_.sum(d, keepdim=k)),
                       ("mean", lambda x_, d=dim, k=keepdim: x_.mean(d, keepdim=k)),
                       ("amax", lambda x_, d=dim, k=keepdim: x_.amax(d, keepdim=k)),
                       ("amin", lambda x_, d=dim, k=keepdim: x_.amin(d, keepdim=k)),
                       ("logsumexp", lambda x_, d=dim, k=keepdim: x_.logsumexp(d, keepdim=k))):
            unary(op, fn, x, {"dim": dim, "keepdim": keepdim})
        for unbiased in (True, False):
            unary("var", lambda x_, d=dim, k=keepdim, u=unbiased: x_.var(d, unbiased=u, keepdim=k), x,
                  {"dim": dim, "keepdim": keepdim, "unbiased": unbiased})
    # ties: small integers, so that maxima repeat exactly (amax/amin split the gradient evenly among them)
    x = torch.randint(0, 3, (4, 6, 3)).to(DTYPE)
    for op in ("amax", "amin"):
        unary(op, lambda x_, o=op: getattr(x_, o)(1), x, {"dim": 1, "keepdim": False})

    # softmax / log_softmax over a middle dim (and the first)
    for shape, dim in (((2, 5, 3), 1), ((4, 3, 2), -2), ((3, 7), 0)):
        x = randn(*shape)
        unary("softmax", lambda x_, d=dim: torch.softmax(x_, dim=d), x, {"dim": dim})
        unary("log_softmax", lambda x_, d=dim: torch.log_softmax(x_, dim=d), x, {"dim": dim})

    # broadcasting element-wise binary ops; b of div kept away from 0
    for sa, sb in (((3, 1, 5), (4, 5)), ((2, 3, 4), (4,)), ((2, 1), (1, 3)), ((5,), ())):
        a = randn(*sa)
        b = torch.randn(sb, dtype=DTYPE)  # sb may be () (a scalar tensor)
        b_div = torch.where(b >= 0, b + 0.5, b - 0.5)
        for op, fn in (("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div),
                       ("maximum", torch.maximum), ("minimum", torch.minimum)):
            binary(op, fn, a, b_div if op == "div" else b)
    return cases


def main():
    """Writes every fixture file, or only those named on the command line (e.g. `make_fixtures.py tensor_ops.json`):
    each section seeds itself, so a file's contents do not depend on which others are written."""
    os.makedirs(OUT_DIR, exist_ok=True)
    wanted = set(sys.argv[1:])
    for fname, key, make in (("ops.json", "cases", make_ops),
                             ("models.json", "models", make_models),
                             ("optim.json", "traces", make_optim),
                             ("conv.json", "cases", make_conv),
                             ("bert.json", "cases", make_bert),
                             ("tensor_ops.json", "cases", make_tensor_ops)):
        if wanted and fname not in wanted:
            continue
        items = make()
        path = dump(fname, key, items)
        print("%-15s %3d %-7s %8d bytes" % (fname, len(items), key, os.path.getsize(path)))


if __name__ == "__main__":
    main()
