#!/usr/bin/python3
"""The FashionCnn sample (samples/FashionCnn) in PyTorch, for side-by-side timings (Debian's python3-torch 1.13).

Same model (two conv-BatchNorm-ReLU-max-pool blocks, 1->32->64 channels, 3x3 with padding 1, no conv bias; a linear
head 3136->128->10 with ReLU and dropout 0.3), same recipe (AdamW lr 1e-3, weight decay 1e-4, cosine schedule without
warm-up, batch 64, shuffled each epoch, the last short batch kept), same data (the Debian package's gzipped IDX files,
pixels / 255). Two threads, OpenBLAS's SkylakeX kernels, passive OpenMP waiting, denormals flushed: PyTorch's fastest
configuration on this machine (see /work/shared/ANCHORS.md).

Usage:
  /usr/bin/python3 benchmarks/pytorch_fashion_cnn.py [--epochs 10] [--batch-size 64] [--quick]
      trains and prints `epoch 3: train loss 0.2311, test accuracy 91.02%, 41.3 s (train 38.9 s)` per epoch
  /usr/bin/python3 benchmarks/pytorch_fashion_cnn.py --steps 50
      times training steps on a fixed batch: median and best milliseconds per step
"""
import argparse
import gzip
import math
import os
import time

# OpenBLAS reads these when torch loads it
os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(2)
torch.set_flush_denormal(True)

DATA = "/usr/share/datasets/fashion-mnist/"


def load(split):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(DATA + prefix + "-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    with gzip.open(DATA + prefix + "-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return torch.from_numpy(images), torch.from_numpy(labels)


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        h = self.pool1(F.relu(self.bn1(self.conv1(x))))
        h = self.pool2(F.relu(self.bn2(self.conv2(h))))
        return self.fc2(self.drop(F.relu(self.fc1(h.flatten(1)))))


def accuracy(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), 1000):
            correct += (model(images[start:start + 1000]).argmax(1) == labels[start:start + 1000]).sum().item()
    model.train()
    return 100.0 * correct / len(images)


def train(args):
    torch.manual_seed(args.seed)
    x_train, y_train = load("train")
    x_test, y_test = load("test")
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:5000], y_train[:5000], x_test[:2000], y_test[:2000]
        args.epochs = 1
    model = FashionCnn()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    total = steps_per_epoch * args.epochs
    # HuggingFace's cosine schedule without warm-up (the Trainer's): lr * 0.5 * (1 + cos(pi * step / total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(x_train)} training and {len(x_test)} test "
          f"images, batch {args.batch_size}, {args.epochs} epoch(s)", flush=True)
    for epoch in range(1, args.epochs + 1):
        clock = time.perf_counter()
        order = torch.randperm(len(x_train))
        loss_sum, batches = 0.0, 0
        for start in range(0, len(x_train), args.batch_size):
            index = order[start:start + args.batch_size]
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item()
            batches += 1
        train_seconds = time.perf_counter() - clock
        acc = accuracy(model, x_test, y_test)
        print(f"epoch {epoch}: train loss {loss_sum / batches:.4f}, test accuracy {acc:.2f}%, "
              f"{time.perf_counter() - clock:.1f} s (train {train_seconds:.1f} s)", flush=True)


def steps(args):
    torch.manual_seed(args.seed)
    x_train, y_train = load("train")
    model = FashionCnn()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    x, y = x_train[:args.batch_size], y_train[:args.batch_size]
    times = []
    for i in range(args.steps + 5):
        t = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i >= 5:
            times.append(time.perf_counter() - t)
    times.sort()
    print(f"pytorch training step, batch {args.batch_size}: median {1000 * times[len(times) // 2]:.2f} ms, "
          f"best {1000 * times[0]:.2f} ms over {len(times)} steps", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=0, help="time this many training steps instead of training")
    args = parser.parse_args()
    steps(args) if args.steps else train(args)
