#!/usr/bin/python3
"""Generates the PyTorch reference fixtures in tests/golden/fixtures/ (DESIGN.md §7).

Run by hand with Debian's interpreter (python3-torch 1.13, python3-numpy):
    /usr/bin/python3 tests/tools/gen_golden.py [OUT_DIR]          # generate, then verify
    /usr/bin/python3 tests/tools/gen_golden.py --verify [OUT_DIR]  # only read back and list

Invariants:
- One function per case; each seeds torch itself, so cases are independent of order.
- CPU, float32, one thread, dropout 0: rerunning writes byte-identical files.
- Tensor names: param.<n>, input.<n>, output.<n>, seed.<output> (weights w, L = sum w*output),
  grad.param.<n>, grad.input.<n>, step<k>.param.<n>, step<k>.loss, step<k>.grad_norm.
- Parameter names are the C++ engine's: PyTorch names, except that MultiheadAttention's
  in_proj_{weight,bias} is split into {q,k,v}_proj.{weight,bias} and the decoder's
  multihead_attn is called cross_attn.
- Files are safetensors written here with struct+json (no safetensors package on Debian).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

DEFAULT_OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "fixtures")
TOLERANCE = "1e-5 relative"
NUMPY_TO_ST = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32", np.dtype(np.uint8): "U8"}
ST_ITEM_BYTES = {"F32": 4, "I32": 4, "U8": 1}

# ----------------------------------------------------------------------------- writer


def write_safetensors(path, tensors, metadata):
    """tensors: ordered dict name -> numpy array (F32/I32/U8); metadata: dict str -> str."""
    header = {"__metadata__": dict(sorted(metadata.items()))}
    chunks, offset = [], 0
    for name, arr in tensors.items():
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": NUMPY_TO_ST[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


class Fixture:
    """Collects the tensors and metadata of one case, then writes them as <name>.safetensors."""

    def __init__(self, name, seed, config, **extra_meta):
        self.name, self.seed, self.config = name, seed, config
        self.extra_meta = {k: json.dumps(v) for k, v in extra_meta.items()}
        self.tensors = {}

    def add(self, name, value, dtype=np.float32):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        arr = np.array(value, dtype=dtype, order="C")  # not ascontiguousarray: it turns [] into [1]
        assert name not in self.tensors, name
        assert dtype != np.float32 or np.isfinite(arr).all(), f"{self.name}: {name} not finite"
        self.tensors[name] = arr

    def add_all(self, prefix, named):
        for name, value in named.items():
            self.add(prefix + name, value)

    def write(self, out_dir):
        meta = {"config": json.dumps(self.config, sort_keys=True), "seed": str(self.seed),
                "torch_version": torch.__version__, "tolerance": TOLERANCE, **self.extra_meta}
        path = os.path.join(out_dir, self.name + ".safetensors")
        write_safetensors(path, self.tensors, meta)
        return path

# ----------------------------------------------------------------------------- helpers


def start(seed):
    torch.manual_seed(seed)


def engine_tensors(module, which="data"):
    """Parameter values (which='data') or gradients ('grad') under the engine's names."""
    out = {}
    for name, p in module.named_parameters():
        t = p.detach() if which == "data" else p.grad
        name = name.replace("multihead_attn.", "cross_attn.")
        for kind in ("weight", "bias"):
            if name.endswith("in_proj_" + kind):
                base = name[: -len("in_proj_" + kind)]
                for part, chunk in zip("qkv", t.chunk(3, dim=0)):
                    out[f"{base}{part}_proj.{kind}"] = chunk
                break
        else:
            out[name] = t
    return {k: v.clone() for k, v in out.items()}


def length_mask(lengths, n_steps):
    """U8 [batch, n_steps]: 1 on real tokens."""
    return (torch.arange(n_steps)[None, :] < torch.tensor(lengths)[:, None]).to(torch.uint8)


def run_packed(rnn, x, lengths, n_steps):
    packed = pack_padded_sequence(x, torch.tensor(lengths, dtype=torch.int64), batch_first=True,
                                  enforce_sorted=False)
    out, state = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=n_steps)
    return out, state


