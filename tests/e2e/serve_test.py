#!/usr/bin/env python3
"""End to end through a real `lmaas serve` process on a loopback port (standard library only).

Trains two small models with the real binary, lays them out as a repository, starts the server with API
keys in a fresh SQLite store, and checks every route; auth (none, wrong, revoked, insufficient scope);
hostile input (malformed JSON, wrong types, oversize body and headers, deep nesting, invalid UTF-8,
empty input, unknown model/version), each followed by a normal request that must still succeed; batch
invariance; overload -> 429 with Retry-After; deadline -> 504; hot reload under concurrent traffic with
zero failed requests; SIGTERM drains an in-flight request and exits 0.
    tests/e2e/serve_test.py path/to/lmaas path/to/shared/data
"""
import base64, http.client, json, os, re, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time
import unittest

import lmaas_server
from lmaas_server import Server, keys

LMAAS = DATA = WORK = None


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server("--sentiment-en-model", "sent-en", "--sentiment-zh-model", "sent-zh")
        cls.admin = cls.s.admin_key
        assert cls.admin, "the first start printed no admin key"
        cls.infer = json.loads(keys(cls.s.data_dir, "create", "--name", "client", "--scope", "infer", "--json"))["secret"]

    @classmethod
    def tearDownClass(cls):
        assert cls.s.stop() == 0

    def call(self, method, path, body=None, key="infer", **kw):
        return self.s.request(method, path, body, key={"infer": self.infer, "admin": self.admin, None: None}.get(key, key), **kw)

    def assert_error(self, status, body, want_status, code=None):
        self.assertEqual(status, want_status, body)
        self.assertEqual(set(body["error"].keys()), {"message", "type", "param", "code"}, body)
        if code:
            self.assertEqual(body["error"]["code"], code, body)
        self.still_serves()

    def still_serves(self):
        st, body, _ = self.call("POST", "/v1/classify", {"model": "sent-en", "input": "a fine film"})
        self.assertEqual(st, 200, body)

    # --- routes --------------------------------------------------------------------------------------
    def test_health_and_server_metadata(self):
        for path in ("/v2/health/live", "/v2/health/ready", "/v2"):
            st, body, headers = self.call("GET", path, key=None)
            self.assertEqual(st, 200, (path, body))
            self.assertIn("x-request-id", headers)
        self.assertIn("model_repository", self.call("GET", "/v2", key=None)[1]["extensions"])

    def test_console_files(self):
        """The console's files come from the binary, public, under a Content-Security-Policy."""
        st, body, headers = self.call("GET", "/", key=None)
        self.assertEqual((st, headers["content-type"]), (200, "text/html; charset=utf-8"))
        self.assertIn('src="/console/app.js"', body)
        self.assertIn("default-src 'self'", headers["content-security-policy"])
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        st, body, headers = self.call("GET", "/console/app.js", key=None)
        self.assertEqual((st, headers["content-type"]), (200, "text/javascript; charset=utf-8"))
        self.assertEqual(body, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web", "app.js"),
                                    encoding="utf-8").read())
        self.assert_error(*self.call("GET", "/console/nope.js", key=None)[:2], 404)
        self.assert_error(*self.call("GET", "/console/..%2fserve_test.py", key=None)[:2], 404)

    def test_models_routes(self):
        st, body, _ = self.call("GET", "/v1/models")
        self.assertEqual(st, 200)
        ids = {m["id"]: m for m in body["data"]}
        self.assertEqual(set(ids), {"sent-en", "sent-zh"})
        self.assertEqual(ids["sent-en"]["object"], "model")
        self.assertEqual(sorted(ids["sent-en"]["labels"]), ["0", "1"])
        self.assertIn("dev", ids["sent-en"]["metrics"])
        st, body, _ = self.call("GET", "/v1/models/sent-zh")
        self.assertEqual((st, body["id"]), (200, "sent-zh"))
        self.assert_error(*self.call("GET", "/v1/models/nope")[:2], 404)
        st, body, _ = self.call("GET", "/v2/models/sent-en")
        self.assertEqual((st, body["versions"], body["inputs"][0]["datatype"]), (200, ["1"], "BYTES"))
        self.assertEqual(self.call("GET", "/v2/models/sent-en/versions/1")[0], 200)
        self.assertEqual(self.call("GET", "/v2/models/sent-en/ready")[0], 200)
        self.assertEqual(self.call("GET", "/v2/models/sent-en/versions/1/ready")[0], 200)
        self.assert_error(*self.call("GET", "/v2/models/sent-en/versions/9")[:2], 404)
        for bad in ("0", "x", "-1"):  # not a positive integer: 400 on metadata and infer routes alike
            self.assert_error(*self.call("GET", "/v2/models/sent-en/versions/%s" % bad)[:2], 400, "invalid_model")
            self.assert_error(*self.call("POST", "/v2/models/sent-en/versions/%s/infer" % bad, {
                "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["x"]}]})[:2], 400, "invalid_model")

    def test_classify(self):
        st, body, _ = self.call("POST", "/v1/classify", {"model": "sent-en", "input": ["a wonderful , moving film", "dull"], "top_k": 1})
        self.assertEqual(st, 200, body)
        self.assertEqual(len(body["data"]), 2)
        for i, row in enumerate(body["data"]):
            self.assertEqual(row["index"], i)
            self.assertAlmostEqual(sum(row["probabilities"].values()), 1.0, places=5)
            self.assertEqual(row["label"], max(row["probabilities"], key=row["probabilities"].get))
            self.assertEqual(row["top"][0]["label"], row["label"])
        st, body, _ = self.call("POST", "/v1/classify", {"model": "sent-en/1", "input": "fine"})
        self.assertEqual((st, body["version"]), (200, "1"))

    def test_sentiment_routes_by_script(self):
        st, body, _ = self.call("POST", "/v1/sentiment", {"input": ["a great movie", "很好吃，送得也快"]})
        self.assertEqual(st, 200, body)
        self.assertEqual([r["language"] for r in body["data"]], ["en", "zh"])
        self.assertEqual([r["model"] for r in body["data"]], ["sent-en/1", "sent-zh/1"])
        st, body, _ = self.call("POST", "/v1/sentiment", {"input": "很好", "language": "en"})
        self.assertEqual(body["data"][0]["model"], "sent-en/1")
        self.assert_error(*self.call("POST", "/v1/sentiment", {"input": "x", "language": "fr"})[:2], 400)

    def test_embeddings_float_and_base64(self):
        st, body, _ = self.call("POST", "/v1/embeddings", {"model": "sent-en", "input": ["good", "bad"]})
        self.assertEqual(st, 200, body)
        self.assertEqual(body["object"], "list")
        vec = body["data"][1]["embedding"]
        self.assertEqual(len(vec), 16)
        st, b64, _ = self.call("POST", "/v1/embeddings", {"model": "sent-en", "input": ["good", "bad"], "encoding_format": "base64"})
        raw = base64.b64decode(b64["data"][1]["embedding"])
        self.assertEqual(list(struct.unpack("<16f", raw)), [struct.unpack("<f", struct.pack("<f", v))[0] for v in vec])

    def test_kserve_infer(self):
        req = {"id": "r1", "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["great", "awful"]}]}
        st, body, _ = self.call("POST", "/v2/models/sent-en/infer", req)
        self.assertEqual(st, 200, body)
        out = body["outputs"][0]
        self.assertEqual((body["id"], out["datatype"], out["shape"]), ("r1", "FP32", [2, 2]))
        cls = self.call("POST", "/v1/classify", {"model": "sent-en", "input": ["great", "awful"]})[1]["data"]
        req["outputs"] = [{"name": "probabilities", "parameters": {"classification": 1}}]
        st, body, _ = self.call("POST", "/v2/models/sent-en/versions/1/infer", req)
        self.assertEqual(st, 200, body)
        for s, row in zip(body["outputs"][0]["data"], cls):
            score, index, label = s.split(":")
            self.assertEqual(label, row["label"])
            self.assertAlmostEqual(float(score), row["score"], places=5)
        bad = {"inputs": [{"name": "text", "shape": [3], "datatype": "BYTES", "data": ["a"]}]}
        self.assert_error(*self.call("POST", "/v2/models/sent-en/infer", bad)[:2], 400)

    def test_metrics_and_openapi(self):
        self.still_serves()
        st, text, headers = self.call("GET", "/metrics", key=None)
        self.assertEqual(st, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        for name in ("lmaas_requests_total", "lmaas_request_duration_seconds_bucket", "lmaas_queue_duration_seconds_bucket",
                     "lmaas_batch_size_bucket", "lmaas_models_ready", "lmaas_requests_in_flight", "lmaas_queue_texts"):
            self.assertIn(name, text)
        self.assertRegex(text, r'lmaas_requests_total\{model="sent-en",endpoint="/v1/classify",status="200"\} \d+')
        st, doc, _ = self.call("GET", "/openapi.json", key=None)
        for path in ("/v1/classify", "/v1/sentiment", "/v1/embeddings", "/v1/models", "/v1/models/{id}", "/v2/health/ready",
                     "/v2/models/{model}/infer", "/v2/repository/index", "/v2/repository/models/{model}/load", "/metrics"):
            self.assertIn(path, doc["paths"])

    # --- auth ----------------------------------------------------------------------------------------
    def test_auth(self):
        self.assert_error(*self.call("GET", "/v1/models", key=None)[:2], 401, "invalid_api_key")
        self.assert_error(*self.call("GET", "/v1/models", key="lmaas-" + "0" * 48)[:2], 401)
        self.assert_error(*self.s.request("GET", "/v1/models", headers={"Authorization": "Basic abc"})[:2], 401)
        self.assert_error(*self.call("POST", "/v2/repository/index")[:2], 403, "insufficient_scope")
        self.assertEqual(self.call("POST", "/v2/repository/index", key="admin")[0], 200)
        doomed = json.loads(keys(self.s.data_dir, "create", "--name", "doomed", "--json"))["secret"]
        self.assertEqual(self.call("GET", "/v1/models", key=doomed)[0], 200)
        keys(self.s.data_dir, "revoke", "doomed")
        time.sleep(0.5)  # the server notices another process's write within its refresh interval
        self.assert_error(*self.call("GET", "/v1/models", key=doomed)[:2], 401)

    def test_keys_api_rate_limits_and_usage(self):
        st, body, _ = self.call("POST", "/v1/keys", {"name": "limited", "scope": "infer", "requests_per_minute": 2}, key="admin")
        self.assertEqual(st, 201, body)
        secret, key_id = body["secret"], body["id"]
        self.assertNotIn("secret", json.dumps(self.call("GET", "/v1/keys", key="admin")[1]))
        ok = [self.call("POST", "/v1/classify", {"model": "sent-en", "input": "fine film"}, key=secret) for _ in range(2)]
        self.assertEqual([r[0] for r in ok], [200, 200])
        self.assertEqual(ok[1][2]["x-ratelimit-limit-requests"], "2")
        self.assertEqual(ok[1][2]["x-ratelimit-remaining-requests"], "0")
        st, body, headers = self.call("POST", "/v1/classify", {"model": "sent-en", "input": "x"}, key=secret)
        self.assertEqual((st, body["error"]["code"]), (429, "rate_limit_exceeded"))
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        self.assertEqual(self.call("POST", "/v1/keys", {"name": "limited"}, key="admin")[0], 409)
        self.assert_error(*self.call("POST", "/v1/keys", {"name": "bad name!"}, key="admin")[:2], 400)
        st, usage, _ = self.call("GET", "/v1/usage?key_id=%d" % key_id, key="admin")
        self.assertEqual(st, 200, usage)
        self.assertEqual([(u["key_name"], u["model"], u["requests"], u["characters"]) for u in usage["data"]],
                         [("limited", "sent-en", 2, 18)])
        self.assertEqual(self.call("DELETE", "/v1/keys/%d" % key_id, key="admin")[0], 200)
        self.assert_error(*self.call("GET", "/v1/models", key=secret)[:2], 401)
        self.assert_error(*self.call("GET", "/v1/usage?since=yesterday", key="admin")[:2], 400)

    def test_unload_returns_memory(self):
        def rss_kib():
            with open("/proc/%d/status" % self.s.proc.pid) as f:
                return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        cycle = lambda: [self.call("POST", "/v2/repository/models/sent-zh/%s" % op, key="admin")[0] for op in ("unload", "load")]
        self.assertEqual(cycle(), [200, 200])
        before = rss_kib()
        for _ in range(8):
            self.assertEqual(cycle(), [200, 200])
            self.assertEqual(self.call("POST", "/v1/classify", {"model": "sent-zh", "input": "好吃"})[0], 200)
        after = rss_kib()
        self.assertLess(after, before + 20 * 1024, "RSS grew from %d to %d KiB over 8 unload/load cycles" % (before, after))

    # --- hostile input -------------------------------------------------------------------------------
    def test_bad_bodies(self):
        post = lambda body, **kw: self.call("POST", "/v1/classify", body, **kw)[:2]
        self.assert_error(*post(b'{"model": "sent-en", "input": '), 400, "invalid_json")
        self.assert_error(*post(b"[1, 2]"), 400)
        self.assert_error(*post(b""), 400)
        self.assert_error(*post({"model": 3, "input": "x"}), 400, "invalid_field")
        self.assert_error(*post({"model": "sent-en", "input": 3}), 400)
        self.assert_error(*post({"model": "sent-en", "input": ["ok", 3]}), 400)
        self.assert_error(*post({"model": "sent-en"}), 400, "missing_field")
        self.assert_error(*post({"model": "sent-en", "input": []}), 400)
        self.assert_error(*post({"model": "sent-en", "input": "x", "top_k": -1}), 400)
        self.assert_error(*post(b'{"model": "sent-en", "input": "\xff\xfe"}'), 400, "invalid_utf8")
        self.assert_error(*post(b'{"model": "sent-en", "input": "x", "a": ' + b"[" * 100 + b"]" * 100 + b"}"), 413, "json_too_deep")
        self.assert_error(*post({"model": "nope", "input": "x"}), 404)
        self.assert_error(*post({"model": "sent-en/7", "input": "x"}), 404)
        self.assert_error(*post({"model": "sent-en/x", "input": "x"}), 400)
        self.assert_error(*post({"model": "sent-en", "input": ["x"] * 300}), 413, "too_many_inputs")
        self.assert_error(*post({"model": "sent-en", "input": "é" * 20001}), 413, "input_too_long")
        self.assert_error(*self.call("GET", "/v1/classify")[:2], 405)
        self.assert_error(*self.call("GET", "/nowhere")[:2], 404)

    def test_oversize_body_and_headers(self):
        # A declared length over the limit is refused before the body is sent.
        with socket.create_connection(("127.0.0.1", self.s.port)) as sock:
            sock.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 2097152\r\n\r\n")
            reply = sock.recv(65536).decode()
            self.assertTrue(reply.startswith("HTTP/1.1 413"), reply)
            self.assertIn('"param":"max_body_bytes"', reply)
        # A chunked body is counted as it arrives.
        with socket.create_connection(("127.0.0.1", self.s.port)) as sock:
            sock.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"a" * 65536
            try:
                for _ in range(40):
                    sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = sock.recv(65536).decode()
            self.assertTrue(reply.startswith("HTTP/1.1 413"), reply)
        st, body, _ = self.call("GET", "/v1/models", headers={"X-Big": "b" * 40000})
        self.assert_error(st, body, 413, None)
        self.assertEqual(body["error"]["param"], "max_header_bytes")
        with socket.create_connection(("127.0.0.1", self.s.port)) as sock:  # not HTTP at all
            sock.sendall(b"\x16\x03\x01garbage\r\n\r\n")
            self.assertIn(b"400", sock.recv(4096))
        self.still_serves()

    def test_keep_alive_and_request_id(self):
        c = self.s.conn()
        for i in range(20):
            st, _, headers = self.s.request("POST", "/v1/classify", {"model": "sent-en", "input": "ok"}, key=self.infer,
                                            conn=c, headers={"X-Request-Id": "trace-%d" % i})
            self.assertEqual((st, headers["x-request-id"]), (200, "trace-%d" % i))
        c.close()

    def test_request_framing(self):
        """Requests split across packets, Expect: 100-continue, pipelining and HTTP/1.0 all parse."""
        body = json.dumps({"model": "sent-en", "input": "a fine film"}).encode()
        head = (b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n" % (self.infer.encode(), len(body)))

        def read_responses(sock, n):
            data = b""
            while data.count(b"HTTP/1.") < n or not data.rstrip().endswith(b"}"):
                more = sock.recv(65536)
                if not more:
                    break
                data += more
            return data

        with socket.create_connection(("127.0.0.1", self.s.port), timeout=30) as sock:
            request = head + b"\r\n" + body
            for piece in (request[:7], request[7:60], request[60:-5], request[-5:]):  # headers and body in pieces
                sock.sendall(piece)
                time.sleep(0.05)
            reply = read_responses(sock, 1)
            self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply)
            self.assertIn(b'"label"', reply)
            sock.sendall(head + b"Expect: 100-continue\r\n\r\n")
            self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 100 Continue"))
            sock.sendall(body)
            self.assertTrue(read_responses(sock, 1).startswith(b"HTTP/1.1 200 OK\r\n"))
            sock.sendall((head + b"X-Request-Id: first\r\n\r\n" + body) + (head + b"X-Request-Id: second\r\n\r\n" + body))
            replies = read_responses(sock, 2)
            self.assertEqual(replies.count(b"HTTP/1.1 200 OK\r\n"), 2, replies)
            self.assertLess(replies.index(b"x-request-id: first"), replies.index(b"x-request-id: second"))
        with socket.create_connection(("127.0.0.1", self.s.port), timeout=30) as sock:  # HTTP/1.0: closes after
            sock.sendall(head.replace(b"HTTP/1.1", b"HTTP/1.0") + b"\r\n" + body)
            reply = b""
            while more := sock.recv(65536):
                reply += more
            self.assertTrue(reply.startswith(b"HTTP/1.0 200 OK\r\n"), reply)
            self.assertNotIn(b"Connection: keep-alive", reply)
        with socket.create_connection(("127.0.0.1", self.s.port), timeout=30) as sock:  # HTTP/1.0 keep-alive
            sock.sendall(head.replace(b"HTTP/1.1", b"HTTP/1.0") + b"Connection: keep-alive\r\n\r\n" + body)
            reply = read_responses(sock, 1)
            self.assertIn(b"Connection: keep-alive\r\n", reply)
            sock.sendall(head + b"Connection: close\r\n\r\n" + body)
            reply = b""
            while more := sock.recv(65536):
                reply += more
            self.assertIn(b"Connection: close\r\n", reply)
        self.still_serves()

    def test_lmaas_call(self):
        """`lmaas call` (the C++ SDK underneath) answers what the HTTP API answers."""
        url = "http://127.0.0.1:%d" % self.s.port

        def call(*args, key=self.infer, stdin=None):
            return subprocess.run([LMAAS, "call"] + list(args), input=stdin, capture_output=True, text=True,
                                  env=dict(os.environ, LMAAS_BASE_URL=url, LMAAS_API_KEY=key), timeout=60)

        out = call("classify", "--model", "sent-en", "--top-k", "2", "a fine film", "dull and long")
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = [json.loads(l) for l in out.stdout.splitlines()]
        _, body, _ = self.call("POST", "/v1/classify", {"model": "sent-en", "input": ["a fine film", "dull and long"]})
        for line, row in zip(lines, body["data"]):
            self.assertEqual(line["label"], row["label"])
            for label, p in row["probabilities"].items():
                self.assertAlmostEqual(line["probabilities"][label], p, places=6)
            self.assertEqual([t["label"] for t in line["top"]], sorted(row["probabilities"], key=row["probabilities"].get,
                                                                       reverse=True))
        out = call("sentiment", stdin="这家店的菜很好吃\n\nwhat a great movie\n")  # texts from stdin, blank lines skipped
        self.assertEqual([json.loads(l)["model"] for l in out.stdout.splitlines()], ["sent-zh/1", "sent-en/1"])
        out = call("embeddings", "--model", "sent-en", "good")
        self.assertEqual(len(json.loads(out.stdout)), 16)
        self.assertEqual(json.loads(call("models", "sent-en").stdout)["id"], "sent-en")
        out = call("classify", "--model", "nope", "x")
        self.assertEqual(out.returncode, 1)
        self.assertIn("404 model_not_found", out.stderr)
        out = call("classify", "--model", "sent-en", "x", key="lmaas-wrong")
        self.assertEqual(out.returncode, 1)
        self.assertIn("401", out.stderr)
        out = call("unload", "sent-zh")  # an infer key on a management route
        self.assertIn("403", out.stderr)
        self.assertEqual(call("load", "sent-zh", key=self.admin).returncode, 0)
        out = subprocess.run([LMAAS, "call", "models", "--url", "http://127.0.0.1:9"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("connection_error", out.stderr)

    def test_cpp_sdk_package(self):
        """`cmake --install` gives a package an application finds with find_package(lmaas) and links as
        lmaas::client: examples/client_example builds that way and classifies over this server."""
        build = os.path.dirname(LMAAS)  # the binary sits at the top of its build directory
        prefix, example_build = os.path.join(WORK, "sdk-prefix"), os.path.join(WORK, "client-example")
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "client_example")
        for cmd in (["cmake", "--install", build, "--prefix", prefix],
                    ["cmake", "-S", example, "-B", example_build, "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release"],
                    ["cmake", "--build", example_build]):
            out = subprocess.run(cmd, capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, "%s\n%s%s" % (" ".join(cmd), out.stdout[-3000:], out.stderr[-3000:]))
        self.assertTrue(os.path.exists(os.path.join(prefix, "lib", "cmake", "lmaas", "lmaasConfig.cmake")))
        env = dict(os.environ, LMAAS_BASE_URL="http://127.0.0.1:%d" % self.s.port, LMAAS_API_KEY=self.infer)
        texts = ["a fine film %d" % i for i in range(6)] + ["dull and long"]
        out = subprocess.run([os.path.join(example_build, "classify_texts"), "sent-en"] + texts, capture_output=True,
                             text=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        _, body, _ = self.call("POST", "/v1/classify", {"model": "sent-en", "input": texts})
        self.assertEqual([l.split(" ", 2)[0] for l in out.stdout.splitlines()], [r["label"] for r in body["data"]])
        self.assertEqual([l.split(" ", 2)[2] for l in out.stdout.splitlines()], texts)
        out = subprocess.run([os.path.join(example_build, "classify_texts"), "nope", "x"], capture_output=True, text=True,
                             env=env, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("model_not_found, HTTP 404", out.stderr)

    def test_batch_invariance(self):
        texts = ["a moving and thoughtful film", "tedious", "neither here nor there , but watchable", "brilliant"]
        alone = [self.call("POST", "/v1/classify", {"model": "sent-en", "input": t})[1]["data"][0]["probabilities"] for t in texts]
        together = [r["probabilities"] for r in self.call("POST", "/v1/classify", {"model": "sent-en", "input": texts})[1]["data"]]
        # And batched with other requests by the queue: concurrent single-text requests.
        results = [None] * len(texts)

        def one(i):
            results[i] = self.call("POST", "/v1/classify", {"model": "sent-en", "input": texts[i]})[1]["data"][0]["probabilities"]
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        # Equal up to float rounding: the head's matrix product may block a batch differently than one row.
        for other in (together, results):
            for a, b in zip(alone, other):
                self.assertEqual(a.keys(), b.keys())
                for k in a:
                    self.assertAlmostEqual(a[k], b[k], delta=1e-6)

    # --- hot reload ----------------------------------------------------------------------------------
    def test_hot_reload_under_traffic(self):
        v2 = os.path.join(WORK, "models", "sent-en", "2")
        shutil.copytree(os.path.join(WORK, "models", "sent-en", "1"), v2)
        failures, done, count = [], threading.Event(), [0]

        def traffic():
            c = self.s.conn()
            while not done.is_set():
                st, body, _ = self.s.request("POST", "/v1/classify", {"model": "sent-en", "input": "fine"}, key=self.infer, conn=c)
                count[0] += 1
                if st != 200:
                    failures.append((st, body))
            c.close()
        threads = [threading.Thread(target=traffic) for _ in range(4)]
        [t.start() for t in threads]
        try:
            for _ in range(3):
                st, body, _ = self.call("POST", "/v2/repository/models/sent-en/load", key="admin")
                self.assertEqual(st, 200, body)
            # A broken new version fails to load; the served one keeps serving.
            v3 = os.path.join(WORK, "models", "sent-en", "3")
            os.makedirs(v3)
            with open(os.path.join(v3, "config.json"), "w") as f:
                f.write("{broken")
            st, body, _ = self.call("POST", "/v2/repository/models/sent-en/load", key="admin")
            self.assertEqual(st, 200, body)  # version 2 loaded, 3 failed
            index = self.call("POST", "/v2/repository/index", key="admin")[1]
            states = {(e["name"], e.get("version")): e["state"] for e in index}
            self.assertEqual(states[("sent-en", "3")], "failed")
            self.assertEqual(states[("sent-en", "2")], "ready")
            time.sleep(0.3)
        finally:
            done.set()
            [t.join() for t in threads]
            shutil.rmtree(os.path.join(WORK, "models", "sent-en", "3"), ignore_errors=True)
        self.assertEqual(failures, [])
        self.assertGreater(count[0], 20)
        self.assertEqual(self.call("POST", "/v1/classify", {"model": "sent-en", "input": "x"})[1]["version"], "2")
        shutil.rmtree(v2)
        self.assertEqual(self.call("POST", "/v2/repository/models/sent-en/load", key="admin")[0], 200)
        self.assertEqual(self.call("POST", "/v1/classify", {"model": "sent-en", "input": "x"})[1]["version"], "1")

    def test_unload_and_load(self):
        st, body, _ = self.call("POST", "/v2/repository/models/sent-zh/unload", key="admin")
        self.assertEqual(st, 200, body)
        self.assert_error(*self.call("POST", "/v1/classify", {"model": "sent-zh", "input": "好"})[:2], 404)
        self.assert_error(*self.call("POST", "/v2/repository/models/nope/load", key="admin")[:2], 404)
        st, body, _ = self.call("POST", "/v2/repository/models/sent-zh/load", key="admin")
        self.assertEqual(st, 200, body)
        self.assertEqual(self.call("POST", "/v1/classify", {"model": "sent-zh", "input": "好"})[0], 200)


class SchedulingTest(unittest.TestCase):
    """A server whose batches wait 1 s to fill and whose queue holds 2 texts (slow enough to stay
    deterministic on a loaded machine)."""

    def test_overload_deadline_and_drain(self):
        s = Server("--no-auth", "--max-queue-delay-us", "1000000", "--max-queue-texts", "2", "--max-batch-size", "64")
        try:
            results = []

            def one(timeout_ms=None):
                h = {"X-Request-Timeout-Ms": str(timeout_ms)} if timeout_ms else {}
                results.append(s.request("POST", "/v1/classify", {"model": "sent-en", "input": "ok"}, headers=h))
            threads = [threading.Thread(target=one) for _ in range(6)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            statuses = sorted(r[0] for r in results)
            self.assertIn(429, statuses)
            self.assertIn(200, statuses)
            refused = [r for r in results if r[0] == 429][0]
            self.assertEqual(refused[2].get("retry-after"), "1")
            self.assertEqual(refused[1]["error"]["type"], "rate_limit_error")
            # Clients that leave while their request waits: the work is dropped, the model never runs it.
            def batches():
                text = s.request("GET", "/metrics")[1]
                m = re.search(r'lmaas_batch_size_count\{model="sent-en"\} (\d+)', text)
                return int(m.group(1)) if m else 0
            before = batches()
            for _ in range(2):
                with socket.create_connection(("127.0.0.1", s.port)) as sock:
                    body = b'{"model":"sent-en","input":"bye"}'
                    sock.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    time.sleep(0.05)
            time.sleep(1.5)
            self.assertEqual(batches(), before)
            self.assertRegex(s.request("GET", "/metrics")[1], r'lmaas_requests_total\{model="sent-en",endpoint="/v1/classify",status="499"\} 2')
            # Deadline shorter than the batching delay -> 504.
            results.clear()
            one(timeout_ms=50)
            self.assertEqual(results[0][0], 504, results[0])
            # SIGTERM while a request waits in the queue: it is answered, then the process exits 0.
            results.clear()
            t = threading.Thread(target=one)
            t.start()
            time.sleep(0.3)
            s.proc.send_signal(signal.SIGTERM)
            t.join()
            self.assertEqual(results[0][0], 200, results[0])
            self.assertEqual(s.proc.wait(timeout=30), 0)
        finally:
            s.stop()

    def test_no_auth_refused_off_loopback(self):
        out = subprocess.run([LMAAS, "serve", "--models", os.path.join(WORK, "models"), "--host", "0.0.0.0", "--no-auth"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--no-auth", out.stderr)


if __name__ == "__main__":
    LMAAS, DATA = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    del sys.argv[1:3]
    WORK = lmaas_server.start(LMAAS, DATA)
    try:
        unittest.main(verbosity=2)
    finally:
        lmaas_server.finish()
