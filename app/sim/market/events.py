"""What the simulated exchange reports to its venue front-ends (one listener call per event).

These are the simulator's internal, venue-neutral facts; each front-end (BitMEX, BitMart...)
renders them in its own wire format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from app.feeds.events import Side
from app.sim.market.book import LevelChange

if TYPE_CHECKING:
    from app.sim.market.accounts import DemoAccount, DemoOrder, Execution, Position
    from app.sim.market.bins import Bin
    from app.sim.market.symbol import SymbolMarket


@dataclass(slots=True)
class Print:
    """One trade print (one maker fill). `side` is the aggressor."""

    symbol: str
    side: Side
    price: float
    size: int
    timestamp: float
    match_id: str
    tick_direction: str


@dataclass(slots=True)
class BookChanged:
    """Level changes of one book from one operation, in application order."""

    symbol: str
    changes: list[LevelChange]
    timestamp: float
    kind: Literal["book"] = "book"


@dataclass(slots=True)
class TradesPrinted:
    """All prints of one aggressive order."""

    symbol: str
    prints: list[Print]
    timestamp: float
    kind: Literal["trades"] = "trades"


@dataclass(slots=True)
class BinClosed:
    """A trade bin reached its end time."""

    symbol: str
    timeframe: str
    bin: Bin
    kind: Literal["bin"] = "bin"


@dataclass(slots=True)
class InstrumentTicked:
    """Instrument statistics moved; `fields` names what changed (front-ends pick the rows)."""

    market: SymbolMarket
    fields: tuple[str, ...]
    timestamp: float
    kind: Literal["instrument"] = "instrument"


@dataclass(slots=True)
class FundingApplied:
    """A funding interval ended with `rate`."""

    symbol: str
    rate: float
    timestamp: float
    interval_s: float
    kind: Literal["funding"] = "funding"


@dataclass(slots=True)
class LiquidationOrderChanged:
    """A liquidation order entered the book, filled partly, or left it."""

    symbol: str
    order_id: str
    side: Side
    price: float
    leaves: int
    action: Literal["insert", "update", "delete"]
    kind: Literal["liquidation"] = "liquidation"


@dataclass(slots=True)
class OrderChanged:
    """A demo account's order was created or changed; `execution` is the matching report."""

    account: DemoAccount
    order: DemoOrder
    action: Literal["insert", "update"]
    fields: tuple[str, ...]
    execution: Execution
    kind: Literal["order"] = "order"


@dataclass(slots=True)
class PositionChanged:
    """A demo account's position (or its mark) changed."""

    account: DemoAccount
    position: Position
    fields: tuple[str, ...]
    kind: Literal["position"] = "position"


@dataclass(slots=True)
class MarginChanged:
    """A demo account's margin figures changed; `wallet` when the wallet balance moved too."""

    account: DemoAccount
    currency: str
    wallet: bool
    kind: Literal["margin"] = "margin"


SimEvent = (
    BookChanged
    | TradesPrinted
    | BinClosed
    | InstrumentTicked
    | FundingApplied
    | LiquidationOrderChanged
    | OrderChanged
    | PositionChanged
    | MarginChanged
)
