"""lmaas: the Python client of `lmaas serve` (standard library only).

    import lmaas
    client = lmaas.Client(base_url="http://127.0.0.1:8080", api_key="lmaas-...")  # or LMAAS_BASE_URL / LMAAS_API_KEY
    print(client.classify(["a fine film", "a dull one"], model="sentiment-en").data[1].label)
"""
from ._client import Client
from .errors import (APIConnectionError, APIStatusError, APITimeoutError, AuthenticationError, ConflictError,
                     InvalidRequestError, LmaasError, NotFoundError, PermissionDeniedError, RateLimitError,
                     ServerError)
from .types import (ApiKey, Classification, ClassifyResponse, Embedding, EmbeddingsResponse, InferOutput,
                    InferResponse, LabelScore, Model, ModelVersion, SentimentResponse, Translation,
                    TranslationsResponse, UsageRow)

__version__ = "0.1.0"

__all__ = [
    "Client", "LmaasError", "APIConnectionError", "APITimeoutError", "APIStatusError", "InvalidRequestError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError", "RateLimitError", "ServerError",
    "ApiKey", "Classification", "ClassifyResponse", "Embedding", "EmbeddingsResponse", "InferOutput", "InferResponse",
    "LabelScore", "Model", "ModelVersion", "SentimentResponse", "Translation", "TranslationsResponse", "UsageRow",
]
