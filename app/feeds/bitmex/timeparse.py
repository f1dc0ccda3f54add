"""Parsing of BitMEX ISO-8601 UTC timestamps ("2021-04-17T16:41:00.033Z") to epoch seconds.

The feed's own shape (24 characters, milliseconds, "Z") takes a fast path: the epoch of the
"YYYY-MM-DDTHH:MM:SS" prefix comes from a small bounded cache and the milliseconds from a
table. Anything else goes through datetime.fromisoformat.
"""

from __future__ import annotations

from datetime import UTC, datetime

_CACHE_MAX = 4096
SECOND_EPOCHS: dict[str, float] = {}  # "YYYY-MM-DDTHH:MM:SS" -> epoch (bounded cache)
MILLIS: dict[str, float] = {f".{i:03d}": i / 1000 for i in range(1000)}  # ".mmm" -> seconds
MILLIS_Z: dict[str, float] = {f"{k}Z": v for k, v in MILLIS.items()}  # ".mmmZ" -> seconds
_fromisoformat = datetime.fromisoformat


def _second_epoch(prefix: str) -> float:
    """Epoch of a "YYYY-MM-DDTHH:MM:SS" prefix read as UTC (raises ValueError if malformed)."""
    value = _fromisoformat(prefix).replace(tzinfo=UTC).timestamp()
    if len(SECOND_EPOCHS) >= _CACHE_MAX:
        SECOND_EPOCHS.clear()
    SECOND_EPOCHS[prefix] = value
    return value


def parse_ts(text: str) -> float:
    """Epoch seconds (UTC) of a BitMEX timestamp; raises ValueError on anything unparsable."""
    try:  # the feed's shape, second already seen (".mmmZ" only matches 24 characters)
        return SECOND_EPOCHS[text[:19]] + MILLIS_Z[text[19:]]
    except (LookupError, TypeError):
        pass
    if type(text) is str and len(text) == 24 and text[23] == "Z":
        millis = MILLIS.get(text[19:23])
        if millis is not None:
            base = SECOND_EPOCHS.get(text[:19])
            if base is None:
                try:
                    base = _second_epoch(text[:19])
                except ValueError as exc:
                    raise ValueError(f"bad timestamp: {text!r}") from exc
            return base + millis
    try:
        parsed = _fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad timestamp: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def parse_ts_or_none(value: object) -> float | None:
    """parse_ts for optional fields: None, non-strings and unparsable text give None."""
    if not isinstance(value, str):
        return None
    try:
        return parse_ts(value)
    except ValueError:
        return None
