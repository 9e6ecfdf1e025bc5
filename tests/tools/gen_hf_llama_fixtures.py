#!/usr/bin/python3
"""Writes the Hugging Face LLaMA checkpoints under tests/golden/fixtures/llm/ (Debian's python3-torch).

hf-stories260K/  ../shared/data/models/stories260K (a llama2.c checkpoint) exported the way Hugging Face's
                 converter exports Meta checkpoints: names model.layers.N.self_attn.q_proj.weight, ...,
                 query/key rows permuted for rotate-half RoPE, float32, one model.safetensors, tied
                 embeddings, tokenizer.json from tok512.bin. Before writing, the script runs its own
                 rotate-half forward pass over the exported tensors and checks it reproduces the published
                 reference logits (reference/greedy_and_logits.json), so the export is a faithful one.
hf-tiny-gqa/     random weights (seeded) in bfloat16, split over two shards with model.safetensors.index.json,
                 grouped-query attention (4 heads, 2 key/value heads), a separate lm_head, rope_theta 50000
                 with linear rope_scaling (factor 2), rms_norm_eps 1e-6. reference.json holds the logits of the
                 same forward pass (float64 over the bfloat16 values) for every position of a prompt.
hf-tiny-llama3/  the same shape in float16, one model.safetensors, rope_theta 500000 with Llama 3.1's
                 rope_scaling ("llama3": factor 8, low/high_freq_factor 1/4, original context 64).
hf-tiny-yarn/    the same shape in float16, rope_theta 10000 with YaRN rope_scaling ("yarn": factor 4,
                 original context 256, default beta_fast/beta_slow and attention factor).

Run from the repository root: /usr/bin/python3 tests/tools/gen_hf_llama_fixtures.py
"""
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORIES = os.path.join(ROOT, "..", "shared", "data", "models", "stories260K")
OUT = os.path.join(ROOT, "tests", "golden", "fixtures", "llm")
sys.path.insert(0, os.path.join(ROOT, "tests", "tools", "hf_tokenizer"))
import hf_tokenizer_json  # noqa: E402


