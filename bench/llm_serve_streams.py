#!/usr/bin/env python3
"""Aggregate generation speed over HTTP: one streamed /v1/completions request alone, then N at once, against a
real `lmaas serve` (continuous batching: the N sequences share each model call). Prints one JSON line with
tokens/s for both (medians) and the median of their ratios, each measured on an alone/together pair run
back to back (the target is ≥ 3× at 16 streams).

    bench/llm_serve_streams.py --lmaas build/release/lmaas --model bench.gguf [--streams 16] [--tokens 128]
                               [--threads 2] [--repetitions 3] [--kv-type f16|f32|q8_0]
                               [--client multiplexed|threads]
Standard library only; the model is served from a temporary repository (a symlink to --model).
"""
import argparse, http.client, json, os, re, selectors, socket, statistics, subprocess, sys, tempfile, threading, time


def start_server(lmaas, model, threads, slots, kv_type):
    root = tempfile.mkdtemp(prefix="lmaas-bench-streams-")
    version = os.path.join(root, "models", "bench", "1")
    os.makedirs(version)
    os.symlink(os.path.abspath(model), os.path.join(version, "model.gguf"))
    proc = subprocess.Popen([lmaas, "serve", "--models", os.path.join(root, "models"), "--port", "0", "--no-auth",
                             "--data-dir", os.path.join(root, "var"), "--threads", str(threads),
                             "--llm-slots", str(slots), "--llm-context", "1024", "--llm-kv-type", kv_type],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"listening on http://[^:]+:(\d+)", line)
        if m:
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(m.group(1))
    raise RuntimeError("lmaas serve did not start")


def request_body(tokens, seed):
    return json.dumps({"model": "bench", "prompt": "Once upon a time", "max_tokens": tokens, "ignore_eos": True,
                       "temperature": 0.8, "seed": seed, "stream": True,
                       "stream_options": {"include_usage": True}}).encode()


def request_bytes(port, tokens, seed):
    body = request_body(tokens, seed)
    head = (f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def generated_tokens(response):
    """The completion_tokens of a whole streamed response (status line, headers, chunked SSE body)."""
    head, _, body = response.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    assert b" 200 " in status, response[:500]
    text, pos = bytearray(), 0
    if b"chunked" in head.lower():
        while True:
            line_end = body.index(b"\r\n", pos)
            size = int(body[pos:line_end].split(b";")[0], 16)
            if size == 0:
                break
            text += body[line_end + 2:line_end + 2 + size]
            pos = line_end + 2 + size + 2
    else:
        text = body
    events = text.decode().split("\n\n")
    assert "data: [DONE]" in events, "the stream did not end with data: [DONE]"
    return completion_tokens(events)


def completion_tokens(events):
    """The usage chunk's completion_tokens among SSE events (0 without one)."""
    generated = 0
    for block in events:
        if block.startswith("data: {"):
            usage = json.loads(block[len("data: "):]).get("usage")
            if usage:
                generated = usage["completion_tokens"]
    return generated


def measure_multiplexed(port, n_streams, tokens):
    """All streams from this one thread over non-blocking sockets (an event loop, as load generators use): on
    a small machine the client's own CPU time is taken from the server, so it wakes once per burst of data
    and parses the responses only after the clock stops."""
    selector = selectors.DefaultSelector()
    responses = [bytearray() for _ in range(n_streams)]
    start = time.perf_counter()
    for i in range(n_streams):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request_bytes(port, tokens, 1000 + i))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, i)
    n_open = n_streams
    while n_open:
        for key, _ in selector.select(timeout=600):
            data = key.fileobj.recv(1 << 16)
            if data:
                responses[key.data] += data
            else:  # the server closes after the response (Connection: close)
                selector.unregister(key.fileobj)
                key.fileobj.close()
                n_open -= 1
    elapsed = time.perf_counter() - start
    selector.close()
    return sum(generated_tokens(bytes(r)) for r in responses) / elapsed


def stream_tokens(port, tokens, seed):
    """Streams one completion on its own connection; returns the number of generated tokens."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/completions", body=request_body(tokens, seed), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200, r.read()
    generated = completion_tokens(r.read().decode().split("\n\n"))
    c.close()
    return generated


def measure_threads(port, n_streams, tokens):
    """One client thread per stream (each blocks on its socket and wakes for every event)."""
    counts = [0] * n_streams

    def run(i):
        counts[i] = stream_tokens(port, tokens, 1000 + i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_streams)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lmaas", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--kv-type", default="f16", help="the server's --llm-kv-type (f16, f32, q8_0)")
    ap.add_argument("--client", choices=["multiplexed", "threads"], default="multiplexed",
                    help="one client thread for all streams (default), or a thread per stream")
    args = ap.parse_args()
    measure = measure_multiplexed if args.client == "multiplexed" else measure_threads
    proc, port = start_server(args.lmaas, args.model, args.threads, max(args.streams, 1), args.kv_type)
    try:
        # Warm-up at full width: pages the weights in, and every slot's KV-cache rows (a fresh server's first
        # batch would otherwise also pay the page faults of memory it touches for the first time).
        measure(port, args.streams, args.tokens)
        # Alone and together, alternately: each pair's ratio is measured under the same machine conditions.
        pairs = [(measure(port, 1, args.tokens), measure(port, args.streams, args.tokens)) for _ in range(args.repetitions)]
        single = statistics.median(p[0] for p in pairs)
        many = statistics.median(p[1] for p in pairs)
        ratio = statistics.median(p[1] / p[0] for p in pairs)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print(json.dumps({"model": args.model, "threads": args.threads, "kv_type": args.kv_type, "client": args.client,
                      "tokens_per_stream": args.tokens,
                      "single_stream_tokens_per_s": round(single, 1), "streams": args.streams,
                      "aggregate_tokens_per_s": round(many, 1), "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    sys.exit(main())
