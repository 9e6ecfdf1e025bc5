#!/usr/bin/python3
"""FastAPI + uvicorn + PyTorch twin of `lmaas serve` for POST /v1/classify (bench/serve_vs_fastapi.sh).

It loads an lmaas model directory (config.json, model.safetensors, tokenizer.json) of the `nbsvm`
architecture and answers the same route with the same request and response shapes:

    POST /v1/classify   {"model": "sentiment-en", "input": "text" | ["t1", "t2"]}
    -> {"object": "list", "model": "sentiment-en",
        "data": [{"index": 0, "label": "1", "score": 0.93, "probabilities": {"0": 0.07, "1": 0.93}}]}
    GET /v2/health/live, /v2/health/ready -> 200

Run with Debian's interpreter (python3-fastapi, python3-uvicorn, python3-torch):
    /usr/bin/python3 bench/fastapi_twin.py --model-dir models/sentiment-en/1 --port 8001 [--workers 2]
    /usr/bin/python3 bench/fastapi_twin.py --model-dir models/sentiment-en/1 --predict < lines.txt

--predict prints one JSON line per input line, as `lmaas predict` does, without any HTTP.
With the environment variable named by --api-key-env set (default LMAAS_BENCH_KEY), every classify
request must carry `Authorization: Bearer <that value>`; unset or empty, no key is checked.

Invariants:
- Feature extraction is text/text_encoder.cpp's, step for step: UTF-8 repair, NFKC, per-code-point
  simple lowercase, Keras word split (filters become `split`, CJK characters tokens of their own),
  token ids from tokenizer.json's word counts, truncation to max_len, FNV-1a-hashed word n-grams of
  2..ngrams ids, FNV-1a-hashed character n-grams of "<word>" (char_ngram_min..max code points).
- The model is models/nbsvm_classifier.cpp's forward: each text's distinct non-padding ids,
  logits = bias + sum(weight[f] * nb_ratio[f]), softmax; float32, one torch thread per worker.
- Each uvicorn worker is its own process with its own copy of the model.
"""
import argparse
import json
import os
import socket
import struct
import sys
import unicodedata
from functools import lru_cache
from typing import List, Optional, Union

FNV_OFFSET = 1469598103934665603
FNV_PRIME = 1099511628211
MASK64 = (1 << 64) - 1
CHAR_OFFSET = FNV_OFFSET ^ 0x63686172  # "char": character n-grams start from another state

CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x309F),
    (0x30A0, 0x30FF), (0x3130, 0x318F), (0x31F0, 0x31FF), (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7AF), (0xD7B0, 0xD7FF),
    (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x2FA1F), (0x30000, 0x3134F),
)

ST_DTYPES = {"F32": "float32", "F64": "float64", "I32": "int32", "I64": "int64", "U8": "uint8"}

# ----------------------------------------------------------------------------- text


def is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


@lru_cache(maxsize=65536)
def lower_char(c):
    """utf8proc_tolower: the simple one-to-one mapping (Python's full mapping differs for 'İ' only)."""
    low = c.lower()
    return low if len(low) == 1 else low[0]


def hash_ngram(ids):
    """FNV-1a over the little-endian bytes of each (uint32) id."""
    h = FNV_OFFSET
    for v in ids:
        v &= 0xFFFFFFFF
        for _ in range(4):
            h = ((h ^ (v & 0xFF)) * FNV_PRIME) & MASK64
            v >>= 8
    return h


