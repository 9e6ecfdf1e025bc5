#!/usr/bin/python3
"""Opens many idle keep-alive TCP connections to an HTTP server and holds them (bench/serve_vs_fastapi.sh).

    /usr/bin/python3 bench/idle_connections.py --port P [--n 1000] [--send request|nothing]
        [--body-file FILE --path /v1/classify --api-key-env LMAAS_BENCH_KEY] [--ready-file F] [--hold-s S]

--send request (default): each connection sends one valid POST (the first line of --body-file, with
`Authorization: Bearer $<api-key-env>` when that variable is set) and reads the whole response, so the
server has parsed a request on it and holds it as an idle keep-alive connection; a non-2xx answer is
counted as a failed request. --send nothing: connect only.
Once all are open it writes "ready" to --ready-file (when given), then holds them until SIGTERM/SIGINT
or --hold-s seconds, then prints one JSON line:
    {"target": N, "opened": N, "requests_ok": N, "requests_failed": N, "open_at_end": N,
     "closed_by_server": N, "open_s": S}
open_at_end counts the connections the server had not closed when the hold ended (a server with a
short keep-alive timeout closes them early; that shows here). Raises its own RLIMIT_NOFILE as needed.
"""
import argparse
import json
import os
import resource
import signal
import socket
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < need:
            print(f"idle_connections: only {target} file descriptors allowed (hard limit), {need} wanted",
                  file=sys.stderr)


def read_response(sock):
    """Reads one HTTP/1.1 response with a Content-Length body; returns its status code."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the response body")
        body += chunk
    return status


def still_open(sock):
    sock.setblocking(False)  # with a timeout set, recv would first wait for data
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True  # nothing to read and not closed
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=1000, help="connections (1000)")
    ap.add_argument("--send", choices=("request", "nothing"), default="request")
    ap.add_argument("--path", default="/v1/classify")
    ap.add_argument("--body-file", help="JSON request bodies, one per line (the first is sent)")
    ap.add_argument("--api-key-env", default="LMAAS_BENCH_KEY")
    ap.add_argument("--ready-file", help="written once every connection is open")
    ap.add_argument("--hold-s", type=float, default=3600.0, help="hold at most this long (3600)")
    args = ap.parse_args()
    if args.send == "request" and not args.body_file:
        ap.error("--send request needs --body-file")
    raise_nofile(args.n + 64)

    request = b""
    if args.send == "request":
        with open(args.body_file, "rb") as f:
            body = next(line.strip() for line in f if line.strip())
        key = os.environ.get(args.api_key_env, "")
        head = [f"POST {args.path} HTTP/1.1", f"Host: {args.host}:{args.port}", "Content-Type: application/json",
                f"Content-Length: {len(body)}"] + ([f"Authorization: Bearer {key}"] if key else [])
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + body

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    socks, ok, failed = [], 0, 0
    started = time.monotonic()
    for _ in range(args.n):
        if stop:
            break
        try:
            s = socket.create_connection((args.host, args.port), timeout=30)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if request:
                s.sendall(request)
                if 200 <= read_response(s) <= 299:
                    ok += 1
                else:
                    failed += 1
            socks.append(s)
        except OSError as e:
            failed += 1
            print(f"idle_connections: connection {len(socks) + 1}: {e}", file=sys.stderr)
    opened_at = time.monotonic()
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("ready\n")
    deadline = opened_at + args.hold_s
    while not stop and time.monotonic() < deadline:
        time.sleep(0.1)
    n_open = sum(still_open(s) for s in socks)
    print(json.dumps({"target": args.n, "opened": len(socks), "requests_ok": ok, "requests_failed": failed,
                      "open_at_end": n_open, "closed_by_server": len(socks) - n_open,
                      "open_s": round(opened_at - started, 3)}), flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
