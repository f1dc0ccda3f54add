"""Liquidation orders: keyed by orderID, stamped on receipt, kept after they leave the book."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from app.feeds.events import TableRows
from app.state.units import as_float

# (symbol, price, qty) -> quote-currency notional
NotionalFn = Callable[[str, float, float], float]


@dataclass(slots=True, frozen=True)
class LiquidationRow:
    """One liquidation order as displayed.

    `qty` is the size first seen, `leaves_qty` what is still resting; `gone` is set when the
    venue deleted the order (filled or pulled); the row then stays in the display history.
    """

    order_id: str
    symbol: str
    side: str
    price: float | None
    qty: float
    leaves_qty: float
    notional: float
    received_at: float
    updated_at: float
    gone: bool = False

    @property
    def filled_qty(self) -> float:
        """Quantity that traded since the order was first seen."""
        return max(0.0, self.qty - self.leaves_qty)


class LiquidationStore:
    """Liquidation orders newest first; only orders that are gone are ever evicted."""

    def __init__(self, maxlen: int = 500, notional_fn: NotionalFn | None = None) -> None:
        self._rows: dict[str, LiquidationRow] = {}
        self._gone: deque[str] = deque()
        self.maxlen = max(1, maxlen)
        self.notional_fn = notional_fn
        self.version = 0
        self.seen = 0

    def _notional(self, symbol: str, price: float | None, qty: float) -> float:
        if price is None:
            return 0.0
        if self.notional_fn is not None:
            return self.notional_fn(symbol, price, qty)
        return abs(price * qty)

    def apply(self, ev: TableRows) -> list[LiquidationRow]:
        """Apply liquidation rows; returns rows that are new (for the tape's inline rows)."""
        new_rows: list[LiquidationRow] = []
        stamp = ev.received_at
        present: set[str] = set()
        for raw in ev.rows:
            order_id = raw.get("orderID")
            if not isinstance(order_id, str) or not order_id:
                continue
            present.add(order_id)
            old = self._rows.get(order_id)
            if ev.action == "delete":
                if old is not None and not old.gone:
                    self._mark_gone(old, stamp)
                continue
            row = self._merge(old, raw, stamp)
            self._rows[order_id] = row
            if old is None:
                self.seen += 1
                new_rows.append(row)
        if ev.action == "partial":
            for order_id, row in list(self._rows.items()):
                if not row.gone and order_id not in present:
                    self._mark_gone(row, stamp)
        self._evict()
        self.version += 1
        return new_rows

    def _merge(
        self, old: LiquidationRow | None, raw: dict[str, Any], stamp: float
    ) -> LiquidationRow:
        symbol = raw.get("symbol")
        side = raw.get("side")
        price = as_float(raw.get("price"))
        leaves = as_float(raw.get("leavesQty"))
        if old is None:
            sym = symbol if isinstance(symbol, str) else ""
            qty = leaves if leaves is not None else 0.0
            return LiquidationRow(
                order_id=str(raw.get("orderID")),
                symbol=sym,
                side=side if isinstance(side, str) else "",
                price=price,
                qty=qty,
                leaves_qty=qty,
                notional=self._notional(sym, price, qty),
                received_at=stamp,
                updated_at=stamp,
            )
        new_price = price if price is not None else old.price
        new_leaves = leaves if leaves is not None else old.leaves_qty
        return replace(
            old,
            symbol=symbol if isinstance(symbol, str) else old.symbol,
            side=side if isinstance(side, str) else old.side,
            price=new_price,
            qty=max(old.qty, new_leaves),
            leaves_qty=new_leaves,
            notional=self._notional(old.symbol, new_price, max(old.qty, new_leaves)),
            updated_at=stamp,
            gone=False,
        )

    def _mark_gone(self, row: LiquidationRow, stamp: float) -> None:
        self._rows[row.order_id] = replace(row, gone=True, updated_at=stamp)
        self._gone.append(row.order_id)

    def _evict(self) -> None:
        rows = self._rows
        gone = self._gone
        while len(rows) > self.maxlen and gone:
            order_id = gone.popleft()
            row = rows.get(order_id)
            if row is not None and row.gone:
                del rows[order_id]

    # ----------------------------------------------------------------- reads
    def rows(self, min_notional: float = 0.0, symbol: str | None = None) -> list[LiquidationRow]:
        """Rows newest first (by receive time), optionally filtered."""
        out = []
        for row in reversed(self._rows.values()):
            if row.notional >= min_notional and (symbol is None or row.symbol == symbol):
                out.append(row)
        return out

    def active(self) -> list[LiquidationRow]:
        """Liquidation orders still resting, newest first."""
        return [r for r in reversed(self._rows.values()) if not r.gone]

    def get(self, order_id: str) -> LiquidationRow | None:
        """One row by orderID."""
        return self._rows.get(order_id)

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        """Forget every row."""
        self._rows.clear()
        self._gone.clear()
        self.version += 1