def backward_seeded(fx, module, outputs, float_inputs):
    """L = sum_o sum(w_o * o) with fixed random w_o; records outputs, seeds and all gradients."""
    loss = 0.0
    for name, out in outputs.items():
        w = torch.randn(out.shape)
        fx.add("seed." + name, w)
        fx.add("output." + name, out)
        loss = loss + (w * out).sum()
    loss.backward()
    fx.add_all("grad.param.", engine_tensors(module, "grad"))
    for name, x in float_inputs.items():
        fx.add("grad.input." + name, x.grad)


def bool_causal(n):
    """True above the diagonal: position i may not attend to j > i."""
    return torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)


def pad_mask_last(batch, n, n_padded_last):
    """U8 [batch, n], 1 = ignore; the last sequence has its last n_padded_last positions padded."""
    m = torch.zeros(batch, n, dtype=torch.uint8)
    m[-1, n - n_padded_last:] = 1
    return m

# ----------------------------------------------------------------------------- recurrent cases


def case_embedding_lstm():
    seed, lengths, T = 1001, [7, 4, 2], 7
    start(seed)
    model = nn.ModuleDict(dict(embedding=nn.Embedding(20, 6, padding_idx=0), lstm=nn.LSTM(6, 8, batch_first=True)))
    mask = length_mask(lengths, T)
    ids = torch.randint(1, 20, (3, T)) * mask.long()
    fx = Fixture("embedding_lstm", seed, dict(vocab=20, dim=6, hidden=8, padding_idx=0, lengths=lengths,
                                              gate_order="i,f,g,o"))
    fx.add_all("param.", engine_tensors(model))
    fx.add("input.ids", ids, np.int32)
    fx.add("input.lengths", lengths, np.int32)
    fx.add("input.mask", mask, np.uint8)
    out, (h_n, c_n) = run_packed(model["lstm"], model["embedding"](ids), lengths, T)
    backward_seeded(fx, model, {"output": out, "h_n": h_n[0], "c_n": c_n[0]}, {})
    return fx


def case_gru():
    seed, lengths, T = 1002, [6, 3, 1], 6
    start(seed)
    model = nn.ModuleDict(dict(gru=nn.GRU(5, 7, num_layers=2, batch_first=True)))
    x = torch.randn(3, T, 5, requires_grad=True)
    fx = Fixture("gru", seed, dict(input=5, hidden=7, num_layers=2, lengths=lengths, gate_order="r,z,n"))
    fx.add_all("param.", engine_tensors(model))
    fx.add("input.x", x)
    fx.add("input.lengths", lengths, np.int32)
    fx.add("input.mask", length_mask(lengths, T), np.uint8)
    out, h_n = run_packed(model["gru"], x, lengths, T)
    backward_seeded(fx, model, {"output": out, "h_n": h_n}, {"x": x})
    return fx


def case_simple_rnn():
    seed, lengths, T = 1003, [5, 3], 5
    start(seed)
    model = nn.ModuleDict(dict(rnn=nn.RNN(5, 7, nonlinearity="tanh", batch_first=True)))
    x = torch.randn(2, T, 5, requires_grad=True)
    fx = Fixture("simple_rnn", seed, dict(input=5, hidden=7, nonlinearity="tanh", lengths=lengths))
    fx.add_all("param.", engine_tensors(model))
    fx.add("input.x", x)
    fx.add("input.lengths", lengths, np.int32)
    fx.add("input.mask", length_mask(lengths, T), np.uint8)
    out, h_n = run_packed(model["rnn"], x, lengths, T)
    backward_seeded(fx, model, {"output": out, "h_n": h_n}, {"x": x})
    return fx


def case_bilstm():
    seed, lengths, T = 1004, [6, 4, 2], 6
    start(seed)
    model = nn.ModuleDict(dict(lstm=nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True)))
    x = torch.randn(3, T, 5, requires_grad=True)
    fx = Fixture("bilstm", seed, dict(input=5, hidden=6, num_layers=2, bidirectional=True, lengths=lengths,
                                      gate_order="i,f,g,o", h_n_order="l0,l0_reverse,l1,l1_reverse"))
    fx.add_all("param.", engine_tensors(model))
    fx.add("input.x", x)
    fx.add("input.lengths", lengths, np.int32)
    fx.add("input.mask", length_mask(lengths, T), np.uint8)
    out, (h_n, c_n) = run_packed(model["lstm"], x, lengths, T)
    backward_seeded(fx, model, {"output": out, "h_n": h_n, "c_n": c_n}, {"x": x})
    return fx

