#!/usr/bin/python3
"""PyTorch side of the machine-translation benchmark (lmaas vs PyTorch).

What it measures
  * Training: a standard pre-norm Transformer encoder-decoder trained for a fixed wall-clock
    budget (--minutes). Reported: optimizer steps, epochs (fractional), training throughput
    (target tokens incl. EOS per training second, the usual "wps" convention) and the dev
    loss (per-token cross-entropy WITHOUT label smoothing, natural log, padding excluded).
    Dev-loss evaluation and decoding run outside the budget; their times are reported
    separately (eval_s, greedy_decode_s).
  * Quality: after training the dev sources are decoded greedily (batched) and written,
    detokenized by SentencePiece, to OUT/dev.hyp with the raw references in OUT/dev.ref.
    BLEU is not computed here: the C++ side scores both sides' dev.hyp with one scorer.
  * Decoding speed (--decode-bench): beam search over the dev sources, in file order, in
    batches of --decode-batch, written to OUT/dev.beam.hyp; reported as sentences/s. Beam
    search is what a user of nn.Transformer writes: encode once, then every step re-runs the
    decoder over the whole prefix (nn.TransformerDecoder has no key/value cache). The timed
    part is encoding, search and detokenization; tokenizing and file writing are not.
    Without --minutes the model is rebuilt from the model flags and OUT/model.pt is loaded,
    so pass the same --d-model/--heads/--ff/--*-layers (and --*-spm) as for training.
    --greedy also writes OUT/dev.hyp without training (timed like the beam search).
  * The lmaas model itself (--init-from-lmaas DIR): the model is built from DIR/config.json
    and loads DIR/model.safetensors, and DIR/source.model / DIR/target.model are the
    tokenizers unless --src-spm/--tgt-spm are given, so decoding times and outputs compare
    the two implementations on one and the same network. Model flags left at their defaults
    take the directory's values; a flag set to a different value is an error. lmaas's
    q_proj/k_proj/v_proj become nn.MultiheadAttention's packed in_proj (q, k, v stacked),
    cross_attn becomes multihead_attn; missing, unexpected or misshapen tensors are fatal.
    Only what Seq2Seq can express exactly is accepted: a pre-norm transformer with
    sinusoidal positions and the output tied to the target embedding (one shared embedding
    table is fine). With --minutes, training starts from these weights.

How the C++ side uses it
  bench/translation_vs_pytorch.sh trains the lmaas model, then calls this script with the
  same data, the same hyperparameters, the same --minutes and --threads, and the
  SentencePiece models lmaas trained (--src-spm/--tgt-spm), so both sides see identical
  token ids. It reads the JSON lines on stdout (the last one of each mode is the summary:
  "side":"pytorch") and scores OUT/dev.hyp / OUT/dev.beam.hyp against OUT/dev.ref.

Conventions shared with the C++ side
  * ids come from the SentencePiece model (lmaas trains them with pad=0 unk=1 bos=2 eos=3);
    the source is encoded as pieces + EOS, the decoder input is BOS + pieces and the
    decoder target is pieces + EOS.
  * batches are built by token count: sentences sorted by length, cut greedily so that
    count * max(longest source incl. EOS, longest target + 1) <= --batch-tokens; batch order
    is shuffled every epoch with --seed.
  * learning rate: linear warmup to --lr over --warmup steps, then lr * sqrt(warmup / step).
  * length penalty in beam search (--length-penalty-style): gnmt, score / ((5 + len) / 6) **
    alpha, or fairseq, score / len ** alpha (lmaas's rule), len = generated tokens including
    EOS. The search itself is not fairseq's: finished hypotheses stay in the beam and are
    ranked by the normalized score against live ones; a sentence is done when all its beams
    have ended. With the fairseq style and the same alpha, outputs mostly but not always
    agree with lmaas's search, which keeps the first `beam` finished hypotheses aside and
    stops once it has them.
  * max_len is the lmaas config's max_len with --init-from-lmaas, else 1024. Decoded sources
    longer than max_len tokens keep their first max_len - 1 pieces and EOS.
  * maximum output length per sentence, EOS included: int(source tokens incl. EOS *
    --max-len-ratio) + 10, and at most max_len - 1; at the cap EOS is forced.

Examples
  /usr/bin/python3 bench/translation_torch.py --train data/train.txt --dev data/dev.txt \
      --src-col 1 --tgt-col 0 --minutes 3 --out /tmp/mt-torch
  /usr/bin/python3 bench/translation_torch.py --dev data/dev.txt --src-col 1 --tgt-col 0 \
      --out /tmp/mt-torch --decode-bench --dev-limit 256
  /usr/bin/python3 bench/translation_torch.py --dev data/dev.txt --src-col 1 --tgt-col 0 \
      --out /tmp/mt-lmaas --init-from-lmaas bench/out/translation/lmaas-model --greedy --decode-bench \
      --length-penalty-style fairseq
"""
import argparse
import gzip
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_POSITIONS = 2048
DEFAULT_MAX_LEN = MAX_POSITIONS // 2


