"""lmaas.Client against a real `lmaas serve`: every public route, typed results, errors by status,
retries that honour Retry-After, the environment variables, thread safety, and the SSE iterator."""
import http.server
import json
import socketserver
import threading
import time

import pytest

import lmaas


@pytest.fixture
def client(server, base_url):
    with lmaas.Client(base_url=base_url, api_key=server.infer_key, max_retries=0) as c:
        yield c


@pytest.fixture
def admin(server, base_url):
    with lmaas.Client(base_url=base_url, api_key=server.admin_key, max_retries=0) as c:
        yield c


def test_classify_is_typed_and_probabilities_sum_to_one(client):
    r = client.classify(["a fine, moving film", "dull and far too long"], model="sent-en", top_k=2)
    assert isinstance(r, lmaas.ClassifyResponse) and r.model == "sent-en" and r.version == "1"
    assert [c.index for c in r.data] == [0, 1]
    for c in r.data:
        assert set(c.probabilities) == {"0", "1"}
        assert abs(sum(c.probabilities.values()) - 1) < 1e-5
        assert c.label == max(c.probabilities, key=c.probabilities.get) and c.score == c.probabilities[c.label]
        assert [t.label for t in c.top] == sorted(c.probabilities, key=c.probabilities.get, reverse=True)
    single = client.classify("a fine, moving film", model="sent-en/1")
    assert single.data[0].probabilities == pytest.approx(r.data[0].probabilities, abs=1e-6)  # alone = in a batch
    assert single.data[0].top is None


def test_sentiment_routes_by_script(client):
    r = client.sentiment(["what a great movie", "这家店的菜很好吃"])
    assert [(c.language, c.model) for c in r.data] == [("en", "sent-en/1"), ("zh", "sent-zh/1")]
    assert client.sentiment("great", language="zh").data[0].model == "sent-zh/1"


def test_embeddings_float_and_base64_agree(client):
    f = client.embeddings.create(input=["good", "bad"], model="sent-en")
    b = client.embeddings.create(input=["good", "bad"], model="sent-en", encoding_format="base64")
    assert f.model == "sent-en" and [e.index for e in f.data] == [0, 1]
    assert len(f.data[0].embedding) == 16
    for x, y in zip(f.data, b.data):
        assert x.embedding == pytest.approx(y.embedding, abs=1e-6)
    assert f.usage["prompt_tokens"] == len("good") + len("bad")


def test_models_list_get_and_kserve_infer(client):
    models = {m.id: m for m in client.models.list()}
    assert set(models) == {"sent-en", "sent-zh", "stories", "slow"}
    m = client.models.get("sent-en")
    assert m.ready and m.version == "1" and sorted(m.labels) == ["0", "1"] and m.versions[0].state == "ready"
    assert "dev" in m.metrics
    out = client.infer("sent-en", ["a fine film", "awful"], classification=1, id="req-7")
    assert out.id == "req-7" and out.model_name == "sent-en" and out.outputs[0].shape == [2, 1]
    score, index, label = out.outputs[0].data[0].split(":")
    expected = client.classify("a fine film", model="sent-en").data[0]
    assert label == expected.label and float(score) == pytest.approx(expected.score, abs=1e-5)
    probs = client.infer("sent-en", ["a fine film"], version=1).outputs[0]
    assert probs.datatype == "FP32" and probs.shape == [1, 2]
    assert client.live() and client.ready()
    meta = client.models.metadata("sent-en")
    assert meta["versions"] == ["1"] and meta["inputs"][0]["datatype"] == "BYTES"
    assert client.models.metadata("sent-en", version=1)["name"] == "sent-en"
    assert client.models.ready("sent-en") and client.models.ready("sent-en", 1) and not client.models.ready("nope")
    assert "model_repository" in client.server_metadata()["extensions"]
    assert "/v1/classify" in client.openapi()["paths"]
    assert "lmaas_requests_total" in client.metrics()


def test_errors_are_exceptions_by_status(server, base_url, client):
    with pytest.raises(lmaas.NotFoundError) as e:
        client.classify("x", model="nope")
    assert e.value.status == 404 and e.value.param == "model" and e.value.request_id
    with pytest.raises(lmaas.InvalidRequestError) as e:
        client.classify([], model="sent-en")
    assert e.value.status == 400 and e.value.code
    with pytest.raises(lmaas.InvalidRequestError) as e:
        client.classify("é" * 20001, model="sent-en")
    assert e.value.status == 413 and e.value.code == "input_too_long"
    with pytest.raises(lmaas.AuthenticationError):
        lmaas.Client(base_url=base_url, api_key="lmaas-wrong", max_retries=0).classify("x", model="sent-en")
    with pytest.raises(lmaas.AuthenticationError):
        lmaas.Client(base_url=base_url, api_key="", max_retries=0).models.list()
    with pytest.raises(lmaas.PermissionDeniedError):
        client.keys.list()  # an infer key on a management route
    with pytest.raises(lmaas.APIConnectionError):
        lmaas.Client(base_url="http://127.0.0.1:9", max_retries=0).models.list()