# ----------------------------------------------------------------------------- attention cases


def case_mha():
    seed = 1005
    start(seed)
    mha = nn.MultiheadAttention(16, 4, dropout=0.0, batch_first=True).train()
    x = torch.randn(2, 5, 16, requires_grad=True)
    kpm = pad_mask_last(2, 5, 2)
    fx = Fixture("mha", seed, dict(embed_dim=16, num_heads=4, self_attention=True), causal=True)
    fx.add_all("param.", engine_tensors(mha))
    fx.add("input.x", x)
    fx.add("input.key_padding_mask", kpm, np.uint8)
    out, _ = mha(x, x, x, key_padding_mask=kpm.bool(), attn_mask=bool_causal(5), need_weights=False)
    backward_seeded(fx, mha, {"output": out}, {"x": x})
    return fx


def case_mha_cross():
    seed = 1006
    start(seed)
    mha = nn.MultiheadAttention(16, 4, dropout=0.0, batch_first=True).train()
    q = torch.randn(2, 4, 16, requires_grad=True)
    kv = torch.randn(2, 6, 16, requires_grad=True)
    kpm = pad_mask_last(2, 6, 3)
    fx = Fixture("mha_cross", seed, dict(embed_dim=16, num_heads=4, key_is_value=True), causal=False)
    fx.add_all("param.", engine_tensors(mha))
    fx.add("input.q", q)
    fx.add("input.kv", kv)
    fx.add("input.key_padding_mask", kpm, np.uint8)
    out, _ = mha(q, kv, kv, key_padding_mask=kpm.bool(), need_weights=False)
    backward_seeded(fx, mha, {"output": out}, {"q": q, "kv": kv})
    return fx


def make_encoder(name, seed, norm_first, activation):
    start(seed)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, activation=activation,
                                       batch_first=True, norm_first=norm_first)
    layer.train()  # train mode: never the 1.13 inference fast path (nested tensors, zeros at pads)
    x = torch.randn(2, 5, 16, requires_grad=True)
    kpm = pad_mask_last(2, 5, 2)
    config = dict(d_model=16, nhead=4, dim_feedforward=32, activation=activation, norm_first=norm_first,
                  layer_norm_eps=1e-5)
    if activation == "gelu":
        config["gelu"] = "exact (erf), not tanh"
    fx = Fixture(name, seed, config, causal=False)
    fx.add_all("param.", engine_tensors(layer))
    fx.add("input.x", x)
    fx.add("input.src_key_padding_mask", kpm, np.uint8)
    out = layer(x, src_key_padding_mask=kpm.bool())
    backward_seeded(fx, layer, {"output": out}, {"x": x})
    return fx


def case_transformer_encoder_post():
    return make_encoder("transformer_encoder_post", 1007, False, "relu")


def case_transformer_encoder_pre():
    return make_encoder("transformer_encoder_pre", 1008, True, "relu")


def case_transformer_encoder_pre_gelu():
    return make_encoder("transformer_encoder_pre_gelu", 1009, True, "gelu")


def make_decoder(name, seed, norm_first):
    start(seed)
    layer = nn.TransformerDecoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True,
                                       norm_first=norm_first).train()
    tgt = torch.randn(2, 4, 16, requires_grad=True)
    memory = torch.randn(2, 6, 16, requires_grad=True)
    mkpm = pad_mask_last(2, 6, 2)
    fx = Fixture(name, seed, dict(d_model=16, nhead=4, dim_feedforward=32, activation="relu",
                                  norm_first=norm_first, layer_norm_eps=1e-5), causal=True)
    fx.add_all("param.", engine_tensors(layer))
    fx.add("input.tgt", tgt)
    fx.add("input.memory", memory)
    fx.add("input.memory_key_padding_mask", mkpm, np.uint8)
    out = layer(tgt, memory, tgt_mask=bool_causal(4), memory_key_padding_mask=mkpm.bool())
    backward_seeded(fx, layer, {"output": out}, {"tgt": tgt, "memory": memory})
    return fx


def case_transformer_decoder_post():
    return make_decoder("transformer_decoder_post", 1010, False)


def case_transformer_decoder_pre():
    return make_decoder("transformer_decoder_pre", 1011, True)

# ----------------------------------------------------------------------------- seq2seq translator


