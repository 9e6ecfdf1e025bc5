"""Typed results of the lmaas API: dataclasses built from the server's JSON (from_json), unknown fields kept
in `extra` so a newer server never breaks an older client."""
from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Dict, List, Optional


def _split(cls, data: Dict[str, Any]) -> Dict[str, Any]:
    """The keyword arguments of `cls` found in `data`, the remaining keys under "extra"."""
    names = {f.name for f in fields(cls)}
    kw = {k: v for k, v in data.items() if k in names and k != "extra"}
    kw["extra"] = {k: v for k, v in data.items() if k not in names}
    return kw


@dataclass
class LabelScore:
    label: str
    score: float


@dataclass
class Classification:
    """One text's result: the most probable label, its probability, every class's probability."""
    index: int
    label: str
    score: float
    probabilities: Dict[str, float]
    top: Optional[List[LabelScore]] = None
    language: Optional[str] = None  # /v1/sentiment: "en" or "zh"
    model: Optional[str] = None     # /v1/sentiment: "name/version" that answered
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Classification":
        kw = _split(cls, data)
        if kw.get("top") is not None:
            kw["top"] = [LabelScore(t["label"], t["score"]) for t in kw["top"]]
        return cls(**kw)


@dataclass
class ClassifyResponse:
    model: str
    version: str
    data: List[Classification]
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ClassifyResponse":
        kw = _split(cls, {k: v for k, v in data.items() if k != "object"})
        kw["data"] = [Classification.from_json(d) for d in data["data"]]
        return cls(**kw)


@dataclass
class Translation:
    """One input's translation and its score (length-normalised log-probability)."""
    index: int
    text: str
    score: Optional[float] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Translation":
        return cls(**_split(cls, data))


@dataclass
class TranslationsResponse:
    model: str
    version: str
    translations: List[Translation]
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "TranslationsResponse":
        kw = _split(cls, {k: v for k, v in data.items() if k != "object"})
        kw["translations"] = [Translation.from_json(d) for d in data["translations"]]
        return cls(**kw)


@dataclass
class SentimentResponse:
    data: List[Classification]
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "SentimentResponse":
        return cls(data=[Classification.from_json(d) for d in data["data"]],
                   extra={k: v for k, v in data.items() if k not in ("data", "object")})


@dataclass
class Embedding:
    index: int
    embedding: List[float]  # decoded from base64 when the request asked for it


