#!/usr/bin/python3
"""Builds Hugging Face tokenizer directories (tokenizer.json, tokenizer_config.json, generation_config.json)
from the vocabularies in ../shared/data/tokenizer-vectors, for tests/unit/formats/hf_tokenizer_test.cpp.

    /usr/bin/python3 tests/tools/hf_tokenizer/gen_hf_tokenizer_fixtures.py --out DIR [--check FIXTURES]

writes DIR/<name>/ for every name in SETS and DIR/<name>/texts.json (the strings to encode: the llama.cpp
.inp strings of the source vocabulary, then EXTRA texts). The directories are large (up to a few MB each),
so they are not committed: ctest runs this script first (standard library only, deterministic output).
The expected ids are committed instead, as FIXTURES/<name>.json, written once by the Hugging Face
tokenizers library (reference/encode.js); --check fails unless every generated tokenizer.json has the
SHA-256 recorded there, so the ids always belong to the very files the test reads.

How each set is made (the layouts are those of the models' published tokenizer.json files):
- llama-spm, phi-3: SentencePiece BPE (Llama 2 / Phi-3) from the GGUF tokens, scores and types, merges
  derived from the scores (hf_tokenizer_json.spm_merges). llama-spm-metaspace: the same vocabulary with
  a Metaspace pre-tokenizer (prepend_scheme "first") in place of the Prepend/Replace normalizer;
  llama-spm-always: Metaspace with prepend_scheme "always"; llama-spm-noprefix: Replace without Prepend
  (no space prefix, as Gemma).
- stories260K: llama2.c's tok512.bin through the --llama2c-tokenizer path.
- gpt-2: encoder.json + vocab.bpe, ByteLevel pre-tokenizer with its built-in regex.
- deepseek-llm, deepseek-coder: Split regexes then ByteLevel(use_regex false), as DeepSeek publishes them
  (deepseek-coder ends with Digits(individual_digits) and lists its merges as pairs).
- llama3-gpt2: GPT-2's vocabulary with Llama 3's pre-tokenizer and ignore_merges, Llama 3's added tokens
  and BOS template.
- bert-bge: WordPiece (BERT uncased) from the GGUF, tokens turned back from llama.cpp's form.
Trailing "[PAD<id>]" tokens of the GGUF files (padding to the model's embedding size) are left out.
"""
import argparse
import hashlib
import json
import os
import sys

sys.dont_write_bytecode = True  # run from ctest: leave no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import gguf_facts  # noqa: E402
import hf_tokenizer_json as hf  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VECTORS = os.path.join(REPO, "..", "shared", "data", "tokenizer-vectors")
LLAMA2C_TOKENIZER = os.path.join(REPO, "..", "shared", "data", "models", "stories260K", "tok512.bin")

GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
DEEPSEEK_LETTER_RANGES = (
    "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373"
    "\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481"
    "\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf"
    "\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d"
    "\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4"
    "\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107"
    "\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f"
    "\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d"
    "\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17"
    "\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb"
    "\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943")
CJK_REGEX = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"

# Strings encoded besides the .inp ones: contractions in capitals and with U+017F (Llama 3's (?i:)
# group), long digit runs, whitespace, accents, CJK, emoji. {bos}/{eos} are replaced by the set's texts.
EXTRA = [
    "{bos}Hello{eos} world",
    "{bos} Hi there {eos}\n{bos}again",
    "I'M HERE, YOU'RE THERE, WE'LL SEE, IT'S 'S 'ſ 'T",
    "1234567890 12 345 6789",
    "  leading and trailing  ",
    "tab\there\r\nnew\n\nline",
    "naïve café Ünïcödé façade",
    "日本語のテキストと中文和한국어",
    "emoji 🦙👍🏽 👨‍👩‍👧 ✅",
    "ø ö ú ÿ <0x41> ▁ ##ing [UNK]",
    "\u2581starts with U+2581{bos}\u2581and again",
    "",
]


def gguf_vocab(name):
    with open(os.path.join(VECTORS, "llama.cpp", "ggml-vocab-%s.gguf" % name), "rb") as f:
        _, _, kv, _ = gguf_facts.parse(f.read())
    tokens = [t.decode("utf-8") for t in kv["tokenizer.ggml.tokens"][1][1]]
    types = list(kv["tokenizer.ggml.token_type"][1][1])
    scores = list(kv["tokenizer.ggml.scores"][1][1]) if "tokenizer.ggml.scores" in kv else [0.0] * len(tokens)
    merges = [m.decode("utf-8").split(" ") for m in kv["tokenizer.ggml.merges"][1][1]] \
        if "tokenizer.ggml.merges" in kv else []
    while tokens[-1] == "[PAD%d]" % (len(tokens) - 1):
        tokens.pop(), types.pop(), scores.pop()
    special = {k[len("tokenizer.ggml."):]: v[1] for k, v in kv.items()
               if k.startswith("tokenizer.ggml.") and k.endswith("_id")}
    chat_template = kv.get("tokenizer.chat_template", (0, None))[1]
    return tokens, scores, types, merges, special, chat_template.decode() if chat_template else None


