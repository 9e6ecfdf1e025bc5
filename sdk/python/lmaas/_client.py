"""lmaas.Client: the HTTP API of `lmaas serve` from Python, standard library only.

    client = lmaas.Client(base_url="http://127.0.0.1:8080", api_key="lmaas-...")
    client.classify("a fine film", model="sentiment-en").data[0].label
    client.completions.create(model="stories", prompt="Once upon a time", max_tokens=20).choices[0].text

Connections are kept alive (one per thread); a stream takes its connection for itself until it ends. 429 and 503 answers, and connections that fail before an
answer, are retried up to max_retries times: after the server's Retry-After when it gives one, else after
an exponential backoff with jitter. Errors are exceptions by status (lmaas.errors).
"""
from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from . import errors
from ._generation import _Chat, _Completions
from .types import (ApiKey, ClassifyResponse, EmbeddingsResponse, InferResponse, Model, SentimentResponse,
                    TokenizeResponse, TranslationsResponse, UsageRow)

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
Texts = Union[str, Sequence[str]]


class _Response:
    def __init__(self, status: int, headers: Dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Client:
    """A client of one lmaas server. Thread-safe: each thread uses its own kept-alive connection."""

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 60.0,
                 max_retries: int = 2):
        base_url = base_url or os.environ.get("LMAAS_BASE_URL") or DEFAULT_BASE_URL
        self.api_key = api_key if api_key is not None else os.environ.get("LMAAS_API_KEY")
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"base_url '{base_url}' is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._scheme, self._host, self._port = parsed.scheme, parsed.hostname, parsed.port
        self._prefix = parsed.path.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self._local = threading.local()
        self.models = _Models(self)
        self.embeddings = _Embeddings(self)
        self.keys = _Keys(self)
        self.completions = _Completions(self)
        self.chat = _Chat(self)

    # --- task API ---------------------------------------------------------------------------------------
    def classify(self, input: Texts, *, model: str, top_k: Optional[int] = None) -> ClassifyResponse:
        """Label, score and class probabilities of each text; `model` is "name" or "name/version"."""
        body: Dict[str, Any] = {"model": model, "input": _texts(input)}
        if top_k is not None:
            body["top_k"] = top_k
        return ClassifyResponse.from_json(self._json("POST", "/v1/classify", body))

    def sentiment(self, input: Texts, *, language: Optional[str] = None) -> SentimentResponse:
        """Sentiment by the default English or Chinese model, chosen by script unless `language` says."""
        body: Dict[str, Any] = {"input": _texts(input)}
        if language is not None:
            body["language"] = language
        return SentimentResponse.from_json(self._json("POST", "/v1/sentiment", body))

    def translate(self, input: Texts, *, model: str, source_language: Optional[str] = None,
                  target_language: Optional[str] = None, beam_size: Optional[int] = None,
                  max_tokens: Optional[int] = None) -> TranslationsResponse:
        """Translations of each text by a translation model ("name" or "name/version"); the languages, when
        given, must be the model's."""
        body: Dict[str, Any] = {"model": model, "input": _texts(input)}
        for key, value in (("source_language", source_language), ("target_language", target_language),
                           ("beam_size", beam_size), ("max_tokens", max_tokens)):
            if value is not None:
                body[key] = value
        return TranslationsResponse.from_json(self._json("POST", "/v1/translations", body))

    def tokenize(self, model: str, text: str, *, add_special: bool = True,
                 with_pieces: bool = False) -> TokenizeResponse:
        """A generator's token ids for `text` (with its BOS when add_special); with_pieces: TokenPiece(id, piece)."""
        body = {"model": model, "content": text, "add_special": add_special, "with_pieces": with_pieces}
        return TokenizeResponse.from_json(self._json("POST", "/tokenize", body))

    def detokenize(self, model: str, tokens: Sequence[int], *, skip_special: bool = False) -> str:
        """The text of a generator's token ids."""
        body = {"model": model, "tokens": list(tokens), "skip_special": skip_special}
        return self._json("POST", "/detokenize", body)["content"]

    # --- KServe v2 --------------------------------------------------------------------------------------
    def infer(self, model: str, texts: Sequence[str], *, version: Optional[Union[int, str]] = None,
              classification: Optional[int] = None, id: Optional[str] = None) -> InferResponse:
        """KServe v2 inference with a BYTES input; `classification=k` asks for Triton's top-k strings."""
        texts = list(texts)
        body: Dict[str, Any] = {"inputs": [{"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}]}
        if classification is not None:
            body["outputs"] = [{"name": "probabilities", "parameters": {"classification": classification}}]
        if id is not None:
            body["id"] = id
        return InferResponse.from_json(self._json("POST", _kserve_path(model, version) + "/infer", body))

    def server_metadata(self) -> Dict[str, Any]:
        """KServe v2 server metadata: name, version, extensions."""
        return self._json("GET", "/v2")

    def metrics(self) -> str:
        """The Prometheus text of GET /metrics."""
        return self._request("GET", "/metrics").body.decode("utf-8")

    def openapi(self) -> Dict[str, Any]:
        """The server's OpenAPI description of every route."""
        return self._json("GET", "/openapi.json")

    def live(self) -> bool:
        return self._request("GET", "/v2/health/live", None, retry=False).status == 200

    def ready(self) -> bool:
        """True when every model has loaded and the server is not draining."""
        try:
            return self._request("GET", "/v2/health/ready", None, retry=False).status == 200
        except errors.ServerError:
            return False

    # --- management -------------------------------------------------------------------------------------
    def usage(self, *, key_id: Optional[int] = None, since: Optional[str] = None) -> List[UsageRow]:
        """Requests and characters per key, model and UTC day (admin); `since` is YYYY-MM-DD."""
        query = {k: v for k, v in (("key_id", key_id), ("since", since)) if v is not None}
        path = "/v1/usage" + ("?" + urllib.parse.urlencode(query) if query else "")
        return [UsageRow(**{k: r[k] for k in UsageRow.__dataclass_fields__}) for r in self._json("GET", path)["data"]]

    # --- transport --------------------------------------------------------------------------------------
    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self._request(method, path, body)
        return response.json()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _headers(self, has_body: bool) -> Dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "lmaas-python"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = "Bearer " + self.api_key
        return headers

    def _send(self, method: str, path: str, payload: Optional[bytes], stream: bool = False):
        """One attempt: a _Response, or for a stream that the server accepted a _Streaming (the response
        unread, its connection taken from this thread's)."""
        conn = self._connection()
        try:
            conn.request(method, self._prefix + path, body=payload, headers=self._headers(payload is not None))
            response = conn.getresponse()
            if stream and response.status < 400:
                self._local.conn = None
                return _Streaming(response, conn)
            body = response.read()
        except TimeoutError as e:  # socket.timeout
            self._drop_connection()
            raise errors.APITimeoutError(f"{method} {path}: no answer within {self.timeout} s") from e
        except (OSError, http.client.HTTPException) as e:
            self._drop_connection()
            raise errors.APIConnectionError(f"{method} {path}: {e.__class__.__name__}: {e}") from e
        if response.will_close:
            self._drop_connection()
        return _Response(response.status, _lower_headers(response), body)

    def _request(self, method: str, path: str, body: Any = None, retry: bool = True, stream: bool = False):
        """The answer (a _Streaming when `stream` and the server accepted), retried as the module says; an
        error status raised."""
        payload = json.dumps(body).encode() if body is not None else None
        attempt = 0
        while True:
            try:
                response = self._send(method, path, payload, stream)
            except errors.APIConnectionError:
                if not retry or attempt >= self.max_retries:
                    raise
                time.sleep(_backoff(attempt, None))
                attempt += 1
                continue
            if response.status < 400:
                return response
            error = _status_error(response)
            if retry and attempt < self.max_retries and response.status in (429, 503):
                time.sleep(_backoff(attempt, getattr(error, "retry_after", None) or _retry_after(response.headers)))
                attempt += 1
                continue
            raise error

    def _stream(self, method: str, path: str, body: Any = None) -> Iterator[Any]:
        """A server-sent-events response as an iterator of its JSON events, ending at "data: [DONE]". The
        request is sent (and its errors raised) now; the events are read as the iterator is."""
        return _SseEvents(self._request(method, path, body, stream=True))

    def close(self) -> None:
        self._drop_connection()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Streaming:
    """A stream the server accepted: its unread response and the connection it alone now uses."""

    def __init__(self, response: http.client.HTTPResponse, conn: http.client.HTTPConnection):
        self.status, self.response, self.conn = response.status, response, conn

    def close(self) -> None:
        self.response.close()
        self.conn.close()  # the connection's state after a stream is not worth trusting


class _SseEvents:
    """The JSON events of a server-sent-events response, until "data: [DONE]" (an event's data may span
    several `data:` lines). The stream's connection is closed when it ends, fails or is closed early, read
    or not (the server then stops the work)."""

    def __init__(self, streaming: _Streaming):
        self._streaming = streaming
        self._events = self._read()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return next(self._events)

    def close(self) -> None:
        self._events.close()
        self._streaming.close()

    def _read(self) -> Iterator[Any]:
        response, data = self._streaming.response, []
        try:
            while True:
                line = self._readline(response)
                if line is None:
                    break
                if line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
                    continue
                if line == "" and data:
                    text = "\n".join(data)
                    data = []
                    if text == "[DONE]":
                        return
                    event = json.loads(text)
                    if isinstance(event, dict) and "error" in event:
                        e = event["error"]
                        raise errors.ServerError(e.get("message", "stream error"), status=500, type=e.get("type"),
                                                 param=e.get("param"), code=e.get("code"), body=event)
                    yield event
            raise errors.APIConnectionError("the stream ended before data: [DONE]")
        finally:
            self._streaming.close()

    def _readline(self, response: http.client.HTTPResponse) -> Optional[str]:
        """The next line without its end, None at the end of the body."""
        try:
            raw = response.readline()
        except TimeoutError as e:
            raise errors.APITimeoutError(f"the stream sent nothing for {self._streaming.conn.timeout} s") from e
        except (OSError, http.client.HTTPException) as e:
            raise errors.APIConnectionError(f"the stream broke: {e.__class__.__name__}: {e}") from e
        return raw.decode("utf-8").rstrip("\r\n") if raw else None


def _lower_headers(response: http.client.HTTPResponse) -> Dict[str, str]:
    return {k.lower(): v for k, v in response.getheaders()}


def _texts(input: Texts) -> Union[str, List[str]]:
    return input if isinstance(input, str) else list(input)


def _segment(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def _kserve_path(model: str, version: Optional[Union[int, str]]) -> str:
    return f"/v2/models/{_segment(model)}" + (f"/versions/{_segment(str(version))}" if version is not None else "")


def _retry_after(headers: Dict[str, str]) -> Optional[float]:
    try:
        return float(headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _backoff(attempt: int, retry_after: Optional[float]) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), 60.0)
    return min(0.5 * 2 ** attempt, 8.0) * (0.5 + random.random() / 2)


def _status_error(response: _Response) -> errors.APIStatusError:
    try:
        body = response.json()
    except ValueError:
        body = None
    e = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    message = e.get("message") or response.body.decode("utf-8", "replace")[:500] or f"HTTP {response.status}"
    kw = dict(status=response.status, type=e.get("type"), param=e.get("param"), code=e.get("code"),
              request_id=response.headers.get("x-request-id"), body=body)
    cls = errors.error_class(response.status)
    if cls is errors.RateLimitError:
        return cls(message, retry_after=_retry_after(response.headers), **kw)
    return cls(message, **kw)


class _Models:
    def __init__(self, client: Client):
        self._c = client

    def list(self) -> List[Model]:
        return [Model.from_json(m) for m in self._c._json("GET", "/v1/models")["data"]]

    def get(self, id: str) -> Model:
        return Model.from_json(self._c._json("GET", "/v1/models/" + _segment(id)))

    def metadata(self, name: str, version: Optional[Union[int, str]] = None) -> Dict[str, Any]:
        """KServe v2 model metadata: versions, platform, input and output tensors."""
        return self._c._json("GET", _kserve_path(name, version))

    def ready(self, name: str, version: Optional[Union[int, str]] = None) -> bool:
        """KServe v2 model readiness."""
        try:
            return self._c._request("GET", _kserve_path(name, version) + "/ready", retry=False).status == 200
        except (errors.NotFoundError, errors.ServerError):
            return False

    def load(self, name: str) -> None:
        """Loads (or reloads, with the newest version on disk) a model of the repository (admin)."""
        self._c._json("POST", f"/v2/repository/models/{_segment(name)}/load")

    def unload(self, name: str) -> None:
        self._c._json("POST", f"/v2/repository/models/{_segment(name)}/unload")

    def index(self) -> List[Dict[str, Any]]:
        """Every model version on disk with its state (admin)."""
        return self._c._json("POST", "/v2/repository/index", {})


class _Embeddings:
    def __init__(self, client: Client):
        self._c = client

    def create(self, *, input: Texts, model: str, encoding_format: str = "float") -> EmbeddingsResponse:
        body = {"model": model, "input": _texts(input), "encoding_format": encoding_format}
        return EmbeddingsResponse.from_json(self._c._json("POST", "/v1/embeddings", body))


class _Keys:
    def __init__(self, client: Client):
        self._c = client

    def create(self, name: str, *, scope: str = "infer", requests_per_minute: Optional[int] = None,
               chars_per_minute: Optional[int] = None) -> ApiKey:
        """A new key (admin); its secret is in the answer and nowhere else."""
        body: Dict[str, Any] = {"name": name, "scope": scope}
        if requests_per_minute is not None:
            body["requests_per_minute"] = requests_per_minute
        if chars_per_minute is not None:
            body["chars_per_minute"] = chars_per_minute
        return ApiKey.from_json(self._c._json("POST", "/v1/keys", body))

    def list(self) -> List[ApiKey]:
        return [ApiKey.from_json(k) for k in self._c._json("GET", "/v1/keys")["data"]]

    def revoke(self, key: Union[int, str]) -> None:
        """Revokes a key by id or name (admin)."""
        self._c._json("DELETE", "/v1/keys/" + _segment(str(key)))
