#!/usr/bin/python3
"""Writes tests/golden/fixtures/quant/quant_fixtures.json, replayed by tests/unit/kernels/quant_test.cpp:
- f32 -> binary16 and binary16 -> f32 conversions by numpy's float16;
- f32 -> bfloat16 by torch's bfloat16 (round to nearest even);
- Q8_0 / Q4_0 blocks by a numpy re-implementation of ggml's reference quantizers (quantize_row_q8_0_ref,
  quantize_row_q4_0_ref: what llama-quantize writes without an importance matrix), all in float32
  arithmetic like the C code, with their dequantized values.
Bit patterns are hex strings. Run by hand with Debian's python3-numpy and python3-torch, not by CI:
    /usr/bin/python3 tests/tools/gen_quant_fixtures.py
"""
import json
import os

import numpy as np
import torch

SEED = 20240521
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "fixtures", "quant",
                   "quant_fixtures.json")
F32 = np.float32


def bits32(a):
    return ["%08x" % v for v in np.asarray(a, dtype=np.float32).view(np.uint32).tolist()]


def from_bits32(u):
    return np.asarray(u, dtype=np.uint32).view(np.float32)


def conversion_inputs(rng):
    """f32 bit patterns: random over every exponent, exact binary16/bfloat16 ties, specials."""
    u = rng.integers(0, 2**32, size=600, dtype=np.uint64).astype(np.uint32)
    u = u[(u & 0x7f800000) != 0x7f800000]  # finite random patterns
    near = from_bits32(rng.integers(0x33000000, 0x47800000, size=400, dtype=np.uint64).astype(np.uint32))
    near = near * np.where(rng.random(400) < 0.5, F32(-1), F32(1))  # the binary16 range and its edges
    h = rng.integers(0, 0x7c00, size=150, dtype=np.uint64).astype(np.uint16)  # finite binary16 values
    hv = h.view(np.float16).astype(np.float32).astype(np.float64)
    nxt = (h + 1).view(np.float16).astype(np.float32).astype(np.float64)
    ties16 = ((hv + nxt) / 2).astype(np.float32)  # exact in f32: halfway between neighbours
    sub_ties = ((np.arange(0, 40) + 0.5) * 2.0**-24).astype(np.float32)
    bt = rng.integers(0, 0x7f7f, size=100, dtype=np.uint64).astype(np.uint32)
    ties_bf = ((bt << 16) | 0x8000).astype(np.uint32)
    specials = np.array([0.0, -0.0, 1.0, -1.0, 65504.0, 65519.99, 65520.0, -65520.0, 65536.0, 1e30, -1e30,
                         2.0**-14, 2.0**-24, 2.0**-25, 2.0**-25 * 1.0000001, 2.0**-26, 1e-40, -1e-40,
                         np.inf, -np.inf, np.nan, 3.4028235e38, 1.17549435e-38, 0.1, 1 / 3],
                        dtype=np.float32)
    parts = [u.view(np.float32), near, ties16, -ties16[:50], sub_ties, -sub_ties[:10], ties_bf.view(np.float32),
             specials]
    return np.concatenate(parts).astype(np.float32)


def f16_section(rng):
    x = conversion_inputs(rng)
    with np.errstate(over="ignore"):
        h = x.astype(np.float16).view(np.uint16)
    to_f16 = [[a, "%04x" % b] for a, b in zip(bits32(x), h.tolist())]
    hs = np.concatenate([rng.integers(0, 2**16, size=400, dtype=np.uint64).astype(np.uint16),
                         np.array([0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xfbff,
                                   0x7c00, 0xfc00, 0x7e00], dtype=np.uint16)])
    hs = hs[((hs & 0x7c00) != 0x7c00) | ((hs & 0x3ff) == 0) | (hs == 0x7e00)]  # no NaN payloads but 0x7e00
    from_f16 = [["%04x" % a, b] for a, b in zip(hs.tolist(), bits32(hs.view(np.float16).astype(np.float32)))]
    return to_f16, from_f16


