#!/usr/bin/python3
"""Writes Hugging Face tokenizer.json / tokenizer_config.json documents (standard library only).

Importable (tests/tools/hf_tokenizer on sys.path):
    spm_tokenizer_json(tokens, scores, token_types, bos_id, eos_id, unk_id) -> dict
        A Llama-2-style tokenizer.json for a SentencePiece BPE vocabulary: model BPE with byte_fallback,
        normalizer Sequence[Prepend "▁", Replace " " -> "▁"] (or a Metaspace pre-tokenizer with
        style="metaspace"), TemplateProcessing that puts the BOS token first, and the SentencePiece
        decoder chain. The merges are derived from the piece scores: every split of a normal piece into
        two normal or byte pieces is a merge, ordered by the merged piece's score (highest first),
        then by the merged piece's id, then by the ids of the two halves. That is the order in which
        SentencePiece's BPE would apply them, so HF's BPE reproduces it. Unknown and control tokens
        become special added tokens, user-defined ones plain added tokens. eos_id is not used here
        (tokenizer_config.json names the EOS token).
    spm_tokenizer_config(tokens, bos_id, eos_id, unk_id, add_bos=True, add_eos=False, chat_template=None)
        -> dict, the matching tokenizer_config.json.
    bpe_tokenizer_json(tokens, token_types, merges, pre_tokenizer, ...) -> dict
        A byte-level BPE tokenizer.json (GPT-2, Llama 3, DeepSeek): the caller gives the pre_tokenizer.
    wordpiece_tokenizer_json(tokens, token_types, unk_id, cls_id, sep_id) -> dict
        A BERT (uncased) tokenizer.json.
    read_llama2c_tokenizer(path) -> (tokens, scores, token_types)
        llama2.c's tokenizer.bin (i32 max_token_length, then per token f32 score, i32 length, bytes), with
        the exporter's spellings undone: " " -> "▁", "\\n<s>\\n" -> "<s>", "\\n</s>\\n" -> "</s>".
    write_json(path, document)

CLI:
    /usr/bin/python3 tests/tools/hf_tokenizer/hf_tokenizer_json.py --llama2c-tokenizer tok512.bin --out DIR
writes DIR/tokenizer.json and DIR/tokenizer_config.json (ids 0/1/2 are <unk>/<s>/</s>).

token_types are GGUF's values: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
"""
import argparse
import json
import os
import struct
import sys

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
SPACE = "\u2581"


def added_token(token_id, content, special):
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": not special, "special": special}


def template_processing(tokens, first_id, last_id):
    """TemplateProcessing that puts tokens[first_id] before and tokens[last_id] after the text (None: no
    such token; both None: no post-processor)."""
    if first_id is None and last_id is None:
        return None

    def template(type_id, sequence):
        items = [{"SpecialToken": {"id": tokens[first_id], "type_id": type_id}}] if first_id is not None else []
        items.append({"Sequence": {"id": sequence, "type_id": type_id}})
        if last_id is not None:
            items.append({"SpecialToken": {"id": tokens[last_id], "type_id": type_id}})
        return items

    specials = {tokens[i]: {"id": tokens[i], "ids": [i], "tokens": [tokens[i]]}
                for i in (first_id, last_id) if i is not None}
    return {"type": "TemplateProcessing", "single": template(0, "A"), "pair": template(0, "A") + template(1, "B"),
            "special_tokens": specials}


def spm_merges(tokens, scores, token_types):
    """Every (left, right) of normal or byte pieces whose concatenation is a normal piece, in SentencePiece's
    priority order."""
    ids = {}
    for token_id, piece in enumerate(tokens):
        if token_types[token_id] in (NORMAL, BYTE):
            ids.setdefault(piece, token_id)
    found = []
    for token_id, piece in enumerate(tokens):
        if token_types[token_id] != NORMAL:
            continue
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in ids and right in ids:
                found.append((-scores[token_id], token_id, ids[left], ids[right], left, right))
    found.sort()
    return [[left, right] for _, _, _, _, left, right in found]


