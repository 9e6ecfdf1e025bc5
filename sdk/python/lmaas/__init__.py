"""lmaas: the Python client of `lmaas serve` (standard library only).

    import lmaas
    client = lmaas.Client(base_url="http://127.0.0.1:8080", api_key="lmaas-...")  # or LMAAS_BASE_URL / LMAAS_API_KEY
    print(client.classify(["a fine film", "a dull one"], model="sentiment-en").data[1].label)
    print(client.completions.create(model="stories", prompt="Once upon a time", max_tokens=20).choices[0].text)
"""
from ._client import Client
from .errors import (APIConnectionError, APIStatusError, APITimeoutError, AuthenticationError, ConflictError,
                     InvalidRequestError, LmaasError, NotFoundError, PermissionDeniedError, RateLimitError,
                     ServerError)
from ._generation import Stream
from .types import (ApiKey, ChatCompletion, ChatCompletionChoice, ChatCompletionChunk, ChatCompletionChunkChoice,
                    ChatCompletionMessage, ChatCompletionTokenLogprob, ChoiceDelta, ChoiceLogprobs, Classification,
                    ClassifyResponse, Completion, CompletionChoice, CompletionUsage, Embedding, EmbeddingsResponse,
                    InferOutput, InferResponse, LabelScore, Logprobs, Model, ModelVersion, SentimentResponse,
                    TokenizeResponse, TokenPiece, TopLogprob, Translation, TranslationsResponse, UsageRow)

__version__ = "0.1.0"

__all__ = [
    "Client", "LmaasError", "APIConnectionError", "APITimeoutError", "APIStatusError", "InvalidRequestError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError", "RateLimitError", "ServerError",
    "ApiKey", "Classification", "ClassifyResponse", "Embedding", "EmbeddingsResponse", "InferOutput", "InferResponse",
    "LabelScore", "Model", "ModelVersion", "SentimentResponse", "Translation", "TranslationsResponse", "UsageRow",
    "Stream", "Completion", "CompletionChoice", "CompletionUsage", "Logprobs", "ChatCompletion", "ChatCompletionChoice",
    "ChatCompletionMessage", "ChatCompletionChunk", "ChatCompletionChunkChoice", "ChoiceDelta", "ChoiceLogprobs",
    "ChatCompletionTokenLogprob", "TopLogprob", "TokenizeResponse", "TokenPiece",
]
