"""Typed wire shape of trade insert messages, decoded straight from the frame.

The feed's own trade frames (`{"table":"trade","action":"insert","data":[...]}`) are recognised
by their prefix and decoded by msgspec into `TradeMessage` / `TradeRow` structs, typed as
strictly as the generic path checks them (side "Buy"/"Sell", a string symbol and timestamp,
numeric price and size). A frame that does not fit fails the typed decode and goes through the
generic path, which reports what is wrong with it; the table keeps no state, so nothing is lost
by reading such a frame twice.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from app.feeds.bitmex.constants import INSERT, TRADE


class TradeRow(msgspec.Struct, gc=False):
    """One trade row; the fields the engine reads."""

    timestamp: str
    symbol: str
    side: Literal["Buy", "Sell"]
    size: float
    price: float
    trdMatchID: Any = None  # noqa: N815 (the wire's name)
    foreignNotional: float | None = None  # noqa: N815


class TradeMessage(msgspec.Struct, gc=False):
    """A trade insert message."""

    table: str
    action: str
    data: list[TradeRow]


TEXT_PREFIX = f'{{"table":"{TRADE}","action":"{INSERT}","data":['
BYTE_PREFIX = TEXT_PREFIX.encode()
_decode = msgspec.json.Decoder(TradeMessage).decode
_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)


def decode_trade_insert(frame: str | bytes) -> TradeMessage | None:
    """The typed message of a frame that starts with the prefix, or None when it does not fit."""
    try:
        return _decode(frame)
    except _DECODE_ERRORS:
        return None