def sinusoid_table(max_len, dim):
    """pe[t, 2i] = sin(t / 10000^(2i/dim)), pe[t, 2i+1] = cos(...), as Vaswani et al. 2017."""
    pe = torch.zeros(max_len, dim)
    position = torch.arange(max_len, dtype=torch.float64)[:, None]
    div = torch.pow(10000.0, torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    pe[:, 0::2] = torch.sin(position / div).float()
    pe[:, 1::2] = torch.cos(position / div).float()
    return pe


class Translator(nn.Module):
    """Pre-norm encoder-decoder: embeddings * sqrt(d) + sinusoids, final LayerNorms, output tied to the
    target embedding; the C++ TransformerTranslator's parameter names."""

    def __init__(self, src_vocab, tgt_vocab, d, heads, ff, n_enc, n_dec, max_len):
        super().__init__()
        self.d = d
        self.src_embedding = nn.Embedding(src_vocab, d, padding_idx=0)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d, padding_idx=0)
        layer = lambda cls: cls(d, heads, dim_feedforward=ff, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer(nn.TransformerEncoderLayer), n_enc, norm=nn.LayerNorm(d),
                                             enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(layer(nn.TransformerDecoderLayer), n_dec, norm=nn.LayerNorm(d))
        self.register_buffer("pe", sinusoid_table(max_len, d), persistent=False)

    def embed(self, table, ids):
        return table(ids) * math.sqrt(self.d) + self.pe[: ids.shape[1]]

    def forward(self, src, tgt_in):
        src_pad = src == 0
        memory = self.encoder(self.embed(self.src_embedding, src), src_key_padding_mask=src_pad)
        h = self.decoder(self.embed(self.tgt_embedding, tgt_in), memory, tgt_mask=bool_causal(tgt_in.shape[1]),
                         memory_key_padding_mask=src_pad)
        return h @ self.tgt_embedding.weight.t()


def translator_fixture(name, seed, config, model):
    """A two-sentence batch (the second padded on both sides) through a translator: logits, the
    label-smoothed loss (0.1), every gradient, then train_and_greedy."""
    src = torch.tensor([[5, 6, 7, 8, 3], [9, 4, 3, 0, 0]], dtype=torch.int32)
    tgt_in = torch.tensor([[2, 5, 6, 7], [2, 8, 9, 0]], dtype=torch.int32)
    tgt_out = torch.tensor([[5, 6, 7, 3], [8, 9, 3, 0]], dtype=torch.int32)
    vocab = config["tgt_vocab_size"]
    fx = Fixture(name, seed, config)
    fx.add_all("param.", engine_tensors(model))
    fx.add("input.src", src, np.int32)
    fx.add("input.tgt_in", tgt_in, np.int32)
    fx.add("input.tgt_out", tgt_out, np.int32)
    logits = model(src.long(), tgt_in.long())
    loss = F.cross_entropy(logits.reshape(-1, vocab), tgt_out.long().reshape(-1), ignore_index=0,
                           label_smoothing=config["label_smoothing"])
    fx.add("output.logits", logits)
    fx.add("output.loss", loss)
    loss.backward()
    fx.add_all("grad.param.", engine_tensors(model, "grad"))
    train_and_greedy(fx, model, src, tgt_in, tgt_out, vocab)
    return fx


def case_translator():
    seed = 1012
    start(seed)
    config = dict(src_vocab_size=11, tgt_vocab_size=13, d_model=16, n_heads=4, dim_feedforward=32,
                  encoder_layers=2, decoder_layers=2, max_len=32, pad_id=0, bos_id=2, eos_id=3,
                  label_smoothing=0.1, norm_first=True, positions="sinusoidal", tie_output=True)
    model = Translator(11, 13, 16, 4, 32, 2, 2, 32).train()
    return translator_fixture("translator", seed, config, model)


class LstmTranslator(nn.Module):
    """Bidirectional LSTM encoder (H/2 per direction), LSTM decoder, scaled "general" attention,
    h~ = tanh(W_c [context; s]), output tied to the target embedding: the C++ LstmTranslator."""

    def __init__(self, src_vocab, tgt_vocab, d, hidden, n_enc, n_dec):
        super().__init__()
        self.hidden = hidden
        self.src_embedding = nn.Embedding(src_vocab, d, padding_idx=0)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d, padding_idx=0)
        self.encoder = nn.LSTM(d, hidden // 2, n_enc, batch_first=True, bidirectional=True)
        self.decoder = nn.LSTM(d, hidden, n_dec, batch_first=True)
        self.attention = nn.Linear(hidden, hidden, bias=False)
        self.combine = nn.Linear(2 * hidden, hidden)

    def forward(self, src, tgt_in):
        memory, _ = run_packed(self.encoder, self.src_embedding(src), (src != 0).sum(1).tolist(), src.shape[1])
        s, _ = run_packed(self.decoder, self.tgt_embedding(tgt_in), (tgt_in != 0).sum(1).tolist(), tgt_in.shape[1])
        scores = self.attention(s) @ memory.transpose(1, 2) / math.sqrt(self.hidden)
        scores = scores.masked_fill((src == 0)[:, None, :], -float("inf"))
        context = torch.softmax(scores, -1) @ memory
        h = torch.tanh(self.combine(torch.cat([context, s], -1)))
        return h @ self.tgt_embedding.weight.t()


def train_and_greedy(fx, model, src, tgt_in, tgt_out, vocab):
    """A few Adam steps on the batch (an untrained model repeats one token), the weights kept as trained.<n>,
    then greedy decoding that recomputes the whole prefix each step, <pad> and <s> never generated."""
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(40):
        opt.zero_grad()
        F.cross_entropy(model(src.long(), tgt_in.long()).reshape(-1, vocab), tgt_out.long().reshape(-1),
                        ignore_index=0).backward()
        opt.step()
    fx.add_all("trained.", engine_tensors(model))
    with torch.no_grad():
        model.eval()
        out = torch.full((src.shape[0], 1), 2, dtype=torch.long)
        for _ in range(12):
            logits = model(src.long(), out)[:, -1]
            logits[:, [0, 2]] = -float("inf")
            out = torch.cat([out, logits.argmax(-1)[:, None]], 1)
    fx.add("output.greedy", out[:, 1:], np.int32)


def case_lstm_translator():
    seed = 1013
    start(seed)
    config = dict(arch="lstm", src_vocab_size=11, tgt_vocab_size=13, d_model=16, hidden_size=16, encoder_layers=2,
                  decoder_layers=1, max_len=32, pad_id=0, bos_id=2, eos_id=3, label_smoothing=0.1, tie_output=True)
    model = LstmTranslator(11, 13, 16, 16, 2, 1).train()
    return translator_fixture("lstm_translator", seed, config, model)

# ----------------------------------------------------------------------------- losses


def loss_fixture(name, seed, config, loss, inputs, grad_names):
    fx = Fixture(name, seed, config)
    for key, (value, dtype) in inputs.items():
        fx.add("input." + key, value, dtype)
    loss.backward()
    fx.add("output.loss", loss)
    for key in grad_names:
        fx.add("grad.input." + key, inputs[key][0].grad)
    return fx


def case_loss_bce():
    seed = 1012
    start(seed)
    logits = torch.randn(6, requires_grad=True)
    targets = torch.randint(0, 2, (6,)).float()
    targets[3] = 0.3
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="mean")
    return loss_fixture("loss_bce", seed, dict(reduction="mean"), loss,
                        {"logits": (logits, np.float32), "targets": (targets, np.float32)}, ["logits"])


