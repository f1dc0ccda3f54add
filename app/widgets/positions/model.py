"""Positions model: one row per open position (PositionView from the AccountStore)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from app.widgets.format import (
    SymbolPriceDecimals,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_signed,
    fmt_size,
)
from app.widgets.glyphs import TIMES
from app.widgets.table import LEFT, Cell, RowTableModel

DIST_ALERT_PCT = 5.0
DIST_WARN_PCT = 20.0
MONEY_DECIMALS = {"XBT": 6, "ETH": 5, "USDT": 2, "USD": 2}
DEFAULT_MONEY_DECIMALS = 4


def distance_band(dist_pct: float | None) -> str | None:
    """Theme colour of the distance-to-liquidation cell: alert < 5%, warn < 20%, else none."""
    if dist_pct is None:
        return None
    if dist_pct < DIST_ALERT_PCT:
        return "alert"
    if dist_pct < DIST_WARN_PCT:
        return "warn"
    return None


def _sign_colour(value: float | None) -> str | None:
    if value is None or value == 0:
        return None
    return "buy" if value > 0 else "sell"


class PositionsModel(RowTableModel):
    """Symbol, side/qty, value, entry, mark, liq, distance, uPnL (ROE%), margin/lev, realised.

    Entry, mark and liquidation prices show the decimals of the market's tick (`set_step_of`),
    or the most decimals the market's listed prices have while the tick is unknown.
    """

    HEADERS = (
        "Symbol",
        "Side / Qty",
        "Value",
        "Entry",
        "Mark",
        "Liq. price",
        "Dist. to liq",
        "uPnL (ROE%)",
        "Margin / Lev",
        "Realised PnL",
    )

    def __init__(self) -> None:
        super().__init__()
        self.prices = SymbolPriceDecimals()

    def set_step_of(self, step_of: Callable[[str], float | None]) -> None:
        """Where the tick of a symbol is looked up (the bound session's price step)."""
        self.prices.step_of = step_of
        self.refresh(self.items())

    def refresh(self, items: Sequence[Any]) -> None:
        """Show `items`, their prices at their markets' decimals."""
        self.prices.learn((p.symbol, price) for p in items for price in (p.entry, p.mark, p.liq))
        super().refresh(items)

    def key(self, item: Any) -> Hashable:
        """A position is (account, symbol, currency)."""
        return (item.account, item.symbol, item.currency)

    def cells(self, item: Any) -> list[Cell]:
        p = item
        side_colour = "buy" if p.side == "Long" else "sell" if p.side == "Short" else None
        cur = p.currency
        md = MONEY_DECIMALS.get(cur, DEFAULT_MONEY_DECIMALS)
        dec = self.prices.decimals(p.symbol)
        band = distance_band(p.dist_to_liq_pct)
        upnl = "" if p.upnl is None else fmt_signed(p.upnl, md)
        if p.roe_pct is not None:
            upnl += f" ({fmt_pct(p.roe_pct, 1, signed=True)})"
        margin = "" if p.margin is None else fmt_money(p.margin, md)
        if p.leverage:
            margin += f" / {p.leverage:g}{TIMES}"
        elif p.cross_margin:
            margin += " / cross"
        realised = "" if p.realised_pnl is None else fmt_signed(p.realised_pnl, md)
        money_tip = f"amounts in {cur}" if cur else None
        return [
            Cell(p.symbol, align=LEFT, bold=True),
            Cell(f"{p.side} {fmt_size(abs(p.qty), blank_zero=False)}", fg=side_colour),
            Cell("" if p.value is None else f"{fmt_money(p.value, md)} {cur}"),
            Cell(fmt_price(p.entry, dec)),
            Cell(fmt_price(p.mark, dec)),
            Cell(fmt_price(p.liq, dec), fg="warn" if p.liq else None),
            Cell(
                fmt_pct(p.dist_to_liq_pct, 1),
                fg=band or "ok",
                bold=band is not None,
                tooltip="|mark - liquidation| / mark",
            ),
            Cell(upnl, fg=_sign_colour(p.upnl), tooltip=money_tip),
            Cell(margin, tooltip=money_tip),
            Cell(realised, fg=_sign_colour(p.realised_pnl), tooltip=money_tip),
        ]