class TextEncoder:
    """text -> ids, as lmaas::text::TextEncoder (word or char tokenizer, optional hashed n-grams)."""

    def __init__(self, model_dir, spec):
        if spec["type"] not in ("word", "char"):
            raise ValueError(f"tokenizer type {spec['type']!r}: the twin reads only word/char tokenizers")
        with open(os.path.join(model_dir, spec.get("file", "tokenizer.json")), encoding="utf-8") as f:
            tok = json.load(f)
        self.nfkc = bool(spec["nfkc"])
        self.max_len = int(spec["max_len"])
        self.ngrams = int(spec.get("ngrams", 1))
        self.buckets = int(spec.get("buckets", 0))
        self.char_min = int(spec.get("char_ngram_min", 0))
        self.char_max = int(spec.get("char_ngram_max", 0))
        self.lower = bool(tok["lower"])
        self.split = tok["split"]
        self.char_level = bool(tok["char_level"])
        self.cjk_split = bool(tok["cjk_split"])
        self.num_words = int(tok["num_words"])
        self.filters = set(tok["filters"])
        # word_index: counts descending, ties in first-appearance order (a stable sort), ids from 1.
        words = [w for w, _ in sorted(tok["word_counts"], key=lambda wc: -wc[1])]
        if tok["oov_token"] is not None:
            words.insert(0, tok["oov_token"])
        self.word_index = {w: i + 1 for i, w in enumerate(words)}  # a repeated word keeps the later id
        oov = tok["oov_token"]
        self.oov_id = self.word_index.get(oov, -1) if oov is not None else -1
        all_ids = len(words) + 1
        self.token_vocab = min(all_ids, self.num_words) if self.num_words > 0 else all_ids
        has_buckets = self.ngrams > 1 or self.char_max > 0
        self.vocab_size = self.token_vocab + (self.buckets if has_buckets else 0)
        self.ascii_table = {ord(c): self.split for c in self.filters if ord(c) < 128}

    def prepare(self, text):
        if text.isascii():
            return text  # ASCII is NFKC-invariant
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return unicodedata.normalize("NFKC", text) if self.nfkc else text

    def words(self, text):
        if self.lower:
            text = text.lower() if text.isascii() else "".join(map(lower_char, text))
        if self.char_level:
            return list(text)
        if text.isascii():
            translated = text.translate(self.ascii_table)
        else:
            parts = []
            for c in text:
                if c in self.filters:
                    parts.append(self.split)
                elif self.cjk_split and is_cjk(ord(c)):
                    parts += (self.split, c, self.split)
                else:
                    parts.append(c)
            translated = "".join(parts)
        return [w for w in translated.split(self.split) if w]

    def encode(self, text):
        words = self.words(self.prepare(text))
        ids = []
        index, limit, oov = self.word_index, self.num_words, self.oov_id
        for w in words:
            i = index.get(w, -1)
            if i >= 0 and not (limit > 0 and i >= limit):
                ids.append(i)
            elif oov >= 0:
                ids.append(oov)
        del ids[self.max_len:]
        base, buckets = self.token_vocab, self.buckets
        n_tokens = len(ids)
        for n in range(2, self.ngrams + 1):
            for i in range(n_tokens - n + 1):
                ids.append(base + hash_ngram(ids[i:i + n]) % buckets)
        if self.char_max > 0:
            for w in words[:self.max_len]:
                self.append_char_ngrams(w, ids)
        return ids

    def append_char_ngrams(self, word, ids):
        """Character n-grams of "<word>"; each start's hash is extended one code point at a time."""
        chars = [c.encode("utf-8") for c in "<" + word + ">"]
        n_chars, lo, hi = len(chars), self.char_min, self.char_max
        base, buckets = self.token_vocab, self.buckets
        for i in range(n_chars):
            h = CHAR_OFFSET
            for n in range(1, min(hi, n_chars - i) + 1):
                for b in chars[i + n - 1]:
                    h = ((h ^ b) * FNV_PRIME) & MASK64
                if n < lo or (n == 1 and (i == 0 or i == n_chars - 1)):
                    continue  # too short, or a marker alone
                ids.append(base + h % buckets)

# ----------------------------------------------------------------------------- model


def read_safetensors(path):
    """name -> torch tensor; the standard library parses the header, torch.frombuffer the data."""
    import torch
    with open(path, "rb") as f:
        data = bytearray(f.read())
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    start = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = getattr(torch, ST_DTYPES[info["dtype"]])
        t = torch.frombuffer(data, dtype=dtype, count=(end - begin) // torch.tensor([], dtype=dtype).element_size(),
                             offset=start + begin) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out


class NbsvmModel:
    """The nbsvm forward in PyTorch: bias + sum over distinct ids of weight[f] * nb_ratio[f]."""

    def __init__(self, model_dir):
        import torch
        self.torch = torch
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        arch = config["architecture"]
        if arch["arch"] != "nbsvm":
            raise ValueError(f"{model_dir}: architecture {arch['arch']!r}; the twin serves nbsvm only")
        self.labels = [str(x) for x in config["labels"]]
        self.encoder = TextEncoder(model_dir, config["tokenizer"])
        tensors = read_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.weight, self.ratio, self.bias = tensors["weight"], tensors["nb_ratio"], tensors["bias"]
        v, c = self.weight.shape
        if v != arch["vocab_size"] or v != self.encoder.vocab_size or c != len(self.labels):
            raise ValueError(f"{model_dir}: weight {list(self.weight.shape)}, vocab_size {arch['vocab_size']}, "
                             f"tokenizer {self.encoder.vocab_size}, {len(self.labels)} labels disagree")

    def predict(self, texts):
        """texts -> one list of class probabilities per text."""
        torch = self.torch
        rows = [sorted({i for i in self.encoder.encode(t) if i > 0}) for t in texts]
        width = max(1, max(len(r) for r in rows))
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])  # 0 pads: weight[0] = nb_ratio[0] = 0
        with torch.inference_mode():
            scaled = torch.nn.functional.embedding(ids, self.weight) * torch.nn.functional.embedding(ids, self.ratio)
            probs = torch.softmax(scaled.sum(1) + self.bias, dim=-1)
        return probs.tolist()

    def answer(self, index, probs):
        best = max(range(len(probs)), key=lambda i: (probs[i], -i))  # first of equal maxima
        return {"index": index, "label": self.labels[best], "score": probs[best],
                "probabilities": dict(zip(self.labels, probs))}

