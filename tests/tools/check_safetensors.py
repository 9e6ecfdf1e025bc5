#!/usr/bin/python3
"""check_safetensors.py: an independent safetensors parser (standard library only: struct + json).

Validates a file the way the reference implementation does -- 8-byte little-endian header length, UTF-8
JSON object header (no duplicate keys), known dtypes, integer shapes, data_offsets [begin, end] that tile
the data buffer exactly (contiguous, in bounds, no overlap, no gap, no trailing bytes) -- then prints the
metadata and each tensor's name, dtype, shape and sum of values as JSON, in header order.

Exit status: 0 when the file is valid and every --expect* holds; 1 with a message on stderr otherwise.
With --expect-invalid the sense is inverted: exit 0 only when the file is rejected.

    check_safetensors.py FILE [--expect NAME=SUM] [--expect-dtype NAME=DTYPE] [--expect-shape NAME=2,3]
                              [--expect-values NAME=1,2,3] [--expect-meta KEY=VALUE] [--expect-count N]
                              [--expect-invalid]
"""
import argparse
import json
import math
import struct
import sys

MAX_HEADER_BYTES = 100_000_000
# dtype -> (struct code, bytes per element); BF16 is read as raw u16 and widened to float32.
DTYPES = {
    "F64": ("d", 8), "F32": ("f", 4), "F16": ("e", 2), "BF16": ("H", 2),
    "I64": ("q", 8), "I32": ("i", 4), "I16": ("h", 2), "I8": ("b", 1),
    "U64": ("Q", 8), "U32": ("I", 4), "U16": ("H", 2), "U8": ("B", 1), "BOOL": ("?", 1),
}


class Invalid(Exception):
    """The file breaks the format; the message says where."""


def no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise Invalid("duplicate key %r in header" % key)
        seen[key] = value
    return seen


def reject_constant(name):
    raise Invalid("header uses the non-JSON constant %s" % name)


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_header(data):
    if len(data) < 8:
        raise Invalid("file is %d bytes, shorter than the 8-byte length prefix" % len(data))
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > MAX_HEADER_BYTES:
        raise Invalid("header length %d is over the %d-byte limit" % (n, MAX_HEADER_BYTES))
    if n > len(data) - 8:
        raise Invalid("header length %d but only %d bytes follow the prefix" % (n, len(data) - 8))
    try:
        text = data[8:8 + n].decode("utf-8")
        header = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise Invalid("header is not valid UTF-8 JSON: %s" % e)
    if not isinstance(header, dict):
        raise Invalid("header is a %s, not an object" % type(header).__name__)
    return header, data[8 + n:]


def check_entry(name, entry, buffer_len):
    if not isinstance(entry, dict):
        raise Invalid("tensor %r: entry is not an object" % name)
    for field in ("dtype", "shape", "data_offsets"):
        if field not in entry:
            raise Invalid("tensor %r: missing %s" % (name, field))
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise Invalid("tensor %r: unknown dtype %r" % (name, dtype))
    if not isinstance(shape, list) or not all(is_count(d) for d in shape):
        raise Invalid("tensor %r: shape %r is not a list of non-negative integers" % (name, shape))
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(is_count(o) for o in offsets):
        raise Invalid("tensor %r: data_offsets %r is not [begin, end]" % (name, offsets))
    begin, end = offsets
    if begin > end or end > buffer_len:
        raise Invalid("tensor %r: data_offsets %r out of order or beyond the %d-byte buffer" % (name, offsets, buffer_len))
    numel = math.prod(shape)
    if numel >= 2 ** 63:
        raise Invalid("tensor %r: shape %r is too large" % (name, shape))
    if end - begin != numel * DTYPES[dtype][1]:
        raise Invalid("tensor %r: %d bytes for shape %r of %s" % (name, end - begin, shape, dtype))
    return dtype, shape, begin, end


def check_coverage(entries, buffer_len):
    cursor = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda item: (item[1][2], item[1][3])):
        if begin < cursor:
            raise Invalid("tensor %r at [%d, %d] overlaps the previous tensor, which ends at byte %d"
                          % (name, begin, end, cursor))
        if begin > cursor:
            raise Invalid("tensor %r at [%d, %d] leaves bytes [%d, %d) unused" % (name, begin, end, cursor, begin))
        cursor = end
    if cursor != buffer_len:
        raise Invalid("tensors cover %d bytes of a %d-byte buffer" % (cursor, buffer_len))