def read_llama2c(path):
    """A version-0 llama2.c checkpoint as Meta-layout float64 tensors (adjacent-pair RoPE)."""
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    floats = torch.frombuffer(bytearray(data[28:]), dtype=torch.float32).double()
    cursor = 0

    def take(*shape):
        nonlocal cursor
        n = math.prod(shape)
        t = floats[cursor:cursor + n].reshape(shape)
        cursor += n
        return t

    hd = dim // n_heads
    kv_dim = n_kv_heads * hd
    w = {"embed": take(vocab, dim), "attn_norm": take(n_layers, dim), "wq": take(n_layers, dim, dim),
         "wk": take(n_layers, kv_dim, dim), "wv": take(n_layers, kv_dim, dim), "wo": take(n_layers, dim, dim),
         "ffn_norm": take(n_layers, dim), "w1": take(n_layers, hidden, dim), "w2": take(n_layers, dim, hidden),
         "w3": take(n_layers, hidden, dim), "norm": take(dim)}
    take(seq_len * hd // 2)  # RoPE tables, unused
    take(seq_len * hd // 2)
    w["lm_head"] = w["embed"] if shared else take(vocab, dim)
    config = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv_heads=n_kv_heads,
                  vocab=vocab, seq_len=seq_len, shared=shared)
    return config, w


def permute_for_rotate_half(w, n_heads):
    """Meta's adjacent pairs (2i, 2i+1) of each head → Hugging Face's halves (i, i + head_dim/2)."""
    rows, cols = w.shape
    return w.reshape(n_heads, rows // n_heads // 2, 2, cols).transpose(1, 2).reshape(rows, cols)


def hf_tensors(config, w):
    """Hugging Face names and layouts of the llama2.c tensors."""
    out = {"model.embed_tokens.weight": w["embed"], "model.norm.weight": w["norm"]}
    for i in range(config["n_layers"]):
        p = f"model.layers.{i}."
        out[p + "input_layernorm.weight"] = w["attn_norm"][i]
        out[p + "self_attn.q_proj.weight"] = permute_for_rotate_half(w["wq"][i], config["n_heads"])
        out[p + "self_attn.k_proj.weight"] = permute_for_rotate_half(w["wk"][i], config["n_kv_heads"])
        out[p + "self_attn.v_proj.weight"] = w["wv"][i]
        out[p + "self_attn.o_proj.weight"] = w["wo"][i]
        out[p + "post_attention_layernorm.weight"] = w["ffn_norm"][i]
        out[p + "mlp.gate_proj.weight"] = w["w1"][i]
        out[p + "mlp.down_proj.weight"] = w["w2"][i]
        out[p + "mlp.up_proj.weight"] = w["w3"][i]
    if not config["shared"]:
        out["lm_head.weight"] = w["lm_head"]
    return out


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def llama3_inv_freq(inv_freq, s):
    """Llama 3.1's RoPE scaling (transformers' _compute_llama3_parameters): long wavelengths slowed down by
    `factor`, short ones kept, a smooth blend between."""
    original = s["original_max_position_embeddings"]
    low_wavelen, high_wavelen = original / s["low_freq_factor"], original / s["high_freq_factor"]
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / s["factor"], inv_freq)
    smooth = (original / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
    blended = (1 - smooth) * scaled / s["factor"] + smooth * scaled
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, blended, scaled)


def yarn_inv_freq(hd, base, cfg):
    """YaRN (transformers' _compute_yarn_parameters, truncate=True): the blended inverse frequencies and the
    attention factor cos and sin are scaled by."""
    s = cfg["rope_scaling"]
    factor = s["factor"]
    original = s.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
    beta_fast, beta_slow = s.get("beta_fast") or 32, s.get("beta_slow") or 1

    def get_mscale(scale, mscale=1):
        return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

    attention = s.get("attention_factor")
    if attention is None:
        if s.get("mscale") and s.get("mscale_all_dim"):
            attention = get_mscale(factor, s["mscale"]) / get_mscale(factor, s["mscale_all_dim"])
        else:
            attention = get_mscale(factor)

    def correction_dim(rotations):
        return (hd * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = max(math.floor(correction_dim(beta_fast)), 0), min(math.ceil(correction_dim(beta_slow)), hd - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(hd // 2, dtype=torch.float64) - low) / (high - low), 0, 1)
    pos_freqs = base ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    extrapolation, interpolation = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
    extrapolation_factor = 1 - ramp
    return interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor, attention


def hf_forward(hf, cfg, ids):
    """LlamaForCausalLM's forward pass in float64 over Hugging Face tensors: logits [len(ids), vocab]."""
    t = {k: v.double() for k, v in hf.items()}
    n_heads, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg["hidden_size"] // n_heads
    eps = cfg["rms_norm_eps"]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    scaling = cfg.get("rope_scaling") or {}
    positions = torch.arange(len(ids), dtype=torch.float64)
    if scaling.get("rope_type") == "linear":
        positions = positions / scaling["factor"]
    elif scaling.get("rope_type") == "llama3":
        inv_freq = llama3_inv_freq(inv_freq, scaling)
    attention = 1.0
    if scaling.get("rope_type") == "yarn":
        inv_freq, attention = yarn_inv_freq(hd, cfg["rope_theta"], cfg)
    freqs = torch.outer(positions, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :] * attention, emb.sin()[:, None, :] * attention
    x = t["model.embed_tokens.weight"][torch.tensor(ids)]
    n = len(ids)
    mask = torch.full((n, n), float("-inf"), dtype=torch.float64).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, t[p + "input_layernorm.weight"], eps)
        q = (h @ t[p + "self_attn.q_proj.weight"].T).reshape(n, n_heads, hd)
        k = (h @ t[p + "self_attn.k_proj.weight"].T).reshape(n, n_kv, hd)
        v = (h @ t[p + "self_attn.v_proj.weight"].T).reshape(n, n_kv, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(n_heads // n_kv, dim=1)
        v = v.repeat_interleave(n_heads // n_kv, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + mask
        att = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(n, n_heads * hd)
        x = x + att @ t[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, t[p + "post_attention_layernorm.weight"], eps)
        gate = h @ t[p + "mlp.gate_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * (h @ t[p + "mlp.up_proj.weight"].T)) @ t[p + "mlp.down_proj.weight"].T
    h = rms_norm(x, t["model.norm.weight"], eps)
    head = t.get("lm_head.weight", t["model.embed_tokens.weight"])
    return h @ head.T


DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.contiguous().view(torch.int16 if tensor.element_size() == 2 else torch.int32).numpy().tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_config(directory, cfg):
    hf_tokenizer_json.write_json(os.path.join(directory, "config.json"), cfg)


def write_tokenizer(directory):
    tokens, scores, types = hf_tokenizer_json.read_llama2c_tokenizer(os.path.join(STORIES, "tok512.bin"))
    hf_tokenizer_json.write_json(os.path.join(directory, "tokenizer.json"),
                                 hf_tokenizer_json.spm_tokenizer_json(tokens, scores, types, 1, 2, 0))
    hf_tokenizer_json.write_json(os.path.join(directory, "tokenizer_config.json"),
                                 hf_tokenizer_json.spm_tokenizer_config(tokens, 1, 2, 0))


def llama_config(hidden, intermediate, layers, heads, kv_heads, vocab, context, eps, theta, tied, dtype):
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
            "hidden_size": hidden, "intermediate_size": intermediate, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": kv_heads, "vocab_size": vocab,
            "max_position_embeddings": context, "rms_norm_eps": eps, "rope_theta": theta, "rope_scaling": None,
            "tie_word_embeddings": tied, "attention_bias": False, "bos_token_id": 1, "eos_token_id": 2,
            "torch_dtype": dtype}


def stories():
    config, w = read_llama2c(os.path.join(STORIES, "stories260K.bin"))
    with open(os.path.join(STORIES, "reference", "greedy_and_logits.json")) as f:
        ref = json.load(f)
    cfg = llama_config(config["dim"], config["hidden"], config["n_layers"], config["n_heads"], config["n_kv_heads"],
                       config["vocab"], config["seq_len"], 1e-5, 10000.0, config["shared"], "float32")
    hf = hf_tensors(config, w)
    logits = hf_forward(hf, cfg, ref["logits_prompt_token_ids"])
    error = (logits - torch.tensor(ref["logits"], dtype=torch.float64)).abs().max().item()
    assert error < 1e-4, f"the exported checkpoint does not reproduce the reference logits (max error {error})"
    print(f"hf-stories260K: rotate-half forward matches the llama2.c reference within {error:.2e}")
    directory = os.path.join(OUT, "hf-stories260K")
    os.makedirs(directory, exist_ok=True)
    write_safetensors(os.path.join(directory, "model.safetensors"), {k: v.float() for k, v in hf.items()})
    write_config(directory, cfg)
    write_tokenizer(directory)


def tiny(name, seed, theta, rope_scaling, dtype, ids, sharded):
    """A random 2-layer GQA model (4 heads, 2 key/value heads, separate lm_head) in `dtype` with its float64
    reference logits for every position of `ids`."""
    torch.manual_seed(seed)
    hidden, inter, layers, heads, kv, vocab = 64, 96, 2, 4, 2, 512
    cfg = llama_config(hidden, inter, layers, heads, kv, vocab, 256, 1e-6, theta, False,
                       {torch.bfloat16: "bfloat16", torch.float16: "float16"}[dtype])
    cfg["rope_scaling"] = rope_scaling

    def rand(*shape, scale=0.08):
        return (torch.randn(*shape, dtype=torch.float64) * scale).to(dtype)

    hd = hidden // heads
    t = {"model.embed_tokens.weight": rand(vocab, hidden, scale=0.5), "model.norm.weight": 1 + rand(hidden, scale=0.1),
         "lm_head.weight": rand(vocab, hidden, scale=0.2)}
    for i in range(layers):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + rand(hidden, scale=0.1)
        t[p + "self_attn.q_proj.weight"] = rand(heads * hd, hidden, scale=0.2)
        t[p + "self_attn.k_proj.weight"] = rand(kv * hd, hidden, scale=0.2)
        t[p + "self_attn.v_proj.weight"] = rand(kv * hd, hidden)
        t[p + "self_attn.o_proj.weight"] = rand(hidden, heads * hd)
        t[p + "post_attention_layernorm.weight"] = 1 + rand(hidden, scale=0.1)
        t[p + "mlp.gate_proj.weight"] = rand(inter, hidden)
        t[p + "mlp.up_proj.weight"] = rand(inter, hidden)
        t[p + "mlp.down_proj.weight"] = rand(hidden, inter)
    t = {k: v.to(dtype) for k, v in t.items()}
    logits = hf_forward(t, cfg, ids)
    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    if sharded:
        names = list(t)
        shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
                  "model-00002-of-00002.safetensors": names[len(names) // 2:]}
        weight_map = {}
        for shard, shard_names in shards.items():
            write_safetensors(os.path.join(directory, shard), {n: t[n] for n in shard_names})
            weight_map.update({n: shard for n in shard_names})
        total = sum(v.numel() * 2 for v in t.values())
        hf_tokenizer_json.write_json(os.path.join(directory, "model.safetensors.index.json"),
                                     {"metadata": {"total_size": total}, "weight_map": weight_map})
    else:
        write_safetensors(os.path.join(directory, "model.safetensors"), t)
    write_config(directory, cfg)
    write_tokenizer(directory)
    reference = {"notes": "float64 rotate-half LLaMA forward pass over the bfloat16 weights "
                          "(tests/tools/gen_hf_llama_fixtures.py)",
                 "token_ids": ids, "logits": [[round(x, 6) for x in row] for row in logits.tolist()]}
    with open(os.path.join(directory, "reference.json"), "w") as f:
        json.dump(reference, f)
    print(f"{name}: {sum(v.numel() for v in t.values())} parameters, {len(ids)} reference positions")


if __name__ == "__main__":
    stories()
    tiny("hf-tiny-gqa", 20261130, 50000.0, {"rope_type": "linear", "factor": 2.0}, torch.bfloat16,
         [1, 403, 407, 261, 378, 300, 45, 12, 499, 7, 260, 318], sharded=True)
    # Llama 3.1's scaling with a short original context, so that the 8 rotated pairs of a head fall in all
    # three of its bands (kept, blended, slowed down) and positions of the prompt feel the difference.
    tiny("hf-tiny-llama3", 20261201, 500000.0,
         {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 64}, torch.float16,
         [1, 403, 407, 261, 378, 300, 45, 12, 499, 7, 260, 318, 33, 481, 97, 150, 222, 3, 64, 410, 11, 290, 376, 5],
         sharded=False)
    # YaRN over a 4× context: with theta 10000 and an original context of 256, pairs 0–3 of a head's 8 blend
    # (ramp 0, ¼, ½, ¾) and pairs 4–7 are slowed down by 4; cos and sin are scaled by 1 + 0.1 ln 4.
    tiny("hf-tiny-yarn", 20261202, 10000.0,
         {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 256}, torch.float16,
         [1, 403, 407, 261, 378, 300, 45, 12, 499, 7, 260, 318, 33, 481, 97, 150, 222, 3, 64, 410, 11, 290, 376, 5],
         sharded=False)
