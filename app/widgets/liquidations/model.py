"""Liquidations model: liquidation orders newest first, stamped on receipt (LiquidationRow)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from app.widgets.format import fmt_price, fmt_size
from app.widgets.table import LEFT, Cell, RowTableModel
from app.widgets.tape.model import fmt_notional, fmt_time


class LiquidationsModel(RowTableModel):
    """Received, symbol, side, price, quantity and value when first seen, state."""

    HEADERS = ("Received", "Symbol", "Side", "Price", "Qty", "Value", "State")

    def __init__(self, big_notional: float = 100_000.0) -> None:
        super().__init__()
        self.big_notional = big_notional

    def key(self, item: Any) -> Hashable:
        """A liquidation order is its orderID."""
        return str(item.order_id)

    def cells(self, item: Any) -> list[Cell]:
        r = item
        side_colour = "buy" if r.side == "Buy" else "sell" if r.side == "Sell" else None
        big = r.notional >= self.big_notional
        state = "gone" if r.gone else ("partial" if r.filled_qty > 0 else "resting")
        dim = "dim_text" if r.gone else None
        decimals = 1 if r.price is not None and r.price >= 1000 else 2
        return [
            Cell(
                fmt_time(r.received_at)[:8],
                fg="dim_text",
                align=LEFT,
                tooltip=fmt_time(r.received_at),
            ),
            Cell(r.symbol, align=LEFT, fg=dim),
            Cell(r.side, fg=side_colour, align=LEFT, bold=big),
            Cell(fmt_price(r.price, decimals), fg=side_colour),
            Cell(
                fmt_size(r.qty, blank_zero=False),
                fg=dim,
                tooltip=f"{fmt_size(r.qty, blank_zero=False)} when first seen, "
                f"{fmt_size(r.leaves_qty, blank_zero=False)} left",
            ),
            Cell(fmt_notional(r.notional), bold=big, bg="liquidation_bg" if big else None),
            Cell(state, fg=dim, align=LEFT),
        ]
