#!/usr/bin/env python3
"""Writes a labelled data file in fastText's format (`__label__L text`, one example per line) for
bench/bow_vs_fasttext.sh, so the fasttext binary reads the same examples lmaas does.

  to_fasttext.py --format tsv|space [--text-column NAME] [--label-prefix-colon] [--encoding E]
                 [--split-cjk] IN OUT

tsv: a header line names the `label` and text columns. space: `LABEL text` per line (SST, TREC).
--label-prefix-colon keeps the label up to the first ':' (TREC's coarse classes). --split-cjk puts
spaces around Han, Kana and Hangul characters, the tokens lmaas' word tokenizer makes of them
(fastText splits on whitespace only). Text is lowercased as lmaas' word tokenizer does by default.
"""
import argparse
import re

CJK = re.compile("([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")


def examples(args):
    with open(args.input, encoding=args.encoding, newline="") as f:
        if args.format == "tsv":
            header = f.readline().rstrip("\r\n").split("\t")
            ti, li = header.index(args.text_column), header.index("label")
            for line in f:
                cols = line.rstrip("\r\n").split("\t")
                yield cols[li], cols[ti]
        else:
            for line in f:
                label, _, text = line.rstrip("\r\n").partition(" ")
                yield label, text


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--format", choices=["tsv", "space"], required=True)
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-prefix-colon", action="store_true")
    p.add_argument("--encoding", default="utf-8")
    p.add_argument("--split-cjk", action="store_true")
    p.add_argument("input")
    p.add_argument("output")
    args = p.parse_args()
    with open(args.output, "w", encoding="utf-8") as out:
        for label, text in examples(args):
            if args.label_prefix_colon:
                label = label.split(":", 1)[0]
            if args.split_cjk:
                text = CJK.sub(r" \1 ", text)
            text = " ".join(text.lower().split())
            out.write(f"__label__{label} {text}\n")


if __name__ == "__main__":
    main()