def test_management_keys_usage_load_unload(admin, base_url):
    key = admin.keys.create("sdk-limited", requests_per_minute=2)
    assert key.secret and key.scope == "infer" and key.requests_per_minute == 2
    assert "sdk-limited" in {k.name for k in admin.keys.list()}
    limited = lmaas.Client(base_url=base_url, api_key=key.secret, max_retries=0)
    limited.classify("one", model="sent-en")
    limited.classify("two", model="sent-en")
    with pytest.raises(lmaas.RateLimitError) as e:
        limited.classify("three", model="sent-en")
    assert e.value.retry_after and e.value.retry_after > 0
    rows = admin.usage(key_id=key.id)
    assert sum(r.requests for r in rows) == 2 and {r.model for r in rows} == {"sent-en"}
    admin.keys.revoke("sdk-limited")
    with pytest.raises(lmaas.AuthenticationError):
        limited.classify("four", model="sent-en")
    admin.models.unload("sent-zh")
    assert "sent-zh" not in {m.id for m in admin.models.list()}
    assert ("sent-zh", "unavailable") in {(e["name"], e["state"]) for e in admin.models.index()}
    with pytest.raises(lmaas.NotFoundError) as e:
        admin.sentiment("这家店的菜很好吃")  # its model is unloaded
    assert e.value.code == "model_not_found"
    admin.models.load("sent-zh")
    assert admin.models.get("sent-zh").ready
    assert {(e["name"], e["state"]) for e in admin.models.index()} >= {("sent-en", "ready"), ("sent-zh", "ready")}


def test_environment_variables(server, base_url, monkeypatch):
    monkeypatch.setenv("LMAAS_BASE_URL", base_url)
    monkeypatch.setenv("LMAAS_API_KEY", server.infer_key)
    assert lmaas.Client().classify("fine", model="sent-en").data[0].label in ("0", "1")


def test_threads_share_a_client(client):
    texts = ["a fine film %d" % i for i in range(40)]
    alone = {t: client.classify(t, model="sent-en").data[0].probabilities for t in texts[:5]}
    results, failures = {}, []

    def work(part):
        try:
            for t in part:
                results[t] = client.classify(t, model="sent-en").data[0].probabilities
        except Exception as e:  # reported below
            failures.append(e)

    threads = [threading.Thread(target=work, args=(texts[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and len(results) == 40
    for t, p in alone.items():
        assert results[t] == pytest.approx(p, abs=1e-6)


class _Scripted(http.server.BaseHTTPRequestHandler):
    """A stand-in server for what a healthy lmaas rarely does on demand: answers from a script."""
    script = []
    seen = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Scripted.seen.append((time.monotonic(), self.path))
        status, headers, body = _Scripted.script.pop(0)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if isinstance(body, list):  # server-sent events
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for event in body:
                self.wfile.write(event.encode())
                self.wfile.flush()
            return
        data = json.dumps(body).encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    _Scripted.script, _Scripted.seen = [], []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_retries_honour_retry_after(scripted):
    busy = {"error": {"message": "queue full", "type": "rate_limit_error", "param": None, "code": "queue_full"}}
    ok = {"object": "list", "model": "m", "version": "1",
          "data": [{"index": 0, "label": "a", "score": 1.0, "probabilities": {"a": 1.0}}]}
    _Scripted.script = [(429, {"Retry-After": "1"}, busy), (503, {"Retry-After": "0"}, busy), (200, {}, ok)]
    r = lmaas.Client(base_url=scripted, max_retries=2).classify("x", model="m")
    assert r.data[0].label == "a" and len(_Scripted.seen) == 3
    assert _Scripted.seen[1][0] - _Scripted.seen[0][0] >= 0.95  # waited the second Retry-After asked for
    _Scripted.script = [(429, {"Retry-After": "0"}, busy)] * 2
    with pytest.raises(lmaas.RateLimitError) as e:
        lmaas.Client(base_url=scripted, max_retries=1).classify("x", model="m")
    assert e.value.retry_after == 0 and e.value.code == "queue_full"


def test_streams_are_iterators(scripted):
    events = ['data: {"n": 1}\n\n', 'data: {"n":\ndata: 2}\n\n', ": keep-alive comment\n\n", "data: [DONE]\n\n"]
    _Scripted.script = [(200, {}, events)]
    c = lmaas.Client(base_url=scripted)
    assert [e["n"] for e in c._stream("POST", "/v1/anything", {})] == [1, 2]
    _Scripted.script = [(200, {}, ['data: {"n": 1}\n\n'])]  # cut off before [DONE]
    with pytest.raises(lmaas.APIConnectionError):
        list(c._stream("POST", "/v1/anything", {}))