def bf16_section(rng):
    x = conversion_inputs(rng)
    b = torch.from_numpy(x.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    return [[a, "%04x" % v] for a, v in zip(bits32(x), b.tolist())]


def fp16_bits(v):
    with np.errstate(over="ignore"):
        return int(np.array([v], dtype=np.float32).astype(np.float16).view(np.uint16)[0])


def fp16_value(h):
    return np.array([h], dtype=np.uint16).view(np.float16).astype(np.float32)[0]


def round_half_away(v):
    v = np.float64(v)  # exact for float32 inputs
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def q8_0_block(x):
    """ggml quantize_row_q8_0_ref for one block of 32 float32, and the dequantized block."""
    amax = F32(0)
    for v in x:
        amax = max(amax, F32(abs(v)))
    d = F32(amax / F32(127))
    idv = F32(F32(1) / d) if d != 0 else F32(0)
    q = [int(round_half_away(F32(v * idv))) for v in x]
    dh = fp16_bits(d)
    raw = dh.to_bytes(2, "little") + bytes((v & 0xff) for v in q)
    deq = [F32(F32(v) * fp16_value(dh)) for v in q]
    return raw, deq


def q4_0_block(x):
    """ggml quantize_row_q4_0_ref for one block of 32 float32, and the dequantized block."""
    amax, mx = F32(0), F32(0)
    for v in x:
        if amax < abs(v):
            amax, mx = F32(abs(v)), F32(v)
    d = F32(mx / F32(-8))
    idv = F32(F32(1) / d) if d != 0 else F32(0)
    lv = [min(15, int(np.trunc(F32(F32(v * idv) + F32(8.5))))) for v in x]
    dh = fp16_bits(d)
    raw = dh.to_bytes(2, "little") + bytes(lv[j] | (lv[j + 16] << 4) for j in range(16))
    deq = [F32(F32(v - 8) * fp16_value(dh)) for v in lv]
    return raw, deq


def quant_cases(rng):
    cases = []

    def add(name, x):
        x = np.asarray(x, dtype=np.float32)
        assert x.size % 32 == 0
        entry = {"name": name, "x": bits32(x)}
        for key, fn in (("q8_0", q8_0_block), ("q4_0", q4_0_block)):
            raw, deq = b"", []
            for b in range(x.size // 32):
                r, dq = fn(x[32 * b:32 * b + 32])
                raw += r
                deq += dq
            entry[key] = raw.hex()
            entry[key + "_deq"] = bits32(deq)
        cases.append(entry)

    add("random_normal", rng.standard_normal(128))
    add("random_small_scale", rng.standard_normal(64) * 1e-3)
    add("random_uniform", rng.uniform(-5, 5, 64))
    add("all_zero", np.zeros(32))
    add("zero_then_random", np.concatenate([np.zeros(32), rng.standard_normal(32)]))
    neg = rng.uniform(-1, 1, 32)
    neg[7] = -3.0
    add("negative_max", neg)
    pos = rng.uniform(-1, 1, 32)
    pos[30] = 3.0
    add("positive_max_last", pos)
    tie_first_neg = np.zeros(32)
    tie_first_neg[3], tie_first_neg[10] = -2.0, 2.0
    add("abs_tie_first_negative", tie_first_neg + np.where(np.arange(32) % 5 == 0, 0.7, 0.0))
    tie_first_pos = np.zeros(32)
    tie_first_pos[3], tie_first_pos[10] = 2.0, -2.0
    add("abs_tie_first_positive", tie_first_pos + np.where(np.arange(32) % 7 == 1, -0.3, 0.0))
    # amax 127 -> d 1: x·id are the x themselves, so .5 values are exact rounding ties for Q8_0.
    ties = np.array([127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 1.5, -1.5, 0.49, -0.49, 0.51, -127, 3.5, 64.5, -64.5]
                    + [float(v) for v in range(-8, 8)])
    add("q8_ties", ties)
    # max -8 -> d 1, id 1: x + 8.5 lands on integers and half-integers for Q4_0.
    q4 = np.array([-8, 0.5, -0.5, 6.5, 7.0, 7.49, 7.5, 8.0, -7.5, -7.51, 0.0, 1.0, -1.0, 3.25, -3.25, 2.5]
                  + [float(v) / 2 for v in range(-8, 8)])
    add("q4_ties_and_15", q4)
    add("q4_min_15_positive_max", np.concatenate([[5.0, -5.0], rng.uniform(-4.9, 4.9, 30)]))
    add("tiny_subnormal_scale", rng.standard_normal(32) * 1e-6)
    add("huge_scale", rng.standard_normal(32) * 2e6)
    add("scale_overflows_binary16", np.concatenate([[1e7], rng.uniform(-1e6, 1e6, 31)]))
    add("constant", np.full(32, 0.37))
    add("one_hot", np.eye(32)[5] * -0.25)
    return cases


def main():
    rng = np.random.default_rng(SEED)
    to_f16, from_f16 = f16_section(rng)
    out = {
        "seed": SEED,
        "generator": "tests/tools/gen_quant_fixtures.py (numpy %s, torch %s)" % (np.__version__, torch.__version__),
        "f32_to_f16": to_f16,
        "f16_to_f32": from_f16,
        "f32_to_bf16": bf16_section(rng),
        "blocks": quant_cases(rng),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
