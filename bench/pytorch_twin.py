#!/usr/bin/python3
"""PyTorch twin of `lmaas bench`: same model, same flags, same one-line JSON.

    /usr/bin/python3 bench/pytorch_twin.py --arch lstm|gru|transformer \
        --mode train|infer --batch B --threads T [--steps N] [--warmup N] [--seed S]

The model ("seed-shaped classifier") and the FLOP formula are described in
bench/README.md; both must stay identical to the C++ side.
"""
import argparse
import json
import statistics
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

VOCAB = 20000
EMBED = 128
HIDDEN = 128
SEQ_LEN = 64
MIN_LEN = 16
CLASSES = 2
HEADS = 4
FFN = 512
LAYERS = 2
DROPOUT = 0.1
LR = 1e-3
PAD = 0
DATA_BATCHES = 8  # distinct synthetic batches, cycled through (generation is not timed)


# ---------------------------------------------------------------- models

class RnnClassifier(nn.Module):
    """Embedding -> LSTM/GRU over the packed batch -> final h_n -> Linear."""

    def __init__(self, cell):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED, padding_idx=PAD)
        rnn_type = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn_type(EMBED, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embed(ids), lengths,
                                      batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        return self.head(h_n[-1])  # h_n is (layers, batch, hidden), original order


class TransformerClassifier(nn.Module):
    """Token + learned position embedding -> 2 post-norm encoder layers
    (key padding mask) -> mean over real positions -> Linear."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED, padding_idx=PAD)
        self.pos = nn.Embedding(SEQ_LEN, EMBED)
        layer = nn.TransformerEncoderLayer(
            d_model=EMBED, nhead=HEADS, dim_feedforward=FFN, dropout=DROPOUT,
            activation="relu", batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, num_layers=LAYERS)
        self.head = nn.Linear(EMBED, CLASSES)
        self.register_buffer("positions", torch.arange(SEQ_LEN), persistent=False)

    def forward(self, ids, lengths):
        del lengths  # the padding mask carries the same information
        pad_mask = ids == PAD  # True = ignore this key
        x = self.embed(ids) + self.pos(self.positions)[None, :, :]
        x = self.encoder(x, src_key_padding_mask=pad_mask)
        # In eval, PyTorch's nested-tensor fast path returns only the first
        # max(lengths) positions (the rest are padding); trim the mask to match.
        keep = (~pad_mask[:, :x.size(1)]).unsqueeze(-1).to(x.dtype)
        pooled = (x * keep).sum(dim=1) / keep.sum(dim=1)
        return self.head(pooled)


def build_model(arch):
    return TransformerClassifier() if arch == "transformer" else RnnClassifier(arch)


# ---------------------------------------------------------------- data

def make_batches(batch, generator):
    """Synthetic batches: ids in [1, VOCAB), real length uniform in
    [MIN_LEN, SEQ_LEN], right-padded with PAD; random labels."""
    batches = []
    for _ in range(DATA_BATCHES):
        lengths = torch.randint(MIN_LEN, SEQ_LEN + 1, (batch,), generator=generator)
        ids = torch.randint(1, VOCAB, (batch, SEQ_LEN), generator=generator)
        ids[torch.arange(SEQ_LEN)[None, :] >= lengths[:, None]] = PAD
        labels = torch.randint(0, CLASSES, (batch,), generator=generator)
        batches.append((ids, lengths, labels))
    return batches


# ---------------------------------------------------------------- FLOPs

def mm_flops(m, n, k):
    return 2 * m * n * k


def forward_flops(arch, batch):
    """2*m*n*k for every matmul of one forward pass on the padded
    (batch x SEQ_LEN) shape; embedding gathers and elementwise ops ignored."""
    b, t = batch, SEQ_LEN
    head = mm_flops(b, CLASSES, HIDDEN if arch != "transformer" else EMBED)
    if arch in ("lstm", "gru"):
        gates = 4 if arch == "lstm" else 3
        per_step = (mm_flops(b, gates * HIDDEN, EMBED)      # input projection
                    + mm_flops(b, gates * HIDDEN, HIDDEN))  # recurrent projection
        return t * per_step + head
    tokens = b * t
    head_dim = EMBED // HEADS
    per_layer = (mm_flops(tokens, 3 * EMBED, EMBED)              # Q, K, V projections
                 + b * HEADS * mm_flops(t, t, head_dim)          # Q K^T
                 + b * HEADS * mm_flops(t, head_dim, t)          # P V
                 + mm_flops(tokens, EMBED, EMBED)                # attention output proj
                 + mm_flops(tokens, FFN, EMBED)                  # feed-forward in
                 + mm_flops(tokens, EMBED, FFN))                 # feed-forward out
    return LAYERS * per_layer + head


def flops_per_step(arch, mode, batch):
    return forward_flops(arch, batch) * (3 if mode == "train" else 1)


def measure_gemm_gflops(n=1024, reps=10):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    out = torch.empty(n, n)
    for _ in range(2):
        torch.mm(a, b, out=out)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - start)
    return mm_flops(n, n, n) / statistics.median(times) / 1e9


# ---------------------------------------------------------------- steps

def make_step(model, mode):
    if mode == "infer":
        model.eval()

        def infer_step(ids, lengths, labels):
            with torch.inference_mode():
                return model(ids, lengths)
        return infer_step

    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)

    def train_step(ids, lengths, labels):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(ids, lengths), labels)
        loss.backward()
        optimizer.step()
        return loss
    return train_step


def run(args):
    # PyTorch 1.13 warns that the eval fast path's nested tensors are a prototype.
    warnings.filterwarnings("ignore", message=".*nested tensors is in prototype")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    batches = make_batches(args.batch, generator)
    model = build_model(args.arch)
    step = make_step(model, args.mode)

    for i in range(args.warmup):
        step(*batches[i % len(batches)])
    times_ms = []
    for i in range(args.steps):
        data = batches[(args.warmup + i) % len(batches)]
        start = time.perf_counter()
        step(*data)
        times_ms.append((time.perf_counter() - start) * 1e3)

    step_ms = statistics.median(times_ms)
    flops = flops_per_step(args.arch, args.mode, args.batch)
    gemm_gflops = measure_gemm_gflops()
    return {
        "impl": "pytorch",
        "arch": args.arch,
        "mode": args.mode,
        "batch": args.batch,
        "threads": args.threads,
        "samples_per_s": round(args.batch / (step_ms / 1e3), 3),
        "step_ms_median": round(step_ms, 4),
        "latency_ms": round(step_ms, 4) if args.mode == "infer" else None,
        "flops_per_step": float(flops),
        "gemm_gflops": round(gemm_gflops, 3),
        "flop_limit_fraction": round(flops / (gemm_gflops * 1e9) / (step_ms / 1e3), 4),
    }


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, choices=["lstm", "gru", "transformer"])
    p.add_argument("--mode", required=True, choices=["train", "infer"])
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if args.batch < 1 or args.threads < 1 or args.steps < 1 or args.warmup < 0:
        p.error("--batch, --threads, --steps must be >= 1 and --warmup >= 0")
    return args


if __name__ == "__main__":
    print(json.dumps(run(parse_args(sys.argv[1:]))), flush=True)