def spm_tokenizer_json(tokens, scores, token_types, bos_id, eos_id, unk_id, style="normalizer",
                       add_space_prefix=True, merges_as_strings=True, prepend_scheme="first"):
    """A Llama-2-style tokenizer.json; style "normalizer" (Llama 2) or "metaspace" (newer exports, which
    prepend "▁" per prepend_scheme: "first" or "always")."""
    if not (len(tokens) == len(scores) == len(token_types)):
        raise ValueError("tokens, scores and token_types differ in length")
    added = [added_token(i, tokens[i], token_types[i] in (UNKNOWN, CONTROL))
             for i in range(len(tokens)) if token_types[i] in (UNKNOWN, CONTROL, USER_DEFINED)]
    merges = spm_merges(tokens, scores, token_types)
    if merges_as_strings:
        merges = ["%s %s" % (left, right) for left, right in merges]
    normalizer, pre_tokenizer = None, None
    if style == "normalizer":
        steps = [{"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]
        if add_space_prefix:
            steps.insert(0, {"type": "Prepend", "prepend": SPACE})
        normalizer = {"type": "Sequence", "normalizers": steps}
    elif style == "metaspace":
        pre_tokenizer = {"type": "Metaspace", "replacement": SPACE,
                         "prepend_scheme": prepend_scheme if add_space_prefix else "never", "split": False}
    else:
        raise ValueError("style must be normalizer or metaspace")
    decoders = [{"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}]
    if add_space_prefix:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    post_processor = template_processing(tokens, bos_id, None)
    vocab = {}
    for token_id, piece in enumerate(tokens):
        vocab.setdefault(piece, token_id)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor,
        "decoder": {"type": "Sequence", "decoders": decoders},
        "model": {"type": "BPE", "dropout": None, "unk_token": tokens[unk_id] if unk_id is not None and unk_id >= 0
                  else None, "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True,
                  "byte_fallback": True, "ignore_merges": False, "vocab": vocab, "merges": merges},
    }


def bpe_tokenizer_json(tokens, token_types, merges, pre_tokenizer, post_processor=None, ignore_merges=False,
                       merges_as_pairs=False, specials_in_vocab=False):
    """A byte-level BPE tokenizer.json (GPT-2 alphabet tokens; merges as (left, right) pairs, best first).
    Control tokens become special added tokens, user-defined ones non-special added tokens; normal tokens
    (and, with specials_in_vocab, the added ones too, as GPT-2 has it) make model.vocab."""
    added = [added_token(i, tokens[i], token_types[i] == CONTROL)
             for i in range(len(tokens)) if token_types[i] in (CONTROL, USER_DEFINED)]
    vocab = {tokens[i]: i for i in range(len(tokens))
             if token_types[i] == NORMAL or (specials_in_vocab and token_types[i] in (CONTROL, USER_DEFINED))}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": ignore_merges, "vocab": vocab,
                  "merges": [[l, r] if merges_as_pairs else "%s %s" % (l, r) for l, r in merges]},
    }


def wordpiece_tokenizer_json(tokens, token_types, unk_id, cls_id, sep_id):
    """A BERT (uncased) tokenizer.json; tokens in WordPiece's own form ("##" marks continuation pieces).
    Control tokens become special added tokens."""
    added = [added_token(i, tokens[i], True) for i in range(len(tokens)) if token_types[i] == CONTROL]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": template_processing(tokens, cls_id, sep_id),
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": tokens[unk_id], "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(tokens)}},
    }


def token_object(content):
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False}


def spm_tokenizer_config(tokens, bos_id, eos_id, unk_id, add_bos=True, add_eos=False, chat_template=None):
    def named(token_id):
        return token_object(tokens[token_id]) if token_id is not None and token_id >= 0 else None

    config = {
        "add_bos_token": add_bos,
        "add_eos_token": add_eos,
        "bos_token": named(bos_id),
        "eos_token": named(eos_id),
        "unk_token": named(unk_id),
        "pad_token": None,
        "clean_up_tokenization_spaces": False,
        "legacy": True,
        "model_max_length": 1000000000000000019884624838656,
        "tokenizer_class": "LlamaTokenizer",
    }
    if chat_template is not None:
        config["chat_template"] = chat_template
    return config


def read_llama2c_tokenizer(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 4  # max_token_length
    tokens, scores, token_types = [], [], []
    while pos < len(data):
        score, length = struct.unpack_from("<fi", data, pos)
        pos += 8
        raw = data[pos:pos + length]
        pos += length
        if len(raw) != length:
            raise ValueError("%s: token %d runs past the end of the file" % (path, len(tokens)))
        piece = raw.decode("utf-8").replace(" ", SPACE)
        token_id = len(tokens)
        if token_id == 0:
            kind = UNKNOWN
        elif token_id in (1, 2):
            piece, kind = piece.strip("\n"), CONTROL
        elif len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            kind = BYTE
        else:
            kind = NORMAL
        tokens.append(piece)
        scores.append(score)
        token_types.append(kind)
    return tokens, scores, token_types


def write_json(path, document):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llama2c-tokenizer", required=True, metavar="FILE")
    parser.add_argument("--out", required=True, metavar="DIR")
    args = parser.parse_args(argv)
    tokens, scores, token_types = read_llama2c_tokenizer(args.llama2c_tokenizer)
    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "tokenizer.json"), spm_tokenizer_json(tokens, scores, token_types, 1, 2, 0))
    write_json(os.path.join(args.out, "tokenizer_config.json"), spm_tokenizer_config(tokens, 1, 2, 0))


if __name__ == "__main__":
    main(sys.argv[1:])
