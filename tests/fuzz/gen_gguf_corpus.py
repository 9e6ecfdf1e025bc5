#!/usr/bin/python3
"""Writes the GGUF seed corpus (tests/fuzz/corpus/gguf/) with an independent, standard-library-only writer.

The files are small valid GGUF files covering every value type, nested arrays, several ggml tensor types,
alignments 32 and 64, a scalar and an empty tensor, out-of-order offsets, versions 2 and 3. They seed the
fuzz target, and gguf_test.cpp reads them as files from a writer other than lmaas's own (the values it
expects are the ones written below). Run from the repository root:
    /usr/bin/python3 tests/fuzz/gen_gguf_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf")
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
FMT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?", U64: "Q", I64: "q", F64: "d"}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def payload(t, v):
    if t in FMT:
        return struct.pack("<" + FMT[t], v)
    if t == STRING:
        return gstr(v)
    elem, items = v
    return struct.pack("<IQ", elem, len(items)) + b"".join(payload(elem, x) for x in items)


def gguf(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, dims, ggml_type, offset, data)] (offset None = next)."""
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        head += gstr(key) + struct.pack("<I", t) + payload(t, v)
    pad = lambda n: (alignment - n % alignment) % alignment
    data, placed = b"", []
    for name, dims, gtype, offset, blob in tensors:
        if offset is None:
            offset = len(data)
        data = data.ljust(offset + len(blob), b"\0")
        data = data[:offset] + blob + data[offset + len(blob):]
        data += b"\0" * pad(len(data))
        placed.append((name, dims, gtype, offset))
    for name, dims, gtype, offset in placed:
        head += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", gtype, offset)
    if tensors:
        head += b"\0" * pad(len(head))
    return head + data


def f32s(*values):
    return struct.pack("<%df" % len(values), *values)


def main():
    os.makedirs(OUT, exist_ok=True)
    every_type = [
        ("general.architecture", STRING, "llama"),
        ("test.u8", U8, 200), ("test.i8", I8, -100), ("test.u16", U16, 60000), ("test.i16", I16, -30000),
        ("test.u32", U32, 4000000000), ("test.i32", I32, -2000000000), ("test.f32", F32, 0.5),
        ("test.bool", BOOL, True), ("test.string", STRING, "héllo wörld"),
        ("test.u64", U64, 2**63 + 5), ("test.i64", I64, -2**62), ("test.f64", F64, -1.25),
        ("test.tokens", ARRAY, (STRING, ["<s>", "</s>", "▁a", ""])),
        ("test.scores", ARRAY, (F32, [0.0, -1.5, 2.25])),
        ("test.types", ARRAY, (I32, [1, 3, 6])),
        ("test.flags", ARRAY, (BOOL, [True, False])),
        ("test.nested", ARRAY, (ARRAY, [(U8, [1, 2]), (STRING, ["x"]), (ARRAY, [(I64, [-7])])])),
    ]
    q8_block = struct.pack("<H", 0x3C00) + bytes(range(32))  # Q8_0: f16 scale 1.0 + 32 int8
    tensors = [
        ("token_embd.weight", [3, 2], 0, None, f32s(1, 2, 3, 4, 5, 6)),
        ("blk.0.attn_q.weight", [32, 2], 8, None, q8_block * 2),
        ("output_norm.weight", [5], 24, None, bytes([1, 2, 3, 4, 5])),
    ]
    files = {
        "every_type_v3.gguf": gguf(every_type, tensors),
        "align64_v2.gguf": gguf([("general.alignment", U32, 64), ("general.name", STRING, "tiny")],
                                [("a", [4], 0, None, f32s(1, 2, 3, 4)), ("b", [2, 2], 1, None, bytes(8))],
                                version=2, alignment=64),
        "metadata_only.gguf": gguf([("general.architecture", STRING, "gpt2"),
                                    ("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "b", "ab"]))], []),
        # A scalar (n_dims 0), an empty tensor (a zero dimension) and offsets in reverse file order.
        "scalar_empty_reordered.gguf": gguf([], [("late", [2], 0, 32, f32s(7, 8)), ("early", [], 0, 0, f32s(9)),
                                                 ("empty", [0, 3], 0, 0, b"")]),
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print("%s: %d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
