#!/usr/bin/env python3
"""A pretrained language model behind the real server (standard library only): stories260K converted to GGUF
by `lmaas convert`, laid out as a repository version, served by `lmaas serve`. Checks OpenAI's
/v1/completions and /v1/chat/completions (plain and SSE-streamed, n, logprobs, stop, seeds), that a request's
tokens do not depend on what else runs beside it, /v1/embeddings from hidden states, /tokenize and
/detokenize, /v1/models, the generation metrics, 429 when the queue is full, and that a client leaving a
stream frees its slot.
    tests/e2e/llm_serve_test.py path/to/lmaas path/to/shared/data
"""
import json, os, socket, subprocess, sys, threading, time, unittest

import lmaas_server
from lmaas_server import Server

DATA = None
SERVER = None


def reference():
    with open(os.path.join(DATA, "models/stories260K/reference/greedy_and_logits.json"), encoding="utf-8") as f:
        return json.load(f)


def setUpModule():
    global SERVER
    version = os.path.join(lmaas_server.WORK, "models", "stories", "1")
    os.makedirs(version)
    subprocess.run([lmaas_server.LMAAS, "convert", "--input", os.path.join(DATA, "models/stories260K/stories260K.bin"),
                    "--output", os.path.join(version, "stories260K.gguf")], check=True, capture_output=True)
    # A slower model (27M random parameters) so that a request holds its slot for seconds.
    slow = os.path.join(lmaas_server.WORK, "models", "slow", "1")
    os.makedirs(slow)
    subprocess.run([lmaas_server.LMAAS, "convert", "--random-llama", "--dim", "512", "--ff", "1536", "--layers", "8",
                    "--heads", "8", "--vocab", "512", "--context", "2048", "--type", "f32",
                    "--output", os.path.join(slow, "slow.gguf")], check=True, capture_output=True)
    SERVER = Server("--no-auth", "--threads", "2")


def tearDownModule():
    SERVER.stop()


def post(path, body, server=None):
    status, data, _ = (server or SERVER).request("POST", path, body)
    return status, data


def stream(path, body, server=None):
    """The SSE events of a streamed request: the parsed JSON objects, and whether [DONE] came last."""
    c = (server or SERVER).conn()
    c.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200, (r.status, r.read())
    assert r.getheader("Content-Type") == "text/event-stream"
    events, done = [], False
    for block in r.read().decode().split("\n\n"):
        if not block.strip():
            continue
        assert block.startswith("data: "), block
        payload = block[len("data: "):]
        if payload == "[DONE]":
            done = True
        else:
            assert not done, "an event after [DONE]"
            events.append(json.loads(payload))
    c.close()
    return events, done


def completion_text(req):
    """The text of one completion, or (status, body) when the request failed."""
    status, body = post("/v1/completions", req)
    return body["choices"][0]["text"] if status == 200 else (status, body)