def inp_texts(name):
    with open(os.path.join(VECTORS, "llama.cpp", "ggml-vocab-%s.gguf.inp" % name), encoding="utf-8") as f:
        raw = f.read()
    texts = raw.split("\n__ggml_vocab_test__\n")
    return texts[:-1] if texts[-1] == "" else texts


def split(regex):
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


def byte_level(use_regex):
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}


def config(bos=None, eos=None, add_bos=None, chat_template=None, **extra):
    document = {"bos_token": bos, "eos_token": eos, "clean_up_tokenization_spaces": False,
                "model_max_length": 4096}
    if add_bos is not None:
        document["add_bos_token"] = add_bos
        document["add_eos_token"] = False
    if chat_template is not None:
        document["chat_template"] = chat_template
    document.update(extra)
    return document


def spm_set(name, style="normalizer", **options):
    tokens, scores, types, _, special, chat_template = gguf_vocab(name)
    bos, eos, unk = special["bos_token_id"], special["eos_token_id"], special["unknown_token_id"]
    if name == "phi-3":  # Phi-3 publishes <unk> as special, </s> as a plain added token
        types[unk] = hf.UNKNOWN
    tokenizer = hf.spm_tokenizer_json(tokens, scores, types, bos, eos, unk, style=style, **options)
    if style == "normalizer":
        cfg = hf.spm_tokenizer_config(tokens, bos, eos, unk, chat_template=chat_template)
        generation = {"bos_token_id": bos, "eos_token_id": [32000, 32001, 32007] if name == "phi-3" else eos}
    else:  # no add_bos_token: the TemplateProcessing decides; a list of named chat templates
        cfg = config(bos={"content": tokens[bos]}, eos=tokens[eos], chat_template=[
            {"name": "tool_use", "template": "{{ tools }}"}, {"name": "default", "template": "{{ messages }}"}])
        generation = None
    return tokenizer, cfg, generation, tokens[bos], tokens[eos]


def stories_set():
    tokens, scores, types = hf.read_llama2c_tokenizer(LLAMA2C_TOKENIZER)
    return (hf.spm_tokenizer_json(tokens, scores, types, 1, 2, 0), hf.spm_tokenizer_config(tokens, 1, 2, 0), None,
            "<s>", "</s>")


