"""Normalized, venue-neutral events produced by every feed client.

Feeds parse wire frames into these; `app.state` stores consume them; `depthdesk feed --events`
prints them as JSON lines (`event_to_json`). No Qt imports here or anywhere in `app.feeds`.

Conventions:
- times are UNIX epoch seconds as float (UTC); `received_at` is the local receive time.
- sides are "Buy" / "Sell" (the aggressor side for trades).
- prices and sizes are floats parsed from the venue's own numbers; a book level of size 0 means
  "remove this price".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Side = Literal["Buy", "Sell"]
TableAction = Literal["partial", "insert", "update", "delete"]
FeedState = Literal["connecting", "live", "stale", "reconnecting", "down"]

PriceSize = tuple[float, float]


@dataclass(slots=True)
class BookLevels:
    """L2 book change. snapshot=True replaces the whole book; otherwise size 0 removes a price."""

    venue: str
    symbol: str
    bids: list[PriceSize]
    asks: list[PriceSize]
    snapshot: bool
    timestamp: float | None = None
    kind: Literal["book"] = "book"


@dataclass(slots=True)
class Trade:
    """One print. `side` is the aggressor. `trade_id` is None where the venue gives none."""

    venue: str
    symbol: str
    side: Side
    price: float
    size: float
    timestamp: float
    trade_id: str | None = None
    notional: float | None = None
    kind: Literal["trade"] = "trade"


@dataclass(slots=True)
class Trades:
    """A batch of prints in wire order (oldest first). snapshot=True for a subscription image."""

    venue: str
    symbol: str
    trades: list[Trade]
    snapshot: bool = False
    kind: Literal["trades"] = "trades"


@dataclass(slots=True)
class Bar:
    """One OHLCV candle stamped by its OPEN time (BitMEX end-stamped bins are shifted on parse)."""

    open_time: float
    open: float
    high: float
    low: float
    close: float
    volume: float
    trades: int | None = None


@dataclass(slots=True)
class Bars:
    """Closed (or venue-updated) candles for one timeframe ("1m", "5m", "15m", "1h", "4h", "1d")."""

    venue: str
    symbol: str
    timeframe: str
    bars: list[Bar]
    snapshot: bool = False
    kind: Literal["bars"] = "bars"


@dataclass(slots=True)
class Quote:
    """Top of book."""

    venue: str
    symbol: str
    bid_price: float | None
    bid_size: float | None
    ask_price: float | None
    ask_size: float | None
    timestamp: float | None = None
    kind: Literal["quote"] = "quote"


@dataclass(slots=True)
class Ticker:
    """24h ticker as pushed by the venue (BitMart price/ticker channels)."""

    venue: str
    symbol: str
    last: float | None
    change_pct: float | None = None
    high: float | None = None
    low: float | None = None
    volume: float | None = None
    quote_volume: float | None = None
    timestamp: float | None = None
    kind: Literal["ticker"] = "ticker"


@dataclass(slots=True)
class TableRows:
    """Rows of a keyed venue table after the engine applied them.

    Used for instrument, liquidation, funding, and the private tables order, execution,
    position, margin and wallet. For partial/insert/update the rows are the full rows *after*
    merging sparse updates; for delete they are the last known rows being removed. `keys` are
    the partial's key fields. `received_at` stamps the receive time (liquidations carry none).
    """

    venue: str
    table: str
    action: TableAction
    keys: list[str]
    rows: list[dict[str, Any]]
    received_at: float
    account: str | None = None
    kind: Literal["table"] = "table"


@dataclass(slots=True)
class FeedStatus:
    """Connection state change of one feed connection."""

    venue: str
    state: FeedState
    detail: str = ""
    reconnects: int = 0
    kind: Literal["status"] = "status"


@dataclass(slots=True)
class Latency:
    """Round trip of one heartbeat ping, in milliseconds."""

    venue: str
    rtt_ms: float
    kind: Literal["latency"] = "latency"


@dataclass(slots=True)
class SubscriptionAck:
    """One topic's subscribe/unsubscribe result."""

    venue: str
    topic: str
    op: Literal["subscribe", "unsubscribe"]
    success: bool
    error: str | None = None
    kind: Literal["ack"] = "ack"


@dataclass(slots=True)
class FeedError:
    """A server error reply or a frame the client could not use. Never fatal on its own.
    `warning` marks the client's own notice of a fallback it took (not a server reply)."""

    venue: str
    message: str
    status: int | None = None
    request: Any = None
    warning: bool = False
    kind: Literal["error"] = "error"


@dataclass(slots=True)
class Resync:
    """A table's state was found inconsistent and is being rebuilt from a fresh snapshot."""

    venue: str
    table: str
    symbol: str | None
    reason: str
    kind: Literal["resync"] = "resync"


@dataclass(slots=True)
class AuthResult:
    """Outcome of authentication on a connection."""

    venue: str
    success: bool
    error: str | None = None
    status: int | None = None
    kind: Literal["auth"] = "auth"


@dataclass(slots=True)
class CancelAllAfterReply:
    """Reply to the dead man's switch. cancel_time None means disarmed."""

    venue: str
    now: float
    cancel_time: float | None
    timeout_ms: int
    kind: Literal["cancel_all_after"] = "cancel_all_after"


@dataclass(slots=True)
class Reset:
    """All state of this venue connection is void (reconnect): stores drop what came from it."""

    venue: str
    reason: str = ""
    kind: Literal["reset"] = "reset"


Event = (
    BookLevels
    | Trades
    | Bars
    | Quote
    | Ticker
    | TableRows
    | FeedStatus
    | Latency
    | SubscriptionAck
    | FeedError
    | Resync
    | AuthResult
    | CancelAllAfterReply
    | Reset
)


def event_to_json(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of an event, for `depthdesk feed --events`."""
    return dataclasses.asdict(event)


__all__ = [
    "AuthResult",
    "Bar",
    "Bars",
    "BookLevels",
    "CancelAllAfterReply",
    "Event",
    "FeedError",
    "FeedState",
    "FeedStatus",
    "Latency",
    "PriceSize",
    "Quote",
    "Reset",
    "Resync",
    "Side",
    "SubscriptionAck",
    "TableAction",
    "TableRows",
    "Ticker",
    "Trade",
    "Trades",
    "event_to_json",
]
