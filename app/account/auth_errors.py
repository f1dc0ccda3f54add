"""Turn the venue's authentication errors into messages a trader can act on.

BitMEX answers a failed ``authKeyExpires`` with ``{"status": 401, "error": "Signature not valid."}``
(wrong secret), ``"Invalid API Key."`` (unknown key), an expiry complaint (clock skew), or 403
for a key that is disabled or lacks permission. A handshake can also be refused with HTTP 401.
None of these is retried like a network failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthProblemKind = Literal["wrong_key", "bad_signature", "expired", "rejected", "rate_limited"]

_TITLES: dict[AuthProblemKind, str] = {
    "wrong_key": "Wrong API key",
    "bad_signature": "Bad signature",
    "expired": "Request expired",
    "rejected": "Login rejected",
    "rate_limited": "Too many attempts",
}

_HINTS: dict[AuthProblemKind, str] = {
    "wrong_key": "The server does not know this key id. Check the key and the environment "
    "(live, testnet and demo keys are different).",
    "bad_signature": "The secret does not match this key id. Paste the secret again.",
    "expired": "The signed request had expired when it arrived. Check that this computer's "
    "clock is correct.",
    "rejected": "The server refused this key (disabled, missing permission, or IP not allowed).",
    "rate_limited": "The server is rate limiting logins. Wait a minute before trying again.",
}


@dataclass(frozen=True)
class AuthProblem:
    """A classified authentication failure."""

    kind: AuthProblemKind
    server_text: str
    status: int | None

    @property
    def title(self) -> str:
        return _TITLES[self.kind]

    @property
    def hint(self) -> str:
        return _HINTS[self.kind]

    def message(self) -> str:
        """One line for the status bar; the panel shows title, hint and server text."""
        code = f" {self.status}" if self.status is not None else ""
        text = f" — server said{code}: {self.server_text}" if self.server_text else ""
        return f"{self.title}{text}"


def classify(error: str | None, status: int | None) -> AuthProblem:
    """Map a server error text/status to one of the problem kinds."""
    text = (error or "").strip()
    low = text.lower()
    kind: AuthProblemKind
    if status == 429 or "rate limit" in low or "too many" in low:
        kind = "rate_limited"
    elif "signature" in low:
        kind = "bad_signature"
    elif "expire" in low or "nonce" in low or "timestamp" in low:
        kind = "expired"
    elif "api key" in low or "apikey" in low or "api-key" in low or "unknown key" in low:
        kind = (
            "wrong_key"
            if ("invalid" in low or "not found" in low or "unknown" in low)
            else ("rejected")
        )
    else:
        kind = "rejected"
    return AuthProblem(kind, text[:300], status)