def case_loss_ce():
    seed = 1013
    start(seed)
    logits = torch.randn(6, 5, requires_grad=True)
    targets = torch.randint(0, 5, (6,))
    targets[2] = -100
    loss = F.cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.1)
    return loss_fixture("loss_ce", seed, dict(reduction="mean", ignore_index=-100, label_smoothing=0.1), loss,
                        {"logits": (logits, np.float32), "targets": (targets, np.int32)}, ["logits"])


def case_loss_ce_plain():
    seed = 1014
    start(seed)
    logits = torch.randn(6, 5, requires_grad=True)
    targets = torch.randint(0, 5, (6,))
    loss = F.cross_entropy(logits, targets)
    return loss_fixture("loss_ce_plain", seed, dict(reduction="mean", label_smoothing=0.0), loss,
                        {"logits": (logits, np.float32), "targets": (targets, np.int32)}, ["logits"])


def case_loss_mse():
    seed = 1015
    start(seed)
    prediction = torch.randn(3, 4, requires_grad=True)
    target = torch.randn(3, 4)
    loss = F.mse_loss(prediction, target)
    return loss_fixture("loss_mse", seed, dict(reduction="mean"), loss,
                        {"prediction": (prediction, np.float32), "target": (target, np.float32)}, ["prediction"])