# ----------------------------------------------------------------------------- HTTP


def error(status, message, type_, param=None, code=None):
    from fastapi.responses import JSONResponse
    return JSONResponse(status_code=status,
                        content={"error": {"message": message, "type": type_, "param": param, "code": code}})


def create_app():
    """The ASGI app of one worker; its settings come from FASTAPI_TWIN_* environment variables."""
    import torch
    from fastapi import FastAPI, Header
    from pydantic import BaseModel

    torch.set_num_threads(1)
    model_dir = os.environ["FASTAPI_TWIN_MODEL_DIR"]
    model_name = os.environ["FASTAPI_TWIN_MODEL_NAME"]
    api_key = os.environ.get(os.environ.get("FASTAPI_TWIN_KEY_ENV", "LMAAS_BENCH_KEY"), "")
    model = NbsvmModel(model_dir)
    app = FastAPI(title="fastapi-twin")

    class ClassifyRequest(BaseModel):
        model: str
        input: Union[str, List[str]]

    @app.get("/v2/health/live")
    @app.get("/v2/health/ready")
    async def health():
        return {}

    @app.post("/v1/classify")
    async def classify(req: ClassifyRequest, authorization: Optional[str] = Header(None)):
        if api_key and authorization != "Bearer " + api_key:
            return error(401, "missing or wrong API key in the Authorization header", "authentication_error",
                         code="invalid_api_key")
        if req.model != model_name:
            return error(404, f"model '{req.model}' does not exist; this server has '{model_name}'",
                         "invalid_request_error", "model", "model_not_found")
        texts = [req.input] if isinstance(req.input, str) else req.input
        if not texts:
            return error(400, "input is an empty list; send a string or a non-empty list of strings",
                         "invalid_request_error", "input")
        probs = model.predict(texts)
        return {"object": "list", "model": model_name,
                "data": [model.answer(i, p) for i, p in enumerate(probs)]}

    return app


def run_predict(model_dir, batch_size=64):
    import torch
    torch.set_num_threads(1)
    model = NbsvmModel(model_dir)
    lines = [line[:-1] if line.endswith("\r") else line
             for line in sys.stdin.buffer.read().decode("utf-8", "replace").split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    for start in range(0, len(lines), batch_size):
        for p in model.predict(lines[start:start + batch_size]):
            a = model.answer(0, p)
            print(json.dumps({"label": a["label"], "score": a["score"], "probabilities": a["probabilities"]}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", required=True, help="lmaas model directory, e.g. models/sentiment-en/1")
    ap.add_argument("--model-name", help="name in requests (default: the directory above the version)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (2)")
    ap.add_argument("--timeout-keep-alive", type=int, default=5, help="seconds an idle keep-alive connection stays (5)")
    ap.add_argument("--api-key-env", default="LMAAS_BENCH_KEY", help="environment variable holding the API key")
    ap.add_argument("--access-log", action="store_true", help="log every request (off: as measured)")
    ap.add_argument("--stock-socket", action="store_true",
                    help="let uvicorn bind the socket (with --workers > 1: no TCP_NODELAY, see main())")
    ap.add_argument("--predict", action="store_true", help="classify stdin lines into JSON lines, no server")
    args = ap.parse_args()
    model_dir = os.path.abspath(args.model_dir)
    if args.predict:
        run_predict(model_dir)
        return
    name = args.model_name or os.path.basename(os.path.dirname(model_dir.rstrip("/")))
    os.environ.update(FASTAPI_TWIN_MODEL_DIR=model_dir, FASTAPI_TWIN_MODEL_NAME=name,
                      FASTAPI_TWIN_KEY_ENV=args.api_key_env, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    import uvicorn
    settings = dict(factory=True, host=args.host, port=args.port, workers=args.workers, log_level="warning",
                    access_log=args.access_log, timeout_keep_alive=args.timeout_keep_alive)
    app_dir = os.path.dirname(os.path.abspath(__file__))
    if args.stock_socket or args.workers == 1:
        uvicorn.run("fastapi_twin:create_app", app_dir=app_dir, **settings)
        return
    # uvicorn.run(workers=N) as written, except for the listening socket: uvicorn 0.17 creates it with
    # proto 0, accepted sockets inherit that, and asyncio then leaves TCP_NODELAY off, so on a keep-alive
    # connection every response body (a second small write after the headers) waits ~40 ms for the
    # client's delayed ACK (Kludex/uvicorn#3149). Binding it with IPPROTO_TCP gives the workers the
    # no-delay sockets a single uvicorn process gets.
    from uvicorn.supervisors import Multiprocess
    sys.path.insert(0, app_dir)
    config = uvicorn.Config("fastapi_twin:create_app", **settings)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.set_inheritable(True)
    Multiprocess(config, target=uvicorn.Server(config=config).run, sockets=[sock]).run()


if __name__ == "__main__":
    main()
