"""Server-side check of BitMEX API-key signatures (authKeyExpires, legacy authKey, headers)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from app.sim.bitmex.constants import (
    E_BAD_SIGNATURE,
    E_EXPIRED,
    E_INVALID_KEY,
    E_NONCE,
    SIGNED_VERB_PATH,
)
from app.sim.market.accounts import DemoAccount


@dataclass(frozen=True)
class AuthOutcome:
    """Result of one authentication attempt: an account, or an HTTP-like status and text."""

    account: DemoAccount | None
    status: int = 200
    error: str | None = None


def expected_signature(secret: str, value: int) -> str:
    """hex(HMAC_SHA256(secret, "GET/realtime" + value)), lowercase."""
    message = f"{SIGNED_VERB_PATH}{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    accounts: dict[str, DemoAccount],
    key: Any,
    value: Any,
    signature: Any,
    *,
    nonce: bool,
    now: float,
) -> AuthOutcome:
    """Check a key / expires-or-nonce / signature triple as BitMEX does.

    Order of checks: unknown key, non-integer value, expiry (expires mode), signature, then the
    strictly increasing nonce (nonce mode). A successful nonce is remembered per key.
    """
    acct = accounts.get(key) if isinstance(key, str) else None
    if acct is None:
        return AuthOutcome(None, 401, E_INVALID_KEY)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not isinstance(signature, str):
        return AuthOutcome(None, 401, E_BAD_SIGNATURE)
    if not nonce and value < int(now):
        return AuthOutcome(None, 401, E_EXPIRED.format(now=int(now)))
    if not hmac.compare_digest(expected_signature(acct.secret, value), signature.lower()):
        return AuthOutcome(None, 401, E_BAD_SIGNATURE)
    if nonce:
        if value <= acct.last_nonce:
            return AuthOutcome(None, 400, E_NONCE.format(nonce=value, last=acct.last_nonce))
        acct.last_nonce = value
    return AuthOutcome(acct)