# ----------------------------------------------------------------------------- optimizer trajectories


def run_trajectory(fx, model, loss_fn, opt, n_steps=5, max_norm=None):
    """Each step: loss on the same batch (recorded before the update), backward, [clip], update."""
    fx.add_all("param.", engine_tensors(model))
    for k in range(1, n_steps + 1):
        opt.zero_grad()
        loss = loss_fn()
        fx.add(f"step{k}.loss", loss)
        loss.backward()
        if max_norm is not None:
            total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
            fx.add(f"step{k}.grad_norm", total)
        opt.step()
        fx.add_all(f"step{k}.param.", engine_tensors(model))


def make_optim_case(name, seed, opt_name, opt_kwargs, max_norm=None):
    start(seed)
    model = nn.ModuleDict(dict(linear=nn.Linear(4, 3)))
    x = torch.randn(5, 4)
    targets = torch.randint(0, 3, (5,))
    opt = dict(sgd=torch.optim.SGD, adam=torch.optim.Adam, adamw=torch.optim.AdamW)[opt_name](
        model.parameters(), **opt_kwargs)
    config = dict(model="Linear(4,3) -> cross_entropy(mean)", optimizer=opt_name, n_steps=5,
                  **{k: list(v) if isinstance(v, tuple) else v for k, v in opt_kwargs.items()})
    if max_norm is not None:
        config.update(clip_grad_norm=max_norm, norm_type=2.0)
    fx = Fixture(name, seed, config)
    fx.add("input.x", x)
    fx.add("input.targets", targets, np.int32)
    run_trajectory(fx, model, lambda: F.cross_entropy(model["linear"](x), targets), opt, max_norm=max_norm)
    return fx


def case_optim_sgd():
    return make_optim_case("optim_sgd", 1016, "sgd", dict(lr=0.1, momentum=0.0))


def case_optim_sgd_momentum():
    return make_optim_case("optim_sgd_momentum", 1017, "sgd",
                           dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.01))


def case_optim_sgd_nesterov():
    return make_optim_case("optim_sgd_nesterov", 1018, "sgd", dict(lr=0.1, momentum=0.9, nesterov=True))


def case_optim_adam():
    return make_optim_case("optim_adam", 1019, "adam", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0))


def case_optim_adam_l2():
    return make_optim_case("optim_adam_l2", 1020, "adam", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1))


def case_optim_adamw():
    return make_optim_case("optim_adamw", 1021, "adamw", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1))


def case_optim_clip():
    return make_optim_case("optim_clip", 1022, "sgd", dict(lr=0.5), max_norm=0.1)


def case_seed_model_adam():
    seed = 1023
    start(seed)
    model = nn.ModuleDict(dict(embedding=nn.Embedding(30, 10), lstm=nn.LSTM(10, 100, batch_first=True),
                               dense=nn.Linear(100, 1)))
    ids = torch.randint(0, 30, (4, 8))
    labels = torch.randint(0, 2, (4,)).float()

    def loss_fn():
        out, _ = model["lstm"](model["embedding"](ids))
        logits = model["dense"](out[:, -1, :]).squeeze(1)
        return F.binary_cross_entropy_with_logits(logits, labels)

    opt = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-8)
    fx = Fixture("seed_model_adam", seed, dict(
        model="Embedding(30,10) -> LSTM(10,100) -> last step -> Linear(100,1) -> bce_with_logits(mean)",
        vocab=30, dim=10, hidden=100, seq_len=8, optimizer="adam", lr=0.001, betas=[0.9, 0.999], eps=1e-8,
        weight_decay=0.0, n_steps=5))
    fx.add("input.ids", ids, np.int32)
    fx.add("input.labels", labels)
    run_trajectory(fx, model, loss_fn, opt)
    return fx

# ----------------------------------------------------------------------------- schedules


