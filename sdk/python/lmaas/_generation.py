"""Text generation with a generator model: client.completions.create and client.chat.completions.create,
in the call shapes of the `openai` package, plain or streamed.

    r = client.completions.create(model="stories", prompt="Once upon a time", max_tokens=30, temperature=0)
    r.choices[0].text, r.usage.completion_tokens
    for chunk in client.chat.completions.create(model="stories", messages=[{"role": "user", "content": "Hi"}],
                                                stream=True):
        print(chunk.choices[0].delta.content or "", end="")

A stream is an iterator of chunk objects on a connection of its own; leaving it early (close(), a `with`
block, or dropping it) closes that connection, and the server stops generating.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Generic, Iterable, Iterator, List, Optional, TypeVar, Union

from .types import ChatCompletion, ChatCompletionChunk, Completion

T = TypeVar("T")


class Stream(Generic[T]):
    """The chunks of a streamed generation, in order, until the server's `data: [DONE]`. Iterate once."""

    def __init__(self, events: Iterator[Any], parse: Callable[[Dict[str, Any]], T]):
        self._events, self._parse = events, parse

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return self._parse(next(self._events))

    def close(self) -> None:
        """Closes the connection; the server cancels what it had left to generate."""
        close = getattr(getattr(self, "_events", None), "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Stream[T]":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


# The sampling fields both endpoints share (OpenAI's, then lmaas' extras as vLLM names them).
_SAMPLING = ("max_tokens", "temperature", "top_p", "n", "stop", "seed", "presence_penalty", "frequency_penalty",
             "stream_options", "user", "top_k", "min_p", "repetition_penalty", "ignore_eos")


def _body(fixed: Dict[str, Any], sampling: Dict[str, Any], extra_body: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The request body: the fields given (None means "the server's default"), then extra_body's."""
    body = dict(fixed)
    body.update({k: v for k, v in sampling.items() if v is not None})
    body.update(extra_body or {})
    return body


def _create(client, path: str, body: Dict[str, Any], stream: bool, whole, chunk):
    """The answer as a `whole` object, or with stream a Stream of `chunk` objects."""
    if stream:
        body["stream"] = True
        return Stream(client._stream("POST", path, body), chunk.from_json)
    return whole.from_json(client._json("POST", path, body))


class _Completions:
    def __init__(self, client):
        self._c = client

    def create(self, *, model: str, prompt: Union[str, List[str], List[int], List[List[int]]],
               max_tokens: Optional[int] = None, temperature: Optional[float] = None, top_p: Optional[float] = None,
               n: Optional[int] = None, stop: Optional[Union[str, List[str]]] = None, seed: Optional[int] = None,
               stream: bool = False, stream_options: Optional[Dict[str, Any]] = None, logprobs: Optional[int] = None,
               echo: Optional[bool] = None, presence_penalty: Optional[float] = None,
               frequency_penalty: Optional[float] = None, user: Optional[str] = None, top_k: Optional[int] = None,
               min_p: Optional[float] = None, repetition_penalty: Optional[float] = None,
               ignore_eos: Optional[bool] = None,
               extra_body: Optional[Dict[str, Any]] = None) -> Union[Completion, Stream[Completion]]:
        """Continues `prompt` (text, texts, token ids or lists of them); max_tokens defaults to 16, as OpenAI's.
        stream=True: a Stream of Completion chunks, each carrying the text since the last one."""
        sampling = {k: v for k, v in locals().items() if k in _SAMPLING}
        body = _body({"model": model, "prompt": prompt}, dict(sampling, logprobs=logprobs, echo=echo), extra_body)
        return _create(self._c, "/v1/completions", body, stream, Completion, Completion)


class _ChatCompletions:
    def __init__(self, client):
        self._c = client

    def create(self, *, model: str, messages: Iterable[Dict[str, Any]], max_tokens: Optional[int] = None,
               max_completion_tokens: Optional[int] = None, temperature: Optional[float] = None,
               top_p: Optional[float] = None, n: Optional[int] = None, stop: Optional[Union[str, List[str]]] = None,
               seed: Optional[int] = None, stream: bool = False, stream_options: Optional[Dict[str, Any]] = None,
               logprobs: Optional[bool] = None, top_logprobs: Optional[int] = None,
               presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
               response_format: Optional[Dict[str, Any]] = None, user: Optional[str] = None,
               top_k: Optional[int] = None, min_p: Optional[float] = None, repetition_penalty: Optional[float] = None,
               ignore_eos: Optional[bool] = None,
               extra_body: Optional[Dict[str, Any]] = None) -> Union[ChatCompletion, Stream[ChatCompletionChunk]]:
        """The assistant's reply to `messages` ({"role", "content"}), rendered with the model's chat template;
        without max_tokens the reply may fill the rest of the context. stream=True: a Stream of
        ChatCompletionChunk (the first per choice has delta.role == "assistant")."""
        sampling = {k: v for k, v in locals().items() if k in _SAMPLING}
        body = _body({"model": model, "messages": list(messages)},
                     dict(sampling, max_completion_tokens=max_completion_tokens, logprobs=logprobs,
                          top_logprobs=top_logprobs, response_format=response_format), extra_body)
        return _create(self._c, "/v1/chat/completions", body, stream, ChatCompletion, ChatCompletionChunk)


class _Chat:
    def __init__(self, client):
        self.completions = _ChatCompletions(client)
