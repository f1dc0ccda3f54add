"""Liquidations model: liquidation orders newest first, stamped on receipt (LiquidationRow)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from app.widgets.format import SymbolPriceDecimals, fmt_price, fmt_size
from app.widgets.table import LEFT, Cell, RowTableModel
from app.widgets.tape.model import fmt_notional, fmt_time


class LiquidationsModel(RowTableModel):
    """Received, symbol, side, price, quantity and value when first seen, state.

    Prices show the decimals of their market's tick (`set_step_of`), or the most decimals the
    market's listed prices have while its tick is unknown.
    """

    HEADERS = ("Received", "Symbol", "Side", "Price", "Qty", "Value", "State")

    def __init__(self, big_notional: float = 100_000.0) -> None:
        super().__init__()
        self.big_notional = big_notional
        self.prices = SymbolPriceDecimals()

    def set_step_of(self, step_of: Callable[[str], float | None]) -> None:
        """Where the tick of a symbol is looked up (the bound session's price step)."""
        self.prices.step_of = step_of
        self.refresh(self.items())

    def refresh(self, items: Sequence[Any]) -> None:
        """Show `items`, their prices at their markets' decimals."""
        self.prices.learn((r.symbol, r.price) for r in items)
        super().refresh(items)

    def key(self, item: Any) -> Hashable:
        """A liquidation order is its orderID."""
        return str(item.order_id)

    def cells(self, item: Any) -> list[Cell]:
        r = item
        side_colour = "buy" if r.side == "Buy" else "sell" if r.side == "Sell" else None
        big = r.notional >= self.big_notional
        state = "gone" if r.gone else ("partial" if r.filled_qty > 0 else "resting")
        dim = "dim_text" if r.gone else None
        return [
            Cell(
                fmt_time(r.received_at)[:8],
                fg="dim_text",
                align=LEFT,
                tooltip=fmt_time(r.received_at),
            ),
            Cell(r.symbol, align=LEFT, fg=dim),
            Cell(r.side, fg=side_colour, align=LEFT, bold=big),
            Cell(fmt_price(r.price, self.prices.decimals(r.symbol)), fg=side_colour),
            Cell(
                fmt_size(r.qty, blank_zero=False),
                fg=dim,
                tooltip=f"{fmt_size(r.qty, blank_zero=False)} when first seen, "
                f"{fmt_size(r.leaves_qty, blank_zero=False)} left",
            ),
            Cell(fmt_notional(r.notional), bold=big, bg="liquidation_bg" if big else None),
            Cell(state, fg=dim, align=LEFT),
        ]
