"""BitMEX API-key authentication: HMAC-SHA256 signatures for the realtime API.

signature = hex(HMAC_SHA256(secret, verb + path + str(expires_or_nonce) + body)), lowercase.
The realtime API always signs "GET/realtime", also when connected to /realtimemd. `expires`
is an integer UNIX time in seconds (a float gives "Signature not valid.").
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from app.feeds.bitmex.constants import (
    AUTH_EXPIRES_AHEAD_S,
    AUTH_SIGN_PATH,
    AUTH_VERB,
    HEADER_API_EXPIRES,
    HEADER_API_KEY,
    HEADER_API_SIGNATURE,
    OP_AUTH_KEY,
    OP_AUTH_KEY_EXPIRES,
)


@dataclass(frozen=True)
class ApiCredentials:
    """An API key and its secret. The secret never appears in repr()."""

    key: str
    secret: str = field(repr=False)

    def masked_key(self) -> str:
        """The key shortened for display: first 4 characters, then an ellipsis."""
        return self.key[:4] + "…" if len(self.key) > 4 else "…"


def sign(secret: str, verb: str, path: str, expires_or_nonce: int, body: str = "") -> str:
    """Lowercase hex HMAC-SHA256 of verb + path + str(expires_or_nonce) + body."""
    message = f"{verb}{path}{int(expires_or_nonce)}{body}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def expires_at(now: float | None = None, ahead_s: int = AUTH_EXPIRES_AHEAD_S) -> int:
    """An integer `expires` `ahead_s` seconds after `now` (default: the wall clock)."""
    base = time.time() if now is None else now
    return int(base) + int(ahead_s)


def auth_key_expires_args(creds: ApiCredentials, expires: int) -> list[Any]:
    """Args of the authKeyExpires op: [key, expires, signature of "GET/realtime" + expires]."""
    exp = int(expires)
    return [creds.key, exp, sign(creds.secret, AUTH_VERB, AUTH_SIGN_PATH, exp)]


def auth_key_expires_message(creds: ApiCredentials, expires: int) -> dict[str, Any]:
    """The complete authKeyExpires command."""
    return {"op": OP_AUTH_KEY_EXPIRES, "args": auth_key_expires_args(creds, expires)}


class NonceSource:
    """Strictly increasing integer nonces for the legacy authKey op.

    Based on the wall clock in microseconds so that a restarted process keeps increasing; if the
    clock stalls or steps back, the previous nonce + 1 is used.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> int:
        """The next nonce, always greater than every nonce returned before."""
        candidate = int(self._clock() * 1_000_000)
        self._last = candidate if candidate > self._last else self._last + 1
        return self._last


def auth_key_args(creds: ApiCredentials, nonce: int) -> list[Any]:
    """Args of the legacy authKey op: [key, nonce, signature of "GET/realtime" + nonce]."""
    n = int(nonce)
    return [creds.key, n, sign(creds.secret, AUTH_VERB, AUTH_SIGN_PATH, n)]


def auth_key_message(creds: ApiCredentials, nonces: NonceSource) -> dict[str, Any]:
    """The complete legacy authKey command, with a fresh nonce."""
    return {"op": OP_AUTH_KEY, "args": auth_key_args(creds, nonces.next())}


def auth_headers(creds: ApiCredentials, expires: int) -> dict[str, str]:
    """HTTP headers authenticating the WebSocket upgrade request (signs GET /realtime)."""
    exp = int(expires)
    return {
        HEADER_API_EXPIRES: str(exp),
        HEADER_API_SIGNATURE: sign(creds.secret, AUTH_VERB, AUTH_SIGN_PATH, exp),
        HEADER_API_KEY: creds.key,
    }


def auth_query(creds: ApiCredentials, expires: int) -> str:
    """The same authentication as a URL query string (without the leading '?')."""
    return urlencode(auth_headers(creds, expires))


__all__ = [
    "ApiCredentials",
    "NonceSource",
    "auth_headers",
    "auth_key_args",
    "auth_key_expires_args",
    "auth_key_expires_message",
    "auth_key_message",
    "auth_query",
    "expires_at",
    "sign",
]