def completion_texts_at_once(reqs):
    """completion_text of every request, all sent at once from their own threads."""
    texts = [None] * len(reqs)

    def run(i):
        texts[i] = completion_text(reqs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(reqs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return texts


class Completions(unittest.TestCase):
    def test_greedy_text_equals_llama2c(self):
        case = reference()["cases"][1]  # "Once upon a time", 60 tokens generated
        n = len(case["token_ids_after_bos"]) - (len(case["prompt_token_ids"]) - 1)
        status, body = post("/v1/completions", {"model": "stories", "prompt": case["prompt"], "max_tokens": n,
                                                "temperature": 0})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["object"], "text_completion")
        self.assertEqual(case["prompt"] + body["choices"][0]["text"], case["text"])
        self.assertEqual(body["choices"][0]["finish_reason"], "length")
        self.assertEqual(body["usage"], {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n})

    def test_stream_matches_the_whole_response(self):
        req = {"model": "stories", "prompt": "The dog", "max_tokens": 30, "temperature": 0.8, "seed": 11}
        _, whole = post("/v1/completions", req)
        events, done = stream("/v1/completions", dict(req, stream=True, stream_options={"include_usage": True}))
        self.assertTrue(done)
        text = "".join(e["choices"][0]["text"] for e in events if e["choices"])
        self.assertEqual(text, whole["choices"][0]["text"])
        self.assertEqual(events[-1]["choices"], [])
        self.assertEqual(events[-1]["usage"], whole["usage"])
        self.assertEqual([e["choices"][0]["finish_reason"] for e in events if e["choices"]][-1], "length")

    def test_seeds_repeat_and_choices_differ(self):
        req = {"model": "stories", "prompt": "Lily and Tom", "max_tokens": 25, "temperature": 1.0, "seed": 5, "n": 3}
        _, a = post("/v1/completions", req)
        _, b = post("/v1/completions", req)
        texts = [c["text"] for c in a["choices"]]
        self.assertEqual(texts, [c["text"] for c in b["choices"]])
        self.assertEqual(len(set(texts)), 3)
        self.assertEqual(a["usage"]["prompt_tokens"], 5)  # counted once, not per choice

    def test_stop_sequences_and_logprobs(self):
        _, body = post("/v1/completions", {"model": "stories", "prompt": "Once upon a time", "max_tokens": 60,
                                           "temperature": 0, "stop": ["Lily"], "logprobs": 2})
        choice = body["choices"][0]
        self.assertEqual(choice["text"], ", there was a little girl named ")
        self.assertEqual(choice["finish_reason"], "stop")
        lp = choice["logprobs"]
        self.assertEqual(len(lp["tokens"]), len(lp["token_logprobs"]))
        for token, logprob, top in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"]):
            self.assertLessEqual(logprob, 0)
            self.assertEqual(len(top), 2)
            self.assertAlmostEqual(max(top.values()), logprob, places=5)  # greedy picks the most likely

    def test_token_prompts_and_echo(self):
        _, body = post("/v1/completions", {"model": "stories", "prompt": [1, 403, 407, 261, 378], "max_tokens": 3,
                                           "temperature": 0})
        self.assertEqual(body["choices"][0]["text"], ", there was")
        _, body = post("/v1/completions", {"model": "stories", "prompt": "Once upon a time", "max_tokens": 3,
                                           "temperature": 0, "echo": True})
        self.assertEqual(body["choices"][0]["text"], "Once upon a time, there was")


class Chat(unittest.TestCase):
    def test_chat_plain_and_streamed(self):
        req = {"model": "stories", "messages": [{"role": "system", "content": "Be kind."},
                                                {"role": "user", "content": "Tell me a story"}],
               "max_tokens": 20, "temperature": 0.7, "seed": 3, "logprobs": True, "top_logprobs": 2}
        status, whole = post("/v1/chat/completions", req)
        self.assertEqual(status, 200, whole)
        self.assertEqual(whole["object"], "chat.completion")
        message = whole["choices"][0]["message"]
        self.assertEqual(message["role"], "assistant")
        self.assertEqual(len(whole["choices"][0]["logprobs"]["content"]), whole["usage"]["completion_tokens"])
        events, done = stream("/v1/chat/completions", dict(req, stream=True))
        self.assertTrue(done)
        self.assertEqual(events[0]["object"], "chat.completion.chunk")
        self.assertEqual(events[0]["choices"][0]["delta"], {"role": "assistant", "content": ""})
        text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
        self.assertEqual(text, message["content"])

    def test_bad_requests_name_the_field(self):
        for body, param in (({"model": "stories", "messages": []}, "messages"),
                            ({"model": "stories", "messages": [{"role": "user", "content": "hi"}], "temperature": 3},
                             "temperature"),
                            ({"model": "stories", "messages": [{"role": "user", "content": "hi"}], "tools": [{}]},
                             "tools"),
                            ({"model": "stories", "messages": [{"role": "wizard", "content": "hi"}]}, "messages")):
            status, err = post("/v1/chat/completions", body)
            self.assertEqual(status, 400, err)
            self.assertEqual(err["error"]["param"], param, err)
        status, err = post("/v1/completions", {"model": "stories", "prompt": "x" * 10, "max_tokens": 600})
        self.assertEqual(status, 400)
        self.assertEqual(err["error"]["param"], "max_tokens")
        self.assertIn("context is 512 tokens", err["error"]["message"])
        status, err = post("/v1/completions", {"model": "nope", "prompt": "x"})
        self.assertEqual(status, 404)


class Batching(unittest.TestCase):
    def test_concurrent_requests_get_the_tokens_they_get_alone(self):
        prompts = ["Once upon a time", "The dog", "Lily and Tom", "A big red ball", "One day", "The sun"]
        reqs = [{"model": "stories", "prompt": p, "max_tokens": 40, "temperature": 0.9, "seed": 100 + i}
                for i, p in enumerate(prompts)]
        alone = [completion_text(r) for r in reqs]
        self.assertEqual(completion_texts_at_once(reqs), alone)

    def test_two_models_generating_at_once_share_the_kernel_threads(self):
        # Each model's scheduler drives its batches from its own thread, on the one kernel pool (--threads 2):
        # they take turns on it (sharing it unguarded crashed the server), and each answers as it does alone.
        reqs = [{"model": m, "prompt": "Once upon a time", "max_tokens": 48, "temperature": 0.9, "seed": 7 + i}
                for i, m in enumerate(["stories", "slow", "stories", "slow"])]
        alone = [completion_text(r) for r in reqs]
        self.assertEqual(completion_texts_at_once(reqs), alone)


class Embeddings(unittest.TestCase):
    def test_hidden_state_embeddings(self):
        status, body = post("/v1/embeddings", {"model": "stories", "input": ["Once upon a time", "The dog"]})
        self.assertEqual(status, 200, body)
        vectors = [d["embedding"] for d in body["data"]]
        self.assertEqual([len(v) for v in vectors], [64, 64])
        for v in vectors:
            self.assertAlmostEqual(sum(x * x for x in v), 1.0, places=4)
        self.assertNotEqual(vectors[0], vectors[1])


class Tokens(unittest.TestCase):
    def test_tokenize_and_detokenize(self):
        status, body = post("/tokenize", {"content": "Once upon a time"})
        self.assertEqual(status, 400, body)  # two generators are served: the model must be named
        self.assertEqual(body["error"]["param"], "model")
        status, body = post("/tokenize", {"model": "stories", "content": "Once upon a time"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["tokens"], [1, 403, 407, 261, 378])
        _, body = post("/tokenize", {"model": "stories", "content": "Once upon", "add_special": False,
                                     "with_pieces": True})
        self.assertEqual(body["tokens"], [{"id": 403, "piece": " Once"}, {"id": 407, "piece": " upon"}])
        _, body = post("/detokenize", {"model": "stories", "tokens": [1, 403, 407, 261, 378], "skip_special": True})
        self.assertEqual(body["content"], "Once upon a time")
        status, body = post("/detokenize", {"model": "stories", "tokens": [99999]})
        self.assertEqual(status, 400)


class ModelsAndMetrics(unittest.TestCase):
    def test_models_list_the_generator_and_metrics_count_tokens(self):
        _, body = SERVER.request("GET", "/v1/models")[:2]
        entry = [m for m in body["data"] if m["id"] == "stories"][0]
        self.assertEqual(entry["task"], "generation")
        self.assertEqual(entry["context_length"], 512)
        self.assertEqual(entry["n_params"], 260032)
        post("/v1/completions", {"model": "stories", "prompt": "Hi", "max_tokens": 4})
        _, text = SERVER.request("GET", "/metrics")[:2]
        for name in ("lmaas_llm_prompt_tokens_total{model=\"stories\"}", "lmaas_llm_generated_tokens_total",
                     "lmaas_llm_time_to_first_token_seconds_bucket", "lmaas_llm_inter_token_latency_seconds_bucket",
                     "lmaas_llm_running_sequences", "lmaas_llm_waiting_sequences", "lmaas_llm_kv_cache_usage_ratio"):
            self.assertIn(name, text)


class Limits(unittest.TestCase):
    def test_a_full_queue_answers_429_and_a_leaving_client_frees_its_slot(self):
        server = Server("--no-auth", "--threads", "1", "--llm-slots", "1", "--llm-queue", "1", "--llm-context", "2048",
                        data_dir=os.path.join(lmaas_server.WORK, "limits"))
        try:
            long = {"model": "slow", "prompt": "Once", "max_tokens": 2000, "ignore_eos": True, "stream": True}
            # One stream runs, one waits; the third is refused.
            holders = []
            for _ in range(2):  # raw sockets, so that closing them surely closes the connection
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                body = json.dumps(long).encode()
                sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                head = b""
                while b"\r\n\r\n" not in head:  # headers come first, for a queued stream too
                    head += sock.recv(4096)
                self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
                while not holders and b"data:" not in head:  # the first holder runs before the second is sent
                    head += sock.recv(4096)
                holders.append(sock)
            status, err = post("/v1/completions", {"model": "slow", "prompt": "x", "max_tokens": 2}, server)
            self.assertEqual(status, 429, err)
            self.assertEqual(err["error"]["code"], "queue_full")
            # Both clients leave mid-stream: their slots free up and a new request is served.
            for sock in holders:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            deadline = time.time() + 20
            while True:
                status, body = post("/v1/completions", {"model": "slow", "prompt": "x", "max_tokens": 2}, server)
                if status == 200 or time.time() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(status, 200, body)
        finally:
            server.stop()


if __name__ == "__main__":
    lmaas_server.LMAAS, DATA = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    import tempfile
    lmaas_server.WORK = tempfile.mkdtemp(prefix="lmaas-llm-serve-test-")
    try:
        unittest.main(argv=sys.argv[:1], verbosity=2)
    finally:
        lmaas_server.finish()
