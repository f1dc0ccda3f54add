"""A price-time priority limit order book with a matching engine, in integer ticks.

Venue-neutral: it knows nothing about wire formats. Every mutating call returns the level
changes it caused (collapsed per level: insert / update / delete) and the fills, so a venue
front-end can publish exactly what happened and a client applying those deltas ends with
exactly this book.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from sortedcontainers import SortedDict

from app.feeds.events import Side

LevelAction = Literal["insert", "update", "delete"]


@dataclass(slots=True)
class RestingOrder:
    """An order in (or entering) the book. `owner` names the agent or account that owns it."""

    order_id: str
    owner: str
    side: Side
    price: int
    qty: int
    leaves: int


@dataclass(slots=True)
class Level:
    """All resting orders at one price, in time priority. `level_id` is arbitrary and unique."""

    price: int
    level_id: int
    size: int = 0
    orders: dict[str, RestingOrder] = field(default_factory=dict)


@dataclass(slots=True)
class LevelChange:
    """The resulting state of one price level after an operation."""

    side: Side
    price: int
    level_id: int
    size: int
    action: LevelAction


@dataclass(slots=True)
class Fill:
    """One match between a resting (maker) order and an incoming (taker) order."""

    maker: RestingOrder
    taker: RestingOrder
    price: int
    qty: int


@dataclass(slots=True)
class BookResult:
    """What one book operation did."""

    changes: list[LevelChange]
    fills: list[Fill]
    rested: bool = False


class OrderBook:
    """Two sorted sides of `Level`s keyed by integer tick price."""

    def __init__(self, level_ids: Iterator[int]) -> None:
        self._ids = level_ids
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.orders: dict[str, RestingOrder] = {}

    # -- queries ---------------------------------------------------------------------------

    def side_map(self, side: Side) -> SortedDict:
        """The bid map for "Buy", the ask map for "Sell"."""
        return self.bids if side == "Buy" else self.asks

    def best(self, side: Side) -> Level | None:
        """Best level of a side (highest bid / lowest ask)."""
        book = self.side_map(side)
        if not book:
            return None
        level: Level = book.peekitem(-1 if side == "Buy" else 0)[1]
        return level

    def levels(self, side: Side, n: int | None = None) -> list[Level]:
        """Levels of a side, best first (all, or the first `n`)."""
        book = self.side_map(side)
        getter = dict.__getitem__
        if side == "Buy":
            start = 0 if n is None else max(0, len(book) - n)
            return [getter(book, k) for k in book.islice(start, None, reverse=True)]
        return [getter(book, k) for k in book.islice(0, n)]

    def nth_price(self, side: Side, n: int) -> int | None:
        """Price of the n-th best level (0-based), or None when the side is shorter."""
        book = self.side_map(side)
        if n >= len(book):
            return None
        key: int = book.keys()[-1 - n] if side == "Buy" else book.keys()[n]
        return key

    def depth(self, side: Side) -> int:
        """Number of levels on a side."""
        return len(self.side_map(side))

    # -- operations ------------------------------------------------------------------------

    def submit(self, order: RestingOrder, *, rest: bool = True) -> BookResult:
        """Match `order` against the opposite side, then rest the remainder if `rest`."""
        touched: dict[tuple[Side, int], tuple[bool, int]] = {}
        fills: list[Fill] = []
        opposite: Side = "Sell" if order.side == "Buy" else "Buy"
        opp_book = self.side_map(opposite)
        while order.leaves > 0 and opp_book:
            level = self.best(opposite)
            assert level is not None
            crosses = (
                level.price <= order.price if order.side == "Buy" else level.price >= order.price
            )
            if not crosses:
                break
            touched.setdefault((opposite, level.price), (True, level.level_id))
            for maker in list(level.orders.values()):
                if order.leaves <= 0:
                    break
                qty = min(maker.leaves, order.leaves)
                maker.leaves -= qty
                order.leaves -= qty
                level.size -= qty
                fills.append(Fill(maker=maker, taker=order, price=level.price, qty=qty))
                if maker.leaves == 0:
                    del level.orders[maker.order_id]
                    self.orders.pop(maker.order_id, None)
            if not level.orders:
                del opp_book[level.price]
        rested = False
        if rest and order.leaves > 0:
            book = self.side_map(order.side)
            level = book.get(order.price)
            if level is None:
                level = Level(price=order.price, level_id=next(self._ids))
                book[order.price] = level
                touched.setdefault((order.side, order.price), (False, level.level_id))
            else:
                touched.setdefault((order.side, order.price), (True, level.level_id))
            level.orders[order.order_id] = order
            level.size += order.leaves
            self.orders[order.order_id] = order
            rested = True
        return BookResult(changes=self._collapse(touched), fills=fills, rested=rested)

    def cancel(self, order_id: str) -> BookResult:
        """Remove a resting order; no-op (empty result) if it is not in the book."""
        order = self.orders.pop(order_id, None)
        if order is None:
            return BookResult(changes=[], fills=[])
        book = self.side_map(order.side)
        level: Level = book[order.price]
        touched = {(order.side, order.price): (True, level.level_id)}
        del level.orders[order_id]
        level.size -= order.leaves
        if not level.orders:
            del book[order.price]
        return BookResult(changes=self._collapse(touched), fills=[])

    def _collapse(self, touched: dict[tuple[Side, int], tuple[bool, int]]) -> list[LevelChange]:
        changes: list[LevelChange] = []
        for (side, price), (existed, level_id) in touched.items():
            level = self.side_map(side).get(price)
            if level is None:
                if existed:
                    changes.append(LevelChange(side, price, level_id, 0, "delete"))
            elif existed:
                changes.append(LevelChange(side, price, level.level_id, level.size, "update"))
            else:
                changes.append(LevelChange(side, price, level.level_id, level.size, "insert"))
        return changes
