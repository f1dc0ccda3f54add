"""Parsing of BitMEX ISO-8601 UTC timestamps ("2021-04-17T16:41:00.033Z") to epoch seconds.

datetime.fromisoformat (C, Python >= 3.11 accepts the "Z") does the work; repeated strings
(several trades of one match, bins, same-millisecond rows) hit a small bounded cache.
"""

from __future__ import annotations

from datetime import UTC, datetime

_CACHE_MAX = 4096
_cache: dict[str, float] = {}
_fromisoformat = datetime.fromisoformat


def parse_ts(text: str) -> float:
    """Epoch seconds (UTC) of a BitMEX timestamp; raises ValueError on anything unparsable."""
    value = _cache.get(text)
    if value is not None:
        return value
    try:
        parsed = _fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad timestamp: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    value = parsed.timestamp()
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[text] = value
    return value


def parse_ts_or_none(value: object) -> float | None:
    """parse_ts for optional fields: None, non-strings and unparsable text give None."""
    if not isinstance(value, str):
        return None
    try:
        return parse_ts(value)
    except ValueError:
        return None
