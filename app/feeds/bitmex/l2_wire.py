"""Typed wire shapes of orderBookL2 delta messages, decoded straight from the frame.

The feed's own frames (`{"table":"orderBookL2","action":"update","data":[...]}`, compact, keys
in that order) are recognised by their prefix and decoded by msgspec into `L2Message` /
`L2Row` structs: no intermediate dicts, and attribute reads instead of dict lookups in the hot
path. Fields the engine does not check are typed `Any`, so decoding accepts what the generic
path accepts; a frame that does not fit (a row missing `symbol`, `id` or `side`, a row that is
not an object) fails the typed decode and goes through the generic path instead.

Rows decoded by the generic path become `L2Row`s through `rows_from_dicts`, where a row that
does not convert becomes an `UnusableRow` that raises when the hot path reads it, so the
per-row error handling is the same on both paths.
"""

from __future__ import annotations

from typing import Any

import msgspec

from app.feeds.bitmex.constants import DELETE, INSERT, L2_TABLES, UPDATE
from app.feeds.bitmex.rows import BadRowError

UNSET: Any = msgspec.UNSET  # a field the row does not carry


class L2Row(msgspec.Struct, gc=False):
    """One orderBookL2 delta row; `size`, `price` and `timestamp` may be absent (UNSET)."""

    symbol: Any
    id: Any
    side: Any
    size: Any = UNSET
    price: Any = UNSET
    timestamp: Any = UNSET


class L2Message(msgspec.Struct, gc=False):
    """An orderBookL2 insert/update/delete message."""

    table: str
    action: str
    data: list[L2Row]


class UnusableRow:
    """A delta row that did not convert (not an object, or a key field missing): reading its
    symbol, when it has one, works; reading any other field raises what the dict read did."""

    __slots__ = ("_missing", "_raw")

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._missing = (
            next((f for f in _REQUIRED if f not in raw), None) if type(raw) is dict else None
        )

    def _error(self) -> Exception:
        if self._missing is not None:
            return KeyError(self._missing)
        return BadRowError(f"row is not an object: {type(self._raw).__name__}")

    @property
    def symbol(self) -> Any:
        if type(self._raw) is dict and "symbol" in self._raw:
            return self._raw["symbol"]
        raise self._error()

    @property
    def side(self) -> Any:
        raise self._error()

    @property
    def timestamp(self) -> Any:
        raise self._error()


_REQUIRED = ("symbol", "id", "side")
# Frame prefixes of the feed's own delta shape, as text and as bytes.
TEXT_PREFIXES = tuple(
    f'{{"table":"{table}","action":"{action}","data":['
    for table in sorted(L2_TABLES)
    for action in (UPDATE, INSERT, DELETE)
)
BYTE_PREFIXES = tuple(p.encode() for p in TEXT_PREFIXES)
_decode = msgspec.json.Decoder(L2Message).decode
_convert = msgspec.convert
_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)


def decode_l2_delta(frame: str | bytes) -> L2Message | None:
    """The typed message of a frame that starts with one of the prefixes, or None when it
    does not fit the typed shape (the generic path then reports what is wrong with it)."""
    try:
        return _decode(frame)
    except _DECODE_ERRORS:
        return None


def rows_from_dicts(data: list[Any]) -> list[Any]:
    """Generic-path rows as L2Rows; a row that does not convert becomes an UnusableRow."""
    rows: list[Any] = []
    for raw in data:
        try:
            rows.append(_convert(raw, L2Row))
        except msgspec.ValidationError:
            rows.append(UnusableRow(raw))
    return rows