# ----------------------------------------------------------------------------- arguments

def parse_args(argv=None):
    """Command line; every hyperparameter is a flag so the C++ side can mirror it exactly."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = p.add_argument_group("data")
    d.add_argument("--train", help="TSV training file: source<TAB>target[<TAB>more]")
    d.add_argument("--dev", help="TSV dev file, same layout as --train")
    d.add_argument("--src-col", type=int, default=0, help="source column in the TSV files")
    d.add_argument("--tgt-col", type=int, default=1, help="target column in the TSV files")
    d.add_argument("--train-src", help="aligned plain or .gz training source file")
    d.add_argument("--train-tgt", help="aligned plain or .gz training target file")
    d.add_argument("--dev-src", help="aligned plain or .gz dev source file")
    d.add_argument("--dev-tgt", help="aligned plain or .gz dev target file")
    d.add_argument("--dev-limit", type=int, default=0, help="use only the first N dev pairs (0: all)")
    d.add_argument("--max-train-len", type=int, default=256,
                   help="drop training pairs with more pieces than this on either side")
    t = p.add_argument_group("tokenization")
    t.add_argument("--src-spm", help="existing source SentencePiece .model (else one is trained)")
    t.add_argument("--tgt-spm", help="existing target SentencePiece .model (else one is trained)")
    t.add_argument("--src-vocab", type=int, default=4000, help="size of a newly trained source model")
    t.add_argument("--tgt-vocab", type=int, default=4000, help="size of a newly trained target model")
    t.add_argument("--spm-type", default="bpe", choices=["bpe", "unigram", "char", "word"],
                   help="model type of newly trained SentencePiece models")
    m = p.add_argument_group("model")
    m.add_argument("--d-model", type=int, default=256, help="model width")
    m.add_argument("--heads", type=int, default=4, help="attention heads")
    m.add_argument("--ff", type=int, default=1024, help="feed-forward width")
    m.add_argument("--enc-layers", type=int, default=3, help="encoder layers")
    m.add_argument("--dec-layers", type=int, default=3, help="decoder layers")
    m.add_argument("--dropout", type=float, default=0.1, help="dropout everywhere")
    m.add_argument("--init-from-lmaas", metavar="DIR",
                   help="build the model from an lmaas translation model directory and load its "
                        "weights (its config sets the model flags; its tokenizers are the default)")
    o = p.add_argument_group("training")
    o.add_argument("--label-smoothing", type=float, default=0.1, help="training loss only")
    o.add_argument("--lr", type=float, default=7e-4, help="peak learning rate")
    o.add_argument("--warmup", type=int, default=1000, help="linear warmup steps")
    o.add_argument("--batch-tokens", type=int, default=4096, help="padded tokens per batch")
    o.add_argument("--minutes", type=float, help="training wall-clock budget; omit for --decode-bench only")
    o.add_argument("--log-every", type=int, default=100, help="progress line every N steps")
    o.add_argument("--seed", type=int, default=1, help="init, tie-breaks and batch shuffling")
    o.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    b = p.add_argument_group("decoding")
    b.add_argument("--decode-bench", action="store_true",
                   help="time beam search over the dev sources (loads OUT/model.pt unless trained now)")
    b.add_argument("--greedy", action="store_true",
                   help="without --minutes: greedy-decode the dev sources to OUT/dev.hyp "
                        "(training always does)")
    b.add_argument("--beam", type=int, default=4, help="beam size")
    b.add_argument("--decode-batch", type=int, default=32, help="sentences per decoding batch")
    b.add_argument("--max-len-ratio", type=float, default=1.5,
                   help="max output tokens incl. EOS = int(source tokens incl. EOS * ratio) + 10")
    b.add_argument("--length-penalty", type=float, default=1.0, help="length penalty alpha")
    b.add_argument("--length-penalty-style", default="gnmt", choices=["gnmt", "fairseq"],
                   help="gnmt: score / ((5 + len) / 6) ** alpha; fairseq (lmaas): score / len ** alpha")
    p.add_argument("--out", required=True, help="output directory")
    args = p.parse_args(argv)
    if args.minutes is None and not (args.decode_bench or args.greedy):
        p.error("nothing to do: give --minutes (train), --greedy and/or --decode-bench")
    if args.minutes is not None and not (args.train or (args.train_src and args.train_tgt)):
        p.error("training needs --train or --train-src/--train-tgt")
    if not (args.dev or (args.dev_src and args.dev_tgt)):
        p.error("need --dev or --dev-src/--dev-tgt")
    args.max_len, args.share_embeddings = DEFAULT_MAX_LEN, False
    if args.init_from_lmaas:
        apply_lmaas_config(p, args, read_lmaas_config(args.init_from_lmaas))
    return args


def emit(record):
    """One JSON object per stdout line, flushed, so the driver script can stream-parse it."""
    print(json.dumps(record), flush=True)


# ----------------------------------------------------------------------------- data

def open_text(path):
    """Plain or gzip text, chosen by extension: multi30k ships as .gz."""
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "r", encoding="utf-8")


def read_tsv(path, src_col, tgt_col):
    """Pairs from a TSV file; lines lacking either column are skipped, not fatal."""
    pairs = []
    with open_text(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > max(src_col, tgt_col):
                pairs.append((cols[src_col].strip(), cols[tgt_col].strip()))
    return pairs


def read_aligned(src_path, tgt_path):
    """Pairs from two line-aligned files; a length mismatch means broken data, so it is fatal."""
    with open_text(src_path) as fs, open_text(tgt_path) as ft:
        src = [l.rstrip("\n").strip() for l in fs]
        tgt = [l.rstrip("\n").strip() for l in ft]
    if len(src) != len(tgt):
        sys.exit(f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}")
    return list(zip(src, tgt))


def load_pairs(args, split):
    """Train or dev pairs from whichever input form was given; empty sides are dropped."""
    tsv = args.train if split == "train" else args.dev
    if tsv:
        pairs = read_tsv(tsv, args.src_col, args.tgt_col)
    elif split == "train":
        pairs = read_aligned(args.train_src, args.train_tgt)
    else:
        pairs = read_aligned(args.dev_src, args.dev_tgt)
    pairs = [(s, t) for s, t in pairs if s and t]
    if split == "dev" and args.dev_limit > 0:
        pairs = pairs[: args.dev_limit]
    return pairs


# ----------------------------------------------------------------------------- sentencepiece

def train_spm(sentences, prefix, vocab, args):
    """Train a SentencePiece model with the id layout the C++ side uses (pad0 unk1 bos2 eos3)."""
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_prefix=prefix, vocab_size=vocab,
        model_type=args.spm_type, character_coverage=0.9995,
        pad_id=0, unk_id=1, bos_id=2, eos_id=3, num_threads=args.threads, minloglevel=1)
    return prefix + ".model"


def load_tokenizers(args, train_pairs):
    """Given models win (identical ids on both sides); else reuse OUT/*.model or train new ones."""
    models = []
    for side, given, vocab, col in (("src", args.src_spm, args.src_vocab, 0),
                                    ("tgt", args.tgt_spm, args.tgt_vocab, 1)):
        path = given
        if path is None:
            path = os.path.join(args.out, side + ".model")
            if train_pairs is not None:
                path = train_spm([p[col] for p in train_pairs], os.path.join(args.out, side), vocab, args)
            elif not os.path.exists(path):
                sys.exit(f"no --{side}-spm and no {path}: train first or pass the model")
        sp = spm.SentencePieceProcessor(model_file=path)
        if sp.pad_id() < 0 or sp.bos_id() < 0 or sp.eos_id() < 0:
            sys.exit(f"{path}: the model needs pad, bos and eos ids (got "
                     f"{sp.pad_id()}/{sp.bos_id()}/{sp.eos_id()})")
        models.append(sp)
    if models[0].pad_id() != models[1].pad_id():
        sys.exit("source and target SentencePiece models disagree on the pad id")
    return models


def encode_pairs(pairs, sp_src, sp_tgt, max_len):
    """Piece ids per pair (source + EOS, target without specials); over-long pairs dropped."""
    src_ids = sp_src.encode([p[0] for p in pairs])
    tgt_ids = sp_tgt.encode([p[1] for p in pairs])
    out = []
    for s, t in zip(src_ids, tgt_ids):
        if max_len and (len(s) > max_len or len(t) > max_len):
            continue
        out.append((s + [sp_src.eos_id()], t))
    return out


# ----------------------------------------------------------------------------- batching

def make_batches(examples, batch_tokens, seed):
    """Length-sorted token-count batches: little padding, and a fixed set reused every epoch."""
    rng = random.Random(seed)
    order = sorted(range(len(examples)),
                   key=lambda i: (len(examples[i][0]), len(examples[i][1]), rng.random()))
    batches, cur, longest = [], [], 0
    for i in order:
        n = max(len(examples[i][0]), len(examples[i][1]) + 1)
        if cur and (len(cur) + 1) * max(longest, n) > batch_tokens:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, n)
    if cur:
        batches.append(cur)
    return batches


def pad_rows(rows, pad):
    """Right-pad a list of id lists into a LongTensor."""
    width = max(len(r) for r in rows)
    return torch.tensor([r + [pad] * (width - len(r)) for r in rows], dtype=torch.long)


def collate(examples, idx, pad, bos, eos):
    """Source, decoder input (BOS + y) and decoder target (y + EOS) tensors for one batch."""
    src = pad_rows([examples[i][0] for i in idx], pad)
    tin = pad_rows([[bos] + examples[i][1] for i in idx], pad)
    tout = pad_rows([examples[i][1] + [eos] for i in idx], pad)
    return src, tin, tout


# ----------------------------------------------------------------------------- model

def sinusoid_table(n, d):
    """The fixed sin/cos position table of "Attention Is All You Need".

    pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos(...), computed in double and rounded
    once, as lmaas computes it, so that both sides add the same floats.
    """
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    angle = pos / torch.pow(10000.0, torch.arange(0, d, 2, dtype=torch.float64) / d)
    table = torch.zeros(n, d, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d // 2])
    return table.float()


class Seq2Seq(nn.Module):
    """nn.Transformer (pre-norm, final LayerNorms) with separate embeddings and a tied output.

    Embeddings are scaled by sqrt(d_model) and initialised N(0, d_model^-0.5), so that the
    tied output projection starts with unit-scale logits. args.share_embeddings (an lmaas
    model with a joint vocabulary) makes both sides use one table. max_len bounds decoding
    (see clip_source and max_lengths), as the lmaas model's max_len does there.
    """

    def __init__(self, src_vocab, tgt_vocab, pad, args):
        super().__init__()
        self.pad, self.d_model, self.max_len = pad, args.d_model, args.max_len
        self.src_emb = nn.Embedding(src_vocab, args.d_model, padding_idx=pad)
        self.tgt_emb = self.src_emb if args.share_embeddings else nn.Embedding(tgt_vocab, args.d_model,
                                                                               padding_idx=pad)
        for emb in (self.src_emb, self.tgt_emb):
            nn.init.normal_(emb.weight, 0.0, args.d_model ** -0.5)
            with torch.no_grad():
                emb.weight[pad].zero_()
        self.register_buffer("positions", sinusoid_table(max(MAX_POSITIONS, args.max_len), args.d_model),
                             persistent=False)
        self.drop = nn.Dropout(args.dropout)
        self.transformer = nn.Transformer(
            d_model=args.d_model, nhead=args.heads, num_encoder_layers=args.enc_layers,
            num_decoder_layers=args.dec_layers, dim_feedforward=args.ff, dropout=args.dropout,
            batch_first=True, norm_first=True)

    def embed(self, emb, ids):
        """Scaled token embedding + sinusoidal position, then dropout."""
        x = emb(ids) * math.sqrt(self.d_model) + self.positions[: ids.size(1)]
        return self.drop(x)

    def encode(self, src):
        """Encoder memory and the source padding mask the decoder needs to skip padding."""
        mask = src.eq(self.pad)
        memory = self.transformer.encoder(self.embed(self.src_emb, src), src_key_padding_mask=mask)
        return memory, mask

    def decode(self, tgt_in, memory, src_mask):
        """Decoder states for every prefix position.

        No target padding mask: padding sits at the end and the causal mask already keeps
        every real position from seeing it (and pad rows are ignored by the loss).
        """
        n = tgt_in.size(1)
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool, device=tgt_in.device), 1)
        return self.transformer.decoder(self.embed(self.tgt_emb, tgt_in), memory, tgt_mask=causal,
                                        memory_key_padding_mask=src_mask)

    def logits(self, h):
        """Output projection tied to the target embedding."""
        return F.linear(h, self.tgt_emb.weight)

    def forward(self, src, tgt_in):
        memory, mask = self.encode(src)
        return self.logits(self.decode(tgt_in, memory, mask))


def count_params(model):
    """Distinct trainable parameters (the tied projection counts once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- lmaas models

# Model flags and the lmaas architecture fields they mirror, with lmaas's defaults for absent fields.
LMAAS_FIELDS = (("d_model", "d_model", 256), ("heads", "n_heads", 4), ("ff", "dim_feedforward", 1024),
                ("enc_layers", "encoder_layers", 3), ("dec_layers", "decoder_layers", 3),
                ("dropout", "dropout", 0.1))
SAFETENSORS_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}


def read_lmaas_config(model_dir):
    """DIR/config.json, refused unless Seq2Seq computes exactly the same function.

    A post-norm model (no final norms), learned positions or an untied output would load
    into something and then decode differently, and the timing would compare two models.
    """
    path = os.path.join(model_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"--init-from-lmaas: cannot read {path}: {e}")
    arch = cfg.get("architecture")
    if cfg.get("task") != "translation" or not isinstance(arch, dict):
        sys.exit(f"--init-from-lmaas: {path} is not a translation model (task {cfg.get('task')!r})")
    unsupported = []
    if arch.get("arch", "transformer") != "transformer":
        unsupported.append(f"arch {arch.get('arch')!r} (only transformer)")
    if not arch.get("norm_first", True):
        unsupported.append("norm_first false (only pre-norm)")
    if arch.get("positions", "sinusoidal") != "sinusoidal":
        unsupported.append(f"positions {arch.get('positions')!r} (only sinusoidal)")
    if not arch.get("tie_output", True):
        unsupported.append("tie_output false (only an output tied to the target embedding)")
    unsupported += [f"no {key}" for key in ("src_vocab_size", "tgt_vocab_size") if key not in arch]
    if unsupported:
        sys.exit(f"--init-from-lmaas: {model_dir} cannot be rebuilt here: " + "; ".join(unsupported))
    return cfg


def apply_lmaas_config(parser, args, cfg):
    """Model flags, max_len and tokenizer paths from the lmaas config.

    A model flag given with another value than the config's is an error rather than being
    overridden quietly: the driver passes its recipe's values, and a disagreement means the
    directory is not the model the run was meant for.
    """
    arch, model_dir = cfg["architecture"], args.init_from_lmaas
    conflicts = []
    for dest, key, default in LMAAS_FIELDS:
        flag_default = parser.get_default(dest)
        value = type(flag_default)(arch.get(key, default))
        given = getattr(args, dest)
        if given != flag_default and given != value:
            conflicts.append(f"--{dest.replace('_', '-')} {given} but {key} {value}")
        setattr(args, dest, value)
    if conflicts:
        parser.error(f"--init-from-lmaas {model_dir}: " + "; ".join(conflicts))
    args.max_len = int(arch.get("max_len", 256))
    args.share_embeddings = bool(arch.get("share_embeddings", False))
    args.lmaas_arch = arch
    tokenizer = cfg.get("tokenizer") or {}
    for dest, key in (("src_spm", "source"), ("tgt_spm", "target")):
        if getattr(args, dest) is None:
            if not isinstance(tokenizer.get(key), str):
                parser.error(f"{model_dir}/config.json names no tokenizer.{key}: "
                             f"pass --{dest.replace('_', '-')}")
            setattr(args, dest, os.path.join(model_dir, tokenizer[key]))


def check_lmaas_tokenizers(arch, sp_src, sp_tgt):
    """The tokenizers must give the ids the weights were trained on: sizes and special ids."""
    problems = []
    for side, sp, key in (("source", sp_src, "src_vocab_size"), ("target", sp_tgt, "tgt_vocab_size")):
        if sp.get_piece_size() != int(arch[key]):
            problems.append(f"the {side} tokenizer has {sp.get_piece_size()} pieces, {key} is {arch[key]}")
    for what, got, key, default in (("target pad", sp_tgt.pad_id(), "pad_id", 0),
                                    ("target bos", sp_tgt.bos_id(), "bos_id", 2),
                                    ("target eos", sp_tgt.eos_id(), "eos_id", 3),
                                    ("source eos", sp_src.eos_id(), "eos_id", 3)):
        if got != int(arch.get(key, default)):
            problems.append(f"{what} id is {got}, {key} is {arch.get(key, default)}")
    if problems:
        sys.exit("--init-from-lmaas: tokenizers do not match the model: " + "; ".join(problems))


def read_safetensors(path):
    """Tensors of a .safetensors file by name, read with numpy (no extra package needed).

    Layout: 8-byte little-endian header size, a JSON header {name: {dtype, shape,
    data_offsets}} (plus "__metadata__"), then the data buffer the offsets point into.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
        (size,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8: 8 + size])
    except (OSError, struct.error, ValueError) as e:
        sys.exit(f"--init-from-lmaas: cannot read {path}: {e}")
    data = memoryview(raw)[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            sys.exit(f"--init-from-lmaas: {path}: {name} is {info['dtype']}; "
                     "only F32, F16 and F64 are read")
        begin, end = info["data_offsets"]
        try:
            array = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        except ValueError as e:
            sys.exit(f"--init-from-lmaas: {path}: {name}: {e}")
        tensors[name] = torch.from_numpy(array.astype(np.float32))  # a copy: writable, owns its memory
    return tensors


def lmaas_names(key, shared):
    """The lmaas tensors one Seq2Seq state-dict entry is made of, stacked along dim 0 in order.

    nn.MultiheadAttention packs q, k, v into in_proj_weight/in_proj_bias and nn.Transformer
    calls the decoder's cross attention multihead_attn; lmaas keeps q_proj/k_proj/v_proj and
    says cross_attn. Everything else under nn.Transformer has lmaas's name.
    """
    if key in ("src_emb.weight", "tgt_emb.weight"):
        return ["embedding.weight" if shared else key.replace("_emb.", "_embedding.")]
    name = key.removeprefix("transformer.").replace(".multihead_attn.", ".cross_attn.")
    base, _, kind = name.rpartition(".in_proj_")
    if base:
        return [f"{base}.{x}_proj.{kind}" for x in "qkv"]
    return [name]


def load_lmaas_weights(model, model_dir, shared):
    """Fill every Seq2Seq tensor from DIR/model.safetensors; returns the tensor count.

    Missing, unexpected and misshapen tensors are all listed before exiting: a partial load
    would still decode, just not as the lmaas model does.
    """
    path = os.path.join(model_dir, "model.safetensors")
    tensors = read_safetensors(path)
    state, used, missing, misshapen = {}, set(), set(), []
    for key, ref in model.state_dict().items():
        names = lmaas_names(key, shared)
        part = [ref.size(0) // len(names)] + list(ref.shape[1:])
        absent = [n for n in names if n not in tensors]
        bad = [f"{n} is {list(tensors[n].shape)}, {key} needs {part}"
               for n in names if n in tensors and list(tensors[n].shape) != part]
        missing.update(absent)
        misshapen += bad
        used.update(names)
        if not absent and not bad:
            state[key] = torch.cat([tensors[n] for n in names]) if len(names) > 1 else tensors[names[0]]
    unexpected = sorted(set(tensors) - used)
    problems = ([f"missing: {n}" for n in sorted(missing)] + [f"unexpected: {n}" for n in unexpected]
                + [f"shape: {m}" for m in misshapen])
    if problems:
        sys.exit(f"--init-from-lmaas: {path} does not fit the model built from its config "
                 f"({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n  " + "\n  ".join(problems))
    model.load_state_dict(state)
    return len(tensors)


# ----------------------------------------------------------------------------- training

def inverse_sqrt(warmup):
    """LambdaLR factor: linear warmup, then inverse square-root decay, peak 1 at `warmup`."""
    def factor(step):
        step = max(step, 1)
        return min(step / warmup, math.sqrt(warmup / step)) if warmup > 0 else 1.0 / math.sqrt(step)
    return factor


def dev_loss(model, examples, batches, ids):
    """Token-averaged dev cross-entropy without label smoothing, so it is comparable across runs."""
    model.eval()
    total, tokens = 0.0, 0
    with torch.inference_mode():
        for idx in batches:
            src, tin, tout = collate(examples, idx, *ids)
            logits = model(src, tin)
            total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), tout.reshape(-1),
                                     ignore_index=ids[0], reduction="sum").item()
            tokens += int(tout.ne(ids[0]).sum())
    model.train()
    return total / max(tokens, 1)


def train(model, train_ex, dev_ex, ids, args):
    """Train until the wall-clock budget runs out; the dev evaluations are timed separately."""
    pad = ids[0]
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, inverse_sqrt(args.warmup))
    batches = make_batches(train_ex, args.batch_tokens, args.seed)
    dev_batches = make_batches(dev_ex, args.batch_tokens, args.seed)
    rng = random.Random(args.seed)
    budget = args.minutes * 60.0
    st = {"step": 0, "train_s": 0.0, "eval_s": 0.0, "tokens": 0, "dev_loss": None, "batches_done": 0}
    win_loss, win_tok = 0.0, 0
    epoch = 0
    model.train()
    while st["train_s"] < budget:
        epoch += 1
        rng.shuffle(batches)
        for idx in batches:
            if st["train_s"] >= budget:
                break
            t0 = time.perf_counter()
            src, tin, tout = collate(train_ex, idx, *ids)
            logits = model(src, tin)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tout.reshape(-1),
                                   ignore_index=pad, label_smoothing=args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            ntok = int(tout.ne(pad).sum())
            st["train_s"] += time.perf_counter() - t0
            st["step"] += 1
            st["batches_done"] += 1
            st["tokens"] += ntok
            win_loss += loss.item() * ntok
            win_tok += ntok
            if args.log_every and st["step"] % args.log_every == 0:
                progress(epoch, st, win_loss / win_tok, None)
                win_loss, win_tok = 0.0, 0
        t0 = time.perf_counter()
        st["dev_loss"] = dev_loss(model, dev_ex, dev_batches, ids)
        st["eval_s"] += time.perf_counter() - t0
        progress(epoch, st, win_loss / win_tok if win_tok else None, st["dev_loss"])
        win_loss, win_tok = 0.0, 0
    st["epochs"] = st["batches_done"] / len(batches)
    return st


def progress(epoch, st, train_loss, dloss):
    """Progress line; train_loss is the label-smoothed objective over the last window."""
    emit({"epoch": epoch, "step": st["step"],
          "train_loss": None if train_loss is None else round(train_loss, 4),
          "dev_loss": None if dloss is None else round(dloss, 4),
          "elapsed_s": round(st["train_s"], 2),
          "tokens_per_s": round(st["tokens"] / max(st["train_s"], 1e-9), 1)})


# ----------------------------------------------------------------------------- decoding

def clip_source(row, max_len):
    """A source of at most max_len tokens: its first max_len - 1 pieces and its EOS, as lmaas cuts it."""
    return row if len(row) <= max_len else row[: max_len - 1] + row[-1:]


def max_lengths(src_rows, ratio, max_len):
    """Per-sentence output cap, EOS included: int(source tokens incl. EOS * ratio) + 10, at most
    max_len - 1 (lmaas's limit, so that a sentence that runs on stops at the same step)."""
    return torch.tensor([min(int(len(r) * ratio) + 10, max_len - 1) for r in src_rows], dtype=torch.long)


def greedy_batch(model, src_rows, ids, ratio):
    """Greedy decoding of one batch; the decoder re-reads the whole prefix every step."""
    pad, bos, eos = ids
    src = pad_rows(src_rows, pad)
    memory, mask = model.encode(src)
    caps = max_lengths(src_rows, ratio, model.max_len)
    n = src.size(0)
    ys = torch.full((n, 1), bos, dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    for t in range(int(caps.max())):
        lp = model.logits(model.decode(ys, memory, mask)[:, -1])
        lp[:, pad] = lp[:, bos] = float("-inf")
        nxt = lp.argmax(-1)
        nxt = torch.where(caps.le(t + 1) & ~done, torch.full_like(nxt, eos), nxt)
        nxt = nxt.masked_fill(done, pad)
        ys = torch.cat([ys, nxt.unsqueeze(1)], 1)
        done |= nxt.eq(eos)
        if bool(done.all()):
            break
    return [strip(row[1:], pad, eos) for row in ys.tolist()]


def length_penalty(length, alpha, style):
    """What a hypothesis score is divided by: GNMT's ((5 + len) / 6) ** alpha, or fairseq's (and
    lmaas's) len ** alpha, so that both sides can rank by the same rule; alpha 0 disables it."""
    length = length.float()
    return (length if style == "fairseq" else (5.0 + length) / 6.0) ** alpha


def beam_batch(model, src_rows, ids, args):
    """Beam search for one batch of sentences, expanded to batch x beam rows.

    Finished beams stay in the beam (extended by padding at no cost) and compete with the
    live ones on length-normalized score; a sentence leaves the batch once all its beams have
    ended, and the search stops when no sentence is left or the length caps are reached.
    """
    pad, bos, eos = ids
    k, alpha, style = args.beam, args.length_penalty, args.length_penalty_style
    src = pad_rows(src_rows, pad)
    memory, mask = model.encode(src)
    b = src.size(0)
    memory, mask = memory.repeat_interleave(k, 0), mask.repeat_interleave(k, 0)
    caps = max_lengths(src_rows, args.max_len_ratio, model.max_len)
    alive = torch.arange(b)                           # original sentence index per active row group
    ys = torch.full((b * k, 1), bos, dtype=torch.long)
    score = torch.full((b, k), float("-inf"))
    score[:, 0] = 0.0                                 # one live beam at the start, no duplicates
    length = torch.zeros(b, k, dtype=torch.long)
    fin = torch.zeros(b, k, dtype=torch.bool)
    results = [None] * b
    t = 0
    while alive.numel():
        t += 1
        lp = F.log_softmax(model.logits(model.decode(ys, memory, mask)[:, -1]), -1)
        v = lp.size(-1)
        lp = lp.view(-1, k, v)
        lp[:, :, pad] = lp[:, :, bos] = float("-inf")
        at_cap = caps[alive].le(t).view(-1, 1, 1)
        lp = torch.where(at_cap & (torch.arange(v) != eos), torch.tensor(float("-inf")), lp)
        lp = torch.where(fin.unsqueeze(-1), torch.tensor(float("-inf")), lp)
        lp[:, :, pad] = torch.where(fin, torch.tensor(0.0), lp[:, :, pad])
        cand = score.unsqueeze(-1) + lp                                  # (B, K, V)
        cand_len = torch.where(fin, length, torch.full_like(length, t)).unsqueeze(-1)
        norm = cand / length_penalty(cand_len, alpha, style)
        top = norm.view(cand.size(0), -1).topk(k, dim=1).indices          # sorted best-first
        beam, tok = top // v, top % v
        score = cand.view(cand.size(0), -1).gather(1, top)
        was_fin = fin.gather(1, beam)
        length = torch.where(was_fin, length.gather(1, beam), torch.full_like(length, t))
        fin = was_fin | tok.eq(eos)
        rows = (beam + torch.arange(beam.size(0)).unsqueeze(1) * k).view(-1)
        ys = torch.cat([ys.index_select(0, rows), tok.view(-1, 1)], 1)
        done = fin.all(1)
        if bool(done.any()):
            for g in done.nonzero().view(-1).tolist():
                results[int(alive[g])] = strip(ys[g * k, 1:].tolist(), pad, eos)
            keep = (~done).nonzero().view(-1)
            rows = (keep.unsqueeze(1) * k + torch.arange(k)).view(-1)
            alive, score, length, fin = alive[keep], score[keep], length[keep], fin[keep]
            ys, memory, mask = ys[rows], memory[rows], mask[rows]
    return results


def strip(row, pad, eos):
    """Ids up to the first EOS, padding removed: what gets detokenized."""
    out = []
    for i in row:
        if i == eos:
            break
        if i != pad:
            out.append(i)
    return out


def decode_all(model, dev_ex, sp_tgt, ids, args, beam):
    """Decode the dev sources in file order, in batches of --decode-batch; returns text + seconds."""
    model.eval()
    hyps, seconds = [], 0.0
    with torch.inference_mode():
        for i in range(0, len(dev_ex), args.decode_batch):
            rows = [clip_source(ex[0], model.max_len) for ex in dev_ex[i: i + args.decode_batch]]
            t0 = time.perf_counter()
            out = (beam_batch(model, rows, ids, args) if beam
                   else greedy_batch(model, rows, ids, args.max_len_ratio))
            hyps.extend(sp_tgt.decode(out))
            seconds += time.perf_counter() - t0
    return hyps, seconds


def write_lines(path, lines):
    """One sentence per line; embedded newlines would shift the alignment with the references."""
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line.replace("\n", " ").replace("\r", " ") + "\n")


# ----------------------------------------------------------------------------- main

def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    training = args.minutes is not None
    train_pairs = load_pairs(args, "train") if training else None
    dev_pairs = load_pairs(args, "dev")
    sp_src, sp_tgt = load_tokenizers(args, train_pairs)
    if args.init_from_lmaas:
        check_lmaas_tokenizers(args.lmaas_arch, sp_src, sp_tgt)
    ids = (sp_tgt.pad_id(), sp_tgt.bos_id(), sp_tgt.eos_id())
    dev_ex = encode_pairs(dev_pairs, sp_src, sp_tgt, 0)
    model = Seq2Seq(sp_src.get_piece_size(), sp_tgt.get_piece_size(), ids[0], args)
    model_path = os.path.join(args.out, "model.pt")
    if args.init_from_lmaas:
        n = load_lmaas_weights(model, args.init_from_lmaas, args.share_embeddings)
        emit({"init_from_lmaas": args.init_from_lmaas, "tensors": n, "params": count_params(model)})
    write_lines(os.path.join(args.out, "dev.ref"), [p[1] for p in dev_pairs])

    if training:
        train_ex = encode_pairs(train_pairs, sp_src, sp_tgt, args.max_train_len)
        st = train(model, train_ex, dev_ex, ids, args)
        torch.save(model.state_dict(), model_path)
        hyps, greedy_s = decode_all(model, dev_ex, sp_tgt, ids, args, beam=False)
        write_lines(os.path.join(args.out, "dev.hyp"), hyps)
        emit({"side": "pytorch", "minutes": args.minutes, "steps": st["step"],
              "epochs": round(st["epochs"], 3), "dev_loss": round(st["dev_loss"], 4),
              "train_tokens_per_s": round(st["tokens"] / max(st["train_s"], 1e-9), 1),
              "params": count_params(model), "train_s": round(st["train_s"], 2),
              "eval_s": round(st["eval_s"], 2), "greedy_decode_s": round(greedy_s, 2),
              "train_pairs": len(train_ex), "dev_pairs": len(dev_ex),
              "src_vocab": sp_src.get_piece_size(), "tgt_vocab": sp_tgt.get_piece_size(),
              "threads": args.threads})
    else:
        if not args.init_from_lmaas:
            model.load_state_dict(torch.load(model_path, map_location="cpu"))
        if args.greedy:
            hyps, greedy_s = decode_all(model, dev_ex, sp_tgt, ids, args, beam=False)
            write_lines(os.path.join(args.out, "dev.hyp"), hyps)
            emit({"side": "pytorch", "greedy_sentences_per_s": round(len(hyps) / max(greedy_s, 1e-9), 2),
                  "greedy_decode_s": round(greedy_s, 2), "batch": args.decode_batch,
                  "sentences": len(hyps), "threads": args.threads})

    if args.decode_bench:
        hyps, seconds = decode_all(model, dev_ex, sp_tgt, ids, args, beam=True)
        write_lines(os.path.join(args.out, "dev.beam.hyp"), hyps)
        emit({"side": "pytorch", "decode_sentences_per_s": round(len(hyps) / max(seconds, 1e-9), 2),
              "beam": args.beam, "batch": args.decode_batch, "sentences": len(hyps),
              "decode_s": round(seconds, 2), "length_penalty": args.length_penalty,
              "length_penalty_style": args.length_penalty_style, "threads": args.threads})


if __name__ == "__main__":
    main()
