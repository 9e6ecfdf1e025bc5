"""Exceptions raised by the lmaas client, one class per kind of server error code.

Every server error has the body {"error": {"message", "type", "param", "code"}}; the exception carries
those fields, the HTTP status and the request id the server answered with.
"""
from __future__ import annotations

from typing import Optional


class LmaasError(Exception):
    """Base of every error this package raises."""


class APIConnectionError(LmaasError):
    """The server could not be reached, or the connection broke before an answer."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class APIStatusError(LmaasError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status: int, type: Optional[str] = None, param: Optional[str] = None,
                 code: Optional[str] = None, request_id: Optional[str] = None, body: object = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        where = f" (param {self.param})" if self.param else ""
        return f"{self.status} {self.code or self.type or 'error'}: {self.message}{where}"


class InvalidRequestError(APIStatusError):
    """400, 405, 413, 415 or 422: the request itself is wrong; sending it again will not help."""


class AuthenticationError(APIStatusError):
    """401: no API key, an unknown one, or a revoked one."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but its scope does not allow the route (e.g. management with an infer key)."""


class NotFoundError(APIStatusError):
    """404: no such model, version, key or route."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the server's state (e.g. a key name already taken)."""


class RateLimitError(APIStatusError):
    """429: a rate limit or the model's queue is full; retry_after is the server's Retry-After in seconds."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed (500), is not ready or is draining (503), or ran out of time (504)."""


def error_class(status: int) -> type:
    """The exception class for an HTTP error status."""
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitError
    if status >= 500 or status == 499:
        return ServerError
    return InvalidRequestError
