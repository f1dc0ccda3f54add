"""Horizontal chart lines for the account: working orders, the position's entry and its
liquidation price.

`AccountLines.update(orders, position)` reuses one `pg.InfiniteLine` per order (keyed by order
id) and one per position level, moving or relabelling it only when its price or text changed,
so an account update costs a few attribute checks and a tick of market data costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt

from app.gui.theme import Theme, current_theme
from app.widgets.format import fmt_price, fmt_size

if TYPE_CHECKING:
    from app.state.account import OrderView, PositionView

ENTRY_KEY = "position:entry"
LIQ_KEY = "position:liq"
POSITION_LABEL_AT = 0.03  # position labels near the left edge
ORDER_LABEL_AT = 0.74  # order labels towards the right, staggered so near prices stay legible
ORDER_LABEL_STAGGER = 0.24
ORDER_LABEL_SLOTS = 3


@dataclass(frozen=True, slots=True)
class LineSpec:
    """What one line shows: price, label text and colour (a theme attribute) and pen style."""

    key: str
    price: float
    text: str
    colour: str
    style: Qt.PenStyle
    label_at: float = POSITION_LABEL_AT  # label position along the line (0 left .. 1 right)


def order_line(order: OrderView, decimals: int, slot: int = 0) -> LineSpec | None:
    """A working order's line: its limit price (or stop price), side colour, "Buy 100 @ p";
    `slot` staggers the label."""
    price = order.price if order.price is not None else order.stop_px
    if price is None:
        return None
    kind = "" if order.ord_type in ("", "Limit") else f"{order.ord_type} "
    text = f"{kind}{order.side} {fmt_size(order.leaves)} @ {fmt_price(price, decimals)}"
    colour = "buy" if order.side == "Buy" else "sell"
    label_at = ORDER_LABEL_AT - ORDER_LABEL_STAGGER * (slot % ORDER_LABEL_SLOTS)
    return LineSpec(f"order:{order.order_id}", price, text, colour, Qt.PenStyle.DashLine, label_at)


def position_lines(position: PositionView | None, decimals: int) -> list[LineSpec]:
    """Entry and liquidation lines of an open position."""
    if position is None or not position.qty:
        return []
    out: list[LineSpec] = []
    size = fmt_size(abs(position.qty))
    if position.entry is not None:
        colour = "buy" if position.qty > 0 else "sell"
        text = f"{position.side} {size} entry {fmt_price(position.entry, decimals)}"
        out.append(LineSpec(ENTRY_KEY, position.entry, text, colour, Qt.PenStyle.SolidLine))
    if position.liq is not None and position.liq > 0:
        text = f"Liq. {fmt_price(position.liq, decimals)} ({position.side} {size})"
        out.append(LineSpec(LIQ_KEY, position.liq, text, "alert", Qt.PenStyle.DotLine))
    return out


class AccountLines:
    """The account's lines on one plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self._lines: dict[str, pg.InfiniteLine] = {}
        self._specs: dict[str, LineSpec] = {}
        self._theme = current_theme()
        self.changes = 0  # lines added, moved, relabelled or removed (for tests)

    def specs(self) -> list[LineSpec]:
        """What is drawn now, orders first (in update order), then the position's lines."""
        return list(self._specs.values())

    def line(self, key: str) -> pg.InfiniteLine | None:
        """The line item of a key (tests)."""
        return self._lines.get(key)

    def update(
        self, orders: Iterable[OrderView], position: PositionView | None, decimals: int
    ) -> None:
        """Show exactly these orders and this position."""
        wanted: dict[str, LineSpec] = {}
        ordered = sorted(orders, key=lambda o: -(o.price or o.stop_px or 0.0))
        for order in ordered:
            spec = order_line(order, decimals, len(wanted))
            if spec is not None:
                wanted[spec.key] = spec
        for spec in position_lines(position, decimals):
            wanted[spec.key] = spec
        for key in [k for k in self._specs if k not in wanted]:
            self._remove(key)
        for key, spec in wanted.items():
            if self._specs.get(key) != spec:
                self._draw(spec)
        self._specs = {k: self._specs[k] for k in wanted}

    def clear(self) -> None:
        """Remove every line."""
        for key in list(self._specs):
            self._remove(key)

    def apply_theme(self, theme: Theme) -> None:
        """Recolour every line."""
        self._theme = theme
        for spec in list(self._specs.values()):
            self._style(self._lines[spec.key], spec)

    def _draw(self, spec: LineSpec) -> None:
        line = self._lines.get(spec.key)
        if line is None:
            line = pg.InfiniteLine(
                pos=spec.price,
                angle=0,
                movable=False,
                label=spec.text,
                labelOpts={"position": spec.label_at, "anchors": [(0, 1), (0, 1)]},
            )
            line.setZValue(5)
            self.plot.addItem(line, ignoreBounds=True)
            self._lines[spec.key] = line
        else:
            line.setPos(spec.price)
        self._specs[spec.key] = spec
        self._style(line, spec)
        self.changes += 1

    def _style(self, line: pg.InfiniteLine, spec: LineSpec) -> None:
        colour = self._theme.qcolor(spec.colour)
        line.setPen(pg.mkPen(colour, width=1, style=spec.style))
        label = line.label
        if label is not None:
            label.setPosition(spec.label_at)
            label.setFormat(spec.text)
            label.setColor(colour)
            label.fill = pg.mkBrush(self._theme.qcolor("base", 200))
            label.update()

    def _remove(self, key: str) -> None:
        line = self._lines.pop(key, None)
        self._specs.pop(key, None)
        if line is not None:
            self.plot.removeItem(line)
            self.changes += 1
