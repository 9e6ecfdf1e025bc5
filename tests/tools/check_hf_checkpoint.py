#!/usr/bin/python3
"""Runs a Hugging Face LLaMA checkpoint directory through an independent float64 torch forward pass (the one
gen_hf_llama_fixtures.py writes its reference logits with: transformers' LlamaForCausalLM, rotate-half RoPE,
linear / llama3 / yarn rope_scaling read from config.json) and compares its logits with a reference file.

    /usr/bin/python3 tests/tools/check_hf_checkpoint.py DIR REFERENCE.json [--tolerance 2e-4]

REFERENCE.json holds "token_ids" and "logits" (rows per token), as the hf-tiny-* fixtures' reference.json, or
llama2.c's "logits_prompt_token_ids" and "logits" (stories260K's reference/greedy_and_logits.json). Prints the
largest difference; exits 1 above the tolerance. Needs torch (scripts/install-deps --references). Use it on
directories `lmaas convert --format hf` writes: the check shares no code with lmaas' reader.
"""
import argparse
import json
import os
import struct
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_hf_llama_fixtures import hf_forward  # noqa: E402

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    buffer = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = bytearray(buffer[begin:end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"]).clone()
    return tensors


def read_checkpoint(directory):
    index = os.path.join(directory, "model.safetensors.index.json")
    files = ["model.safetensors"]
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    tensors = {}
    for name in files:
        tensors.update(read_safetensors(os.path.join(directory, name)))
    return tensors


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("reference")
    parser.add_argument("--tolerance", type=float, default=2e-4)
    args = parser.parse_args(argv)
    with open(os.path.join(args.directory, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    with open(args.reference, encoding="utf-8") as f:
        reference = json.load(f)
    ids = reference.get("token_ids") or reference["logits_prompt_token_ids"]
    logits = hf_forward(read_checkpoint(args.directory), config, ids)
    expected = torch.tensor(reference["logits"], dtype=torch.float64)
    error = (logits - expected).abs().max().item()
    print("%s: %d tokens, largest logit difference %.3g (tolerance %g)" % (args.directory, len(ids), error,
                                                                             args.tolerance))
    return 0 if error <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