@dataclass
class EmbeddingsResponse:
    model: str
    data: List[Embedding]
    usage: Dict[str, int]

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "EmbeddingsResponse":
        rows = []
        for d in data["data"]:
            vec = d["embedding"]
            if isinstance(vec, str):  # encoding_format "base64": little-endian float32
                raw = base64.b64decode(vec)
                vec = list(struct.unpack("<%df" % (len(raw) // 4), raw))
            rows.append(Embedding(index=d["index"], embedding=vec))
        return cls(model=data["model"], data=rows, usage=data.get("usage", {}))


@dataclass
class ModelVersion:
    version: str
    state: str
    reason: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ModelVersion":
        return cls(**_split(cls, data))


@dataclass
class Model:
    """A model name in the repository: its versions and states, and the served version's details."""
    id: str
    versions: List[ModelVersion]
    task: Optional[str] = None
    version: Optional[str] = None  # the version serving now, if any
    labels: Optional[List[str]] = None
    metrics: Optional[Dict[str, Any]] = None
    owned_by: Optional[str] = None
    ready: bool = False
    created: int = 0
    architecture: Optional[str] = None
    context_length: Optional[int] = None  # generators: tokens of context
    n_params: Optional[int] = None        # generators
    weight_type: Optional[str] = None     # generators: "f32", "q8_0", ...
    chat_format: Optional[str] = None     # generators: the chat template's family
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Model":
        kw = _split(cls, {k: v for k, v in data.items() if k != "object"})
        kw["versions"] = [ModelVersion.from_json(v) for v in data.get("versions", [])]
        return cls(**kw)


@dataclass
class InferOutput:
    name: str
    datatype: str
    shape: List[int]
    data: List[Any]


@dataclass
class InferResponse:
    """KServe v2 inference: the outputs as the server sent them."""
    model_name: str
    model_version: Optional[str]
    outputs: List[InferOutput]
    id: Optional[str] = None

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "InferResponse":
        return cls(model_name=data["model_name"], model_version=data.get("model_version"), id=data.get("id"),
                   outputs=[InferOutput(o["name"], o["datatype"], o["shape"], o["data"]) for o in data["outputs"]])


@dataclass
class ApiKey:
    id: int
    name: str
    prefix: str
    scope: str
    created: str
    revoked: Optional[str] = None
    requests_per_minute: Optional[int] = None
    chars_per_minute: Optional[int] = None
    secret: Optional[str] = None  # only in the answer that created the key
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ApiKey":
        return cls(**_split(cls, {k: v for k, v in data.items() if k != "object"}))


@dataclass
class UsageRow:
    key_id: int
    key_name: str
    model: str
    day: str
    requests: int
    characters: int


# --- text generation (OpenAI's completion and chat shapes, attribute access as in the `openai` package) ---

@dataclass
class CompletionUsage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Optional[Dict[str, Any]]) -> Optional["CompletionUsage"]:
        return cls(**_split(cls, data)) if data is not None else None


@dataclass
class Logprobs:
    """Completions' log-probabilities: parallel lists, one entry per generated token."""
    tokens: List[str]
    token_logprobs: List[float]
    top_logprobs: List[Dict[str, float]]
    text_offset: List[int]
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Optional[Dict[str, Any]]) -> Optional["Logprobs"]:
        return cls(**_split(cls, data)) if data is not None else None


@dataclass
class CompletionChoice:
    index: int
    text: str
    finish_reason: Optional[str] = None  # "stop" | "length"; None on a stream's chunks before the last
    logprobs: Optional[Logprobs] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "CompletionChoice":
        kw = _split(cls, data)
        kw["logprobs"] = Logprobs.from_json(kw.get("logprobs"))
        return cls(**kw)


@dataclass
class TopLogprob:
    token: str
    logprob: float
    bytes: Optional[List[int]] = None


@dataclass
class ChatCompletionTokenLogprob:
    token: str
    logprob: float
    bytes: Optional[List[int]] = None
    top_logprobs: List[TopLogprob] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ChatCompletionTokenLogprob":
        return cls(token=data["token"], logprob=data["logprob"], bytes=data.get("bytes"),
                   top_logprobs=[TopLogprob(t["token"], t["logprob"], t.get("bytes")) for t in data.get("top_logprobs", [])])


@dataclass
class ChoiceLogprobs:
    content: Optional[List[ChatCompletionTokenLogprob]] = None

    @classmethod
    def from_json(cls, data: Optional[Dict[str, Any]]) -> Optional["ChoiceLogprobs"]:
        if data is None:
            return None
        content = data.get("content")
        return cls(content=[ChatCompletionTokenLogprob.from_json(t) for t in content] if content is not None else None)


@dataclass
class ChoiceDelta:
    """What a chunk adds to a chat choice: role on the first chunk, content (may be None or "")."""
    content: Optional[str] = None
    role: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ChatCompletionMessage(ChoiceDelta):
    """The assistant's whole message: role "assistant" and the content."""


@dataclass
class _ChatChoice:
    """What a chat choice and a chunk's choice share; `_part` names the field that differs."""
    index: int
    finish_reason: Optional[str] = None
    logprobs: Optional[ChoiceLogprobs] = None
    _part: ClassVar[str] = ""

    @classmethod
    def from_json(cls, data: Dict[str, Any]):
        part_cls = ChatCompletionMessage if cls._part == "message" else ChoiceDelta
        return cls(index=data["index"], finish_reason=data.get("finish_reason"),
                   logprobs=ChoiceLogprobs.from_json(data.get("logprobs")),
                   **{cls._part: part_cls(**_split(part_cls, data.get(cls._part) or {}))})


@dataclass
class ChatCompletionChoice(_ChatChoice):
    message: ChatCompletionMessage = field(default_factory=ChatCompletionMessage)
    _part: ClassVar[str] = "message"


@dataclass
class ChatCompletionChunkChoice(_ChatChoice):
    delta: ChoiceDelta = field(default_factory=ChoiceDelta)
    _part: ClassVar[str] = "delta"


@dataclass
class _Generated:
    """What completions, chat completions and their stream chunks share; `_choice` reads a choice."""
    id: str
    object: str
    created: int
    model: str
    choices: List[Any] = field(default_factory=list)
    usage: Optional[CompletionUsage] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    _choice: ClassVar[Any] = None

    @classmethod
    def from_json(cls, data: Dict[str, Any]):
        kw = _split(cls, data)
        kw["choices"] = [cls._choice.from_json(c) for c in data.get("choices", [])]
        kw["usage"] = CompletionUsage.from_json(data.get("usage"))
        return cls(**kw)


@dataclass
class Completion(_Generated):
    """/v1/completions' answer: choices[i].text; and each chunk of its stream (a chunk's usage is None, but
    on the last chunk when stream_options={"include_usage": True}, whose choices are empty)."""
    choices: List[CompletionChoice] = field(default_factory=list)
    _choice: ClassVar[Any] = CompletionChoice


@dataclass
class ChatCompletion(_Generated):
    """/v1/chat/completions' answer: choices[i].message.content."""
    choices: List[ChatCompletionChoice] = field(default_factory=list)
    _choice: ClassVar[Any] = ChatCompletionChoice


@dataclass
class ChatCompletionChunk(_Generated):
    """One event of a streamed chat completion: choices[i].delta."""
    choices: List[ChatCompletionChunkChoice] = field(default_factory=list)
    _choice: ClassVar[Any] = ChatCompletionChunkChoice


@dataclass
class TokenPiece:
    id: int
    piece: str


@dataclass
class TokenizeResponse:
    """/tokenize: the ids (or, with_pieces, ids with their text), their count, the model's context length."""
    tokens: List[Any]  # List[int], or List[TokenPiece] when asked with_pieces
    count: int
    model: str
    max_model_len: int
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "TokenizeResponse":
        kw = _split(cls, data)
        kw["tokens"] = [TokenPiece(t["id"], t["piece"]) if isinstance(t, dict) else t for t in data["tokens"]]
        return cls(**kw)
