"""Typed results of the lmaas API: dataclasses built from the server's JSON (from_json), unknown fields kept
in `extra` so a newer server never breaks an older client."""
from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional


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
