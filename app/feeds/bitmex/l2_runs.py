"""The orderBookL2 hot path: runs of same-symbol delta rows applied to one book's id -> price maps.

A run function walks `rows` (an iterator over a message's `L2Row`s, app.feeds.bitmex.l2_wire)
and applies each row of `symbol` to the side's `id -> price` map, appending `(price, size)`
changes to `bids` or `asks` (size 0.0 removes a price: a delete, or the old price of a level
whose price moved). It stops at the first row of another symbol and returns it, or returns
`END` when the rows run out.

An update or delete for an id the book does not hold raises `UnknownIdError`; an unusable row
raises one of `ROW_ERRORS`. Either way the rows of the run already applied stay applied, so the
caller voids the book. One function per action keeps the per-row work to a few attribute reads,
one dict operation and one output tuple; literal "Buy"/"Sell" keep the comparisons constant
loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from app.feeds.bitmex.l2_wire import UNSET
from app.feeds.bitmex.rows import BadRowError
from app.feeds.events import PriceSize

END: Any = object()  # no more rows

Run = Callable[
    [Iterator[Any], Any, dict[Any, Any], dict[Any, Any], list[PriceSize], list[PriceSize]], Any
]


class UnknownIdError(Exception):
    """An update or delete named an id the book does not hold."""


def update_run(
    rows: Iterator[Any],
    symbol: Any,
    buy: dict[Any, Any],
    sell: dict[Any, Any],
    bids: list[PriceSize],
    asks: list[PriceSize],
) -> Any:
    """Update rows: new sizes, and moved prices for rows that carry one."""
    for r in rows:
        if r.symbol != symbol:
            return r
        side = r.side
        if side == "Buy":
            m = buy
            out = bids
        elif side == "Sell":
            m = sell
            out = asks
        else:
            raise BadRowError(f"bad side {side!r}")
        i = r.id
        try:
            price = m[i]
        except KeyError:
            raise UnknownIdError(f"update for unknown id {i}") from None
        size = r.size
        if size is UNSET:
            raise BadRowError("update without size")
        new_price = r.price
        if new_price is UNSET:  # a sparse row of the era before prices in updates
            out.append((price, size))
        elif new_price != price:
            if new_price is None:
                raise BadRowError("update with null price")
            m[i] = new_price
            out.append((price, 0.0))
            out.append((new_price, size))
        else:
            out.append((price, size))
    return END


def insert_run(
    rows: Iterator[Any],
    symbol: Any,
    buy: dict[Any, Any],
    sell: dict[Any, Any],
    bids: list[PriceSize],
    asks: list[PriceSize],
) -> Any:
    """Insert rows; a re-inserted id at another price first removes its old price."""
    for r in rows:
        if r.symbol != symbol:
            return r
        side = r.side
        if side == "Buy":
            m = buy
            out = bids
        elif side == "Sell":
            m = sell
            out = asks
        else:
            raise BadRowError(f"bad side {side!r}")
        i = r.id
        price = r.price
        size = r.size
        if price is None or price is UNSET:
            raise BadRowError("insert without price")
        if size is UNSET:
            raise BadRowError("insert without size")
        if i in m:
            old = m[i]
            if old != price:
                out.append((old, 0.0))
        m[i] = price
        out.append((price, size))
    return END


def delete_run(
    rows: Iterator[Any],
    symbol: Any,
    buy: dict[Any, Any],
    sell: dict[Any, Any],
    bids: list[PriceSize],
    asks: list[PriceSize],
) -> Any:
    """Delete rows: the level's remembered price goes to size 0."""
    for r in rows:
        if r.symbol != symbol:
            return r
        side = r.side
        if side == "Buy":
            m = buy
            out = bids
        elif side == "Sell":
            m = sell
            out = asks
        else:
            raise BadRowError(f"bad side {side!r}")
        i = r.id
        price = m.pop(i, None)
        if price is None:
            raise UnknownIdError(f"delete for unknown id {i}")
        out.append((price, 0.0))
    return END


RUNS: dict[str, Run] = {"update": update_run, "insert": insert_run, "delete": delete_run}
