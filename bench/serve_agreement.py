#!/usr/bin/python3
"""Checks a running server's POST /v1/classify answers against `lmaas predict` (bench/serve_vs_fastapi.sh).

    /usr/bin/python3 bench/serve_agreement.py --url http://127.0.0.1:P --model sentiment-en \
        --sentences lines.txt --reference predict.jsonl [--tol 1e-4] [--api-key-env LMAAS_BENCH_KEY]

lines.txt: one text per line; predict.jsonl: `lmaas predict --input lines.txt` of the same model.
Each text is sent alone ({"input": "text"}) and all of them once more in one request
({"input": [...]}). A text matches when the response has the right shape (object "list", the model
name, data[i].index == i, label = the most probable class, score = its probability) and every class
probability is within --tol of the reference. Prints one JSON line
    {"n": N, "match": N, "batch_match": N, "max_abs_diff": X, "label_match": N, "problems": [...]}
and exits 1 when a text does not match in either form (or a request fails), else 0.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def post(url, key, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json"})
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")[:300]


def compare(item, index, ref, tol):
    """(problem or None, max |difference|)."""
    probs = item.get("probabilities")
    if item.get("index") != index or not isinstance(probs, dict) or set(probs) != set(ref["probabilities"]):
        return f"item {index}: shape {json.dumps(item)[:200]}", float("inf")
    diff = max(abs(float(probs[k]) - float(v)) for k, v in ref["probabilities"].items())
    best = max(probs.values())
    if item.get("label") not in probs or probs[item["label"]] != best or abs(float(item.get("score", -1)) - best) > 1e-7:
        return f"item {index}: label/score {item.get('label')!r} {item.get('score')!r} do not name the top class", diff
    if diff > tol:
        return f"item {index}: probabilities differ by {diff:.3g} (> {tol:g})", diff
    return None, diff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--model", required=True)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--api-key-env", default="LMAAS_BENCH_KEY")
    args = ap.parse_args()
    key = os.environ.get(args.api_key_env, "")
    url = args.url.rstrip("/") + "/v1/classify"
    with open(args.sentences, encoding="utf-8") as f:
        texts = f.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    with open(args.reference, encoding="utf-8") as f:
        refs = [json.loads(line) for line in f if line.strip()]
    if len(refs) != len(texts):
        sys.exit(f"serve_agreement: {len(texts)} texts but {len(refs)} reference lines")

    problems, match, label_match, worst = [], 0, 0, 0.0
    for i, (text, ref) in enumerate(zip(texts, refs)):
        status, body = post(url, key, {"model": args.model, "input": text})
        if status != 200 or body.get("object") != "list" or body.get("model") != args.model \
                or len(body.get("data", [])) != 1:
            problems.append(f"text {i}: HTTP {status} {str(body)[:200]}")
            continue
        problem, diff = compare(body["data"][0], 0, ref, args.tol)
        worst = max(worst, diff)
        label_match += body["data"][0].get("label") == ref["label"]
        if problem:
            problems.append(f"text {i}: {problem}")
        else:
            match += 1
    batch_match = 0
    status, body = post(url, key, {"model": args.model, "input": texts})
    if status != 200 or len(body.get("data", [])) != len(texts):
        problems.append(f"batch: HTTP {status} {str(body)[:200]}")
    else:
        for i, (item, ref) in enumerate(zip(body["data"], refs)):
            problem, diff = compare(item, i, ref, args.tol)
            worst = max(worst, diff)
            if problem:
                problems.append(f"batch {problem}")
            else:
                batch_match += 1
    print(json.dumps({"n": len(texts), "match": match, "batch_match": batch_match, "max_abs_diff": worst,
                      "label_match": label_match, "problems": problems[:10]}))
    sys.exit(0 if match == batch_match == len(texts) else 1)


if __name__ == "__main__":
    main()
