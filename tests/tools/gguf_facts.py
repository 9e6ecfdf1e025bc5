#!/usr/bin/python3
"""Prints facts about GGUF files with an independent, standard-library-only parser (no ggml, no lmaas).

Used once to obtain the expected values hard-coded in tests/unit/formats/gguf_test.cpp for the llama.cpp
vocabulary files in ../shared/data/tokenizer-vectors/llama.cpp/:
    /usr/bin/python3 tests/tools/gguf_facts.py ../shared/data/tokenizer-vectors/llama.cpp/*.gguf
"""
import os
import struct
import sys

SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def parse(data):
    pos = 0

    def read(fmt):
        nonlocal pos
        value = struct.unpack_from("<" + fmt, data, pos)[0]
        pos += struct.calcsize("<" + fmt)
        return value

    def read_string():
        nonlocal pos
        n = read("Q")
        s = data[pos:pos + n]
        pos += n
        return s

    def read_value(t):
        if t in SCALARS:
            return read(SCALARS[t])
        if t == 8:
            return read_string()
        if t == 9:
            elem = read("I")
            return (elem, [read_value(elem) for _ in range(read("Q"))])
        raise ValueError("bad type %d" % t)

    assert data[:4] == b"GGUF", "bad magic"
    pos = 4
    version, n_tensors, n_kv = read("I"), read("Q"), read("Q")
    kv = {}
    for _ in range(n_kv):
        key = read_string().decode()
        t = read("I")
        kv[key] = (t, read_value(t))
    return version, n_tensors, kv, pos


def main():
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        version, n_tensors, kv, end = parse(data)
        tokens = kv["tokenizer.ggml.tokens"][1][1]
        bos = kv.get("tokenizer.ggml.bos_token_id")
        merges = kv.get("tokenizer.ggml.merges")
        print("%s: bytes=%d metadata_end=%d version=%d n_tensors=%d n_kv=%d" %
              (os.path.basename(path), len(data), end, version, n_tensors, len(kv)))
        print("  architecture=%r model=%r pre=%r" % (kv["general.architecture"][1], kv["tokenizer.ggml.model"][1],
                                                   kv.get("tokenizer.ggml.pre", (0, None))[1]))
        print("  n_tokens=%d first=%r last=%r bos=%s token_type=%s n_merges=%s" %
              (len(tokens), tokens[0], tokens[-1], None if bos is None else "%d (type %d)" % (bos[1], bos[0]),
               kv["tokenizer.ggml.token_type"][1][0], None if merges is None else len(merges[1][1])))


if __name__ == "__main__":
    main()