def values_of(dtype, raw):
    code, size = DTYPES[dtype]
    values = list(struct.unpack("<%d%s" % (len(raw) // size, code), raw))
    if dtype == "BF16":
        values = [struct.unpack("<f", struct.pack("<I", v << 16))[0] for v in values]
    return values


def summarize(data):
    header, buffer = parse_header(data)
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise Invalid("__metadata__ is not an object of strings")
    entries = {name: check_entry(name, entry, len(buffer)) for name, entry in header.items()}
    check_coverage(entries, len(buffer))
    tensors = []
    for name, (dtype, shape, begin, end) in entries.items():
        values = values_of(dtype, buffer[begin:end])
        is_int = dtype[0] in "IU" or dtype == "BOOL"
        total = sum(int(v) for v in values) if is_int else math.fsum(values)
        tensors.append({"name": name, "dtype": dtype, "shape": shape, "sum": total, "values": values})
    return {"metadata": metadata, "tensors": tensors}


def close(a, b):
    return a == b or abs(a - b) <= 1e-6 + 1e-9 * max(abs(a), abs(b))


def split_pairs(items, option):
    out = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit("%s wants NAME=VALUE, got %r" % (option, item))
        out.append((key, value))
    return out


def parse_numbers(text):
    return [float(x) for x in text.split(",") if x != ""]


def check_expectations(summary, args):
    """Returns a list of failed expectations (empty when all hold)."""
    by_name = {t["name"]: t for t in summary["tensors"]}
    failures = []
    checks = [("--expect", "sum", lambda t, v: close(float(t["sum"]), float(v))),
              ("--expect-dtype", "dtype", lambda t, v: t["dtype"] == v),
              ("--expect-shape", "shape", lambda t, v: t["shape"] == [int(x) for x in parse_numbers(v)]),
              ("--expect-values", "values",
               lambda t, v: len(t["values"]) == len(parse_numbers(v)) and
               all(close(float(a), b) for a, b in zip(t["values"], parse_numbers(v))))]
    for option, field, holds in checks:
        for name, value in split_pairs(getattr(args, option[2:].replace("-", "_")), option):
            if name not in by_name:
                failures.append("%s: no tensor %r" % (option, name))
            elif not holds(by_name[name], value):
                failures.append("%s: tensor %r has %s %r, expected %s" % (option, name, field, by_name[name][field], value))
    for key, value in split_pairs(args.expect_meta, "--expect-meta"):
        if summary["metadata"].get(key) != value:
            failures.append("--expect-meta: %r is %r, expected %r" % (key, summary["metadata"].get(key), value))
    if args.expect_count is not None and len(summary["tensors"]) != args.expect_count:
        failures.append("--expect-count: %d tensors, expected %d" % (len(summary["tensors"]), args.expect_count))
    return failures


def printable(summary):
    def number(x):
        return x if isinstance(x, int) or math.isfinite(x) else repr(x)
    return {"metadata": summary["metadata"],
            "tensors": [{"name": t["name"], "dtype": t["dtype"], "shape": t["shape"], "sum": number(t["sum"])}
                        for t in summary["tensors"]]}


def main():
    parser = argparse.ArgumentParser(description="Validate a .safetensors file and print per-tensor sums.")
    parser.add_argument("path")
    for option in ("--expect", "--expect-dtype", "--expect-shape", "--expect-values", "--expect-meta"):
        parser.add_argument(option, action="append", metavar="KEY=VALUE")
    parser.add_argument("--expect-count", type=int)
    parser.add_argument("--expect-invalid", action="store_true", help="succeed only if the file is invalid")
    args = parser.parse_args()
    try:
        with open(args.path, "rb") as f:
            data = f.read()
    except OSError as e:
        print("cannot read %s: %s" % (args.path, e), file=sys.stderr)
        return 1
    try:
        summary = summarize(data)
    except Invalid as e:
        print("%s: invalid: %s" % (args.path, e), file=sys.stderr if not args.expect_invalid else sys.stdout)
        return 0 if args.expect_invalid else 1
    out = printable(summary)  # one tensor per line
    lines = ['{"metadata": %s,' % json.dumps(out["metadata"], ensure_ascii=False), ' "tensors": [']
    lines += ["  %s%s" % (json.dumps(t, ensure_ascii=False), "," if i + 1 < len(out["tensors"]) else "")
              for i, t in enumerate(out["tensors"])]
    print("\n".join(lines + [" ]}"]))
    if args.expect_invalid:
        print("%s: expected an invalid file, but it is valid" % args.path, file=sys.stderr)
        return 1
    failures = check_expectations(summary, args)
    for failure in failures:
        print("%s: %s" % (args.path, failure), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