def gpt2_vocab():
    with open(os.path.join(VECTORS, "gpt2", "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    tokens = [None] * len(encoder)
    for token, token_id in encoder.items():
        tokens[token_id] = token
    with open(os.path.join(VECTORS, "gpt2", "vocab.bpe"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [line.split(" ") for line in lines[1:] if line]
    types = [hf.CONTROL if t == "<|endoftext|>" else hf.NORMAL for t in tokens]
    return tokens, types, merges


def gpt2_set():
    tokens, types, merges = gpt2_vocab()
    tokenizer = hf.bpe_tokenizer_json(tokens, types, merges, byte_level(True), specials_in_vocab=True,
                                      post_processor=byte_level(True))
    return tokenizer, None, None, "<|endoftext|>", "<|endoftext|>"


def llama3_set():
    tokens, types, merges = gpt2_vocab()
    added = {50257: "<|begin_of_text|>", 50258: "<|end_of_text|>", 50259: "<|eot_id|>", 50260: "<|python_tag|>"}
    for token_id in sorted(added):
        tokens.append(added[token_id])
        types.append(hf.CONTROL)
    types[50260] = hf.USER_DEFINED  # a plain added token
    pre = {"type": "Sequence", "pretokenizers": [split(LLAMA3_REGEX), byte_level(False)]}
    post = {"type": "Sequence", "processors": [byte_level(False), hf.template_processing(tokens, 50257, None)]}
    tokenizer = hf.bpe_tokenizer_json(tokens, types, merges, pre, post_processor=post, ignore_merges=True)
    cfg = config(bos="<|begin_of_text|>", eos="<|eot_id|>", chat_template="{{ bos_token }}{{ messages }}")
    return tokenizer, cfg, {"bos_token_id": 50257, "eos_token_id": [50258, 50259]}, added[50257], added[50259]


def deepseek_set(name):
    tokens, _, types, merges, special, _ = gguf_vocab(name)
    if name == "deepseek-llm":
        splits = [split("[\r\n]"), split("\\s?[" + DEEPSEEK_LETTER_RANGES + "]+"),
                  split("\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"), split("\\s+$"),
                  split(CJK_REGEX), split("\\p{N}+")]
    else:
        splits = [split("[\r\n]"), split("\\s?\\p{L}+"), split("\\s?\\p{P}+"), split(CJK_REGEX),
                  {"type": "Digits", "individual_digits": True}]
    pre = {"type": "Sequence", "pretokenizers": splits + [byte_level(False)]}
    bos, eos = special["bos_token_id"], special["eos_token_id"]
    tokenizer = hf.bpe_tokenizer_json(tokens, types, merges, pre, merges_as_pairs=name == "deepseek-coder",
                                      post_processor=hf.template_processing(tokens, bos, None))
    cfg = config(bos={"__type": "AddedToken", "content": tokens[bos]}, eos={"content": tokens[eos]}, add_bos=True)
    return tokenizer, cfg, None, tokens[bos], tokens[eos]


def bert_set():
    tokens, _, types, _, special, _ = gguf_vocab("bert-bge")
    hf_tokens = []
    for token, kind in zip(tokens, types):
        if token.startswith("\u2581"):
            hf_tokens.append(token[1:])
        elif kind == hf.CONTROL or (token.startswith("[") and token.endswith("]")):
            hf_tokens.append(token)
        else:
            hf_tokens.append("##" + token)
    if len(set(hf_tokens)) != len(hf_tokens):
        raise ValueError("bert-bge: WordPiece tokens collide")
    unk, cls, sep = special["unknown_token_id"], special["cls_token_id"], special["seperator_token_id"]
    tokenizer = hf.wordpiece_tokenizer_json(hf_tokens, types, unk, cls, sep)
    cfg = config(cls_token="[CLS]", sep_token="[SEP]", unk_token="[UNK]", pad_token="[PAD]", mask_token="[MASK]",
                 do_lower_case=True, tokenizer_class="BertTokenizer", clean_up_tokenization_spaces=True)
    return tokenizer, cfg, None, "[CLS]", "[SEP]"


# name: (builder, the llama.cpp vocab whose .inp strings it encodes)
SETS = {
    "llama-spm": (lambda: spm_set("llama-spm"), "llama-spm"),
    "llama-spm-metaspace": (lambda: spm_set("llama-spm", "metaspace"), "llama-spm"),
    "llama-spm-always": (lambda: spm_set("llama-spm", "metaspace", prepend_scheme="always"), "llama-spm"),
    "llama-spm-noprefix": (lambda: spm_set("llama-spm", add_space_prefix=False), "llama-spm"),
    "phi-3": (lambda: spm_set("phi-3"), "phi-3"),
    "stories260K": (stories_set, "llama-spm"),
    "gpt-2": (gpt2_set, "gpt-2"),
    "llama3-gpt2": (llama3_set, "gpt-2"),
    "deepseek-llm": (lambda: deepseek_set("deepseek-llm"), "deepseek-llm"),
    "deepseek-coder": (lambda: deepseek_set("deepseek-coder"), "deepseek-coder"),
    "bert-bge": (bert_set, "bert-bge"),
}


def dump(path, document):
    """Compact, key order kept: the bytes depend only on the document."""
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--check", metavar="FIXTURES", help="compare SHA-256 with FIXTURES/<name>.json")
    parser.add_argument("--only", action="append", help="build only these sets")
    args = parser.parse_args(argv)
    failures = []
    for name, (build, inp) in SETS.items():
        if args.only and name not in args.only:
            continue
        tokenizer, cfg, generation, bos, eos = build()
        folder = os.path.join(args.out, name)
        os.makedirs(folder, exist_ok=True)
        digest = dump(os.path.join(folder, "tokenizer.json"), tokenizer)
        for file_name, document in (("tokenizer_config.json", cfg), ("generation_config.json", generation)):
            path = os.path.join(folder, file_name)
            if document is not None:
                dump(path, document)
            elif os.path.exists(path):
                os.remove(path)
        texts = inp_texts(inp) + [t.replace("{bos}", bos).replace("{eos}", eos) for t in EXTRA]
        dump(os.path.join(folder, "texts.json"), {"source": "ggml-vocab-%s.gguf.inp" % inp, "n_inp": len(texts) -
                                                  len(EXTRA), "texts": texts, "tokenizer_sha256": digest})
        if args.check:
            fixture = os.path.join(args.check, name + ".json")
            if not os.path.exists(fixture):
                failures.append("%s: no fixture %s (write it with reference/encode.js)" % (name, fixture))
                continue
            with open(fixture, encoding="utf-8") as f:
                expected = json.load(f)["tokenizer_sha256"]
            if expected != digest:
                failures.append("%s: tokenizer.json SHA-256 %s, fixture expects %s" % (name, digest, expected))
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