def case_schedules():
    seed, total, warmup = 1024, 100, 10
    start(seed)

    def linear_warmup(step):
        return step / warmup if step < warmup else max(0.0, (total - step) / (total - warmup))

    def cosine_warmup(step):
        if step < warmup:
            return step / warmup
        progress = (step - warmup) / (total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=0.0)
    cosine = []
    for _ in range(total):
        cosine.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    fx = Fixture("schedules", seed, dict(
        base_lr=1.0, steps="0..99", total=total, warmup=warmup,
        linear_warmup="step/warmup if step<warmup else max(0,(total-step)/(total-warmup))",
        cosine="torch CosineAnnealingLR(T_max=100, eta_min=0) (recursive form), lr at step s before step s+1",
        cosine_warmup="step/warmup if step<warmup else 0.5*(1+cos(pi*(step-warmup)/(total-warmup)))"))
    fx.add("output.linear_warmup", [linear_warmup(s) for s in range(total)])
    fx.add("output.cosine", cosine)
    fx.add("output.cosine_warmup", [cosine_warmup(s) for s in range(total)])
    return fx


CASES = [case_embedding_lstm, case_gru, case_simple_rnn, case_bilstm, case_mha, case_mha_cross,
         case_transformer_encoder_post, case_transformer_encoder_pre, case_transformer_encoder_pre_gelu,
         case_transformer_decoder_post, case_transformer_decoder_pre,
         case_loss_bce, case_loss_ce, case_loss_ce_plain, case_loss_mse,
         case_optim_sgd, case_optim_sgd_momentum, case_optim_sgd_nesterov, case_optim_adam,
         case_optim_adam_l2, case_optim_adamw, case_optim_clip, case_seed_model_adam, case_schedules,
         case_translator, case_lstm_translator]

# ----------------------------------------------------------------------------- independent reader


def read_back(path):
    """Parses a file with struct/json only (no numpy); raises ValueError on any violation."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("shorter than the 8-byte header length")
    (n_header,) = struct.unpack_from("<Q", blob, 0)
    if n_header % 8 or 8 + n_header > len(blob):
        raise ValueError(f"bad header length {n_header}")
    header = json.loads(blob[8:8 + n_header].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise ValueError("__metadata__ missing or not str->str")
    for key in ("config", "seed", "torch_version", "tolerance"):
        if key not in meta:
            raise ValueError(f"__metadata__ lacks {key}")
    json.loads(meta["config"])
    buffer = blob[8 + n_header:]
    spans, entries = [], []
    for name, info in header.items():
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        count = 1
        for dim in shape:
            count *= dim
        if dtype not in ST_ITEM_BYTES or end - begin != count * ST_ITEM_BYTES[dtype]:
            raise ValueError(f"{name}: dtype/shape do not match its byte span")
        if name.endswith((".loss", ".grad_norm")) and shape != []:
            raise ValueError(f"{name}: a scalar must have shape []")
        if dtype == "F32":
            values = struct.unpack_from(f"<{count}f", buffer, begin)
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"{name}: non-finite value")
        spans.append((begin, end))
        entries.append((name, dtype, shape))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise ValueError("tensors leave a gap or overlap")
        position = end
    if position != len(buffer):
        raise ValueError("tensors do not cover the data buffer exactly")
    return meta, entries


def verify(out_dir, verbose):
    names = sorted(n for n in os.listdir(out_dir) if n.endswith(".safetensors"))
    expected = {c.__name__[len("case_"):] + ".safetensors" for c in CASES}
    ok = set(names) >= expected
    for name in names:
        path = os.path.join(out_dir, name)
        try:
            meta, entries = read_back(path)
        except (ValueError, KeyError, TypeError, struct.error, json.JSONDecodeError) as e:
            print(f"FAIL {name}: {e}")
            ok = False
            continue
        print(f"ok   {name}  {os.path.getsize(path)} bytes  {len(entries)} tensors  seed={meta['seed']}")
        if verbose:
            for tensor, dtype, shape in entries:
                print(f"       {tensor:48s} {dtype} {shape}")
    for missing in sorted(expected - set(names)):
        print(f"FAIL {missing}: missing")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=DEFAULT_OUT_DIR)
    parser.add_argument("--verify", action="store_true", help="only read back existing files and list them")
    args = parser.parse_args()
    out_dir = os.path.normpath(args.out_dir)
    if not args.verify:
        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float32)
        os.makedirs(out_dir, exist_ok=True)
        for case in CASES:
            case().write(out_dir)
    return 0 if verify(out_dir, verbose=args.verify) else 1


if __name__ == "__main__":
    sys.exit(main())
