"""Trade tape model: newest print on top, aggressor colours, notional tiers, inline liquidations.

`refresh(rows)` takes the TradeTape's rows once per frame, formats only what is new, and tells
the view with row inserts at the top (plus one range `dataChanged` for a merged head row), so
the view keeps its scroll position and never re-reads 500 rows per print.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.gui.theme import Theme, current_theme, monospace_font
from app.widgets.format import decimals_for_step, fmt_price, fmt_size
from app.widgets.glyphs import TIMES
from app.widgets.table import FixedColumnsModel, Index

if TYPE_CHECKING:
    from app.state.tape import TapeRow

COL_TIME, COL_PRICE, COL_SIZE, COL_COUNT, COL_NOTIONAL = range(5)
HEADERS = ("Time", "Price", "Size", TIMES + "n", "Value")
DEFAULT_TIERS = (10_000.0, 100_000.0, 1_000_000.0)
TIER_ROLE = int(Qt.ItemDataRole.UserRole) + 1
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def fmt_time(ts: float) -> str:
    """Local wall-clock time with milliseconds."""
    whole = int(ts)
    return time.strftime("%H:%M:%S", time.localtime(whole)) + f".{int((ts - whole) * 1000):03d}"


def fmt_notional(value: float) -> str:
    """Compact quote value: 950 · 12.5K · 1.25M."""
    mag = abs(value)
    if mag >= 1e6:
        return f"{value / 1e6:.2f}M"
    if mag >= 1e4:
        return f"{value / 1e3:.1f}K"
    return f"{value:,.0f}"


class TapeModel(FixedColumnsModel):
    """The tape's visible rows with pre-formatted texts and cached brushes."""

    HEADERS = HEADERS

    def __init__(self, tiers: Sequence[float] = DEFAULT_TIERS) -> None:
        super().__init__()
        self._rows: list[TapeRow] = []
        self._texts: list[tuple[str, ...]] = []
        self.tiers = tuple(sorted(tiers))
        self.decimals = 1
        self._apply_theme(current_theme())

    def _apply_theme(self, theme: Theme) -> None:
        self._buy = QBrush(theme.qcolor("buy"))
        self._sell = QBrush(theme.qcolor("sell"))
        self._text = QBrush(theme.qcolor("text"))
        self._dim = QBrush(theme.qcolor("dim_text"))
        self._liq_bg = QBrush(theme.qcolor("liquidation_bg"))
        self._tier_bg = [
            QBrush(theme.qcolor("tier1_bg")),
            QBrush(theme.qcolor("tier2_bg")),
            QBrush(theme.qcolor("tier3_bg")),
        ]
        self._buy_tint = QBrush(theme.qcolor("buy_bg"))
        self._sell_tint = QBrush(theme.qcolor("sell_bg"))
        self._font = monospace_font()
        self._bold = QFont(self._font)
        self._bold.setBold(True)

    def apply_theme(self, theme: Theme) -> None:
        """New brushes; repaint everything."""
        self._apply_theme(theme)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(HEADERS) - 1)
            )

    def set_tiers(self, tiers: Sequence[float]) -> None:
        """Notional thresholds for the highlight tiers (ascending)."""
        self.tiers = tuple(sorted(t for t in tiers if t > 0))[:3]
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(HEADERS) - 1)
            )

    def set_price_step(self, step: float | None) -> None:
        """Tick size used to format prices (reformats the visible rows)."""
        decimals = decimals_for_step(step) if step else 1
        if decimals != self.decimals:
            self.decimals = decimals
            self._texts = [self._format(r) for r in self._rows]
            if self._rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(self._rows) - 1, len(HEADERS) - 1)
                )

    def tier(self, row: TapeRow) -> int:
        """0 (no highlight) .. 3 by notional thresholds."""
        level = 0
        for i, threshold in enumerate(self.tiers):
            if row.notional >= threshold:
                level = i + 1
        return level

    def _format(self, row: TapeRow) -> tuple[str, ...]:
        # merged rows show their VWAP with one more decimal; single prints get a trailing space
        # so the decimal points line up in the (monospace, right-aligned) column
        if row.count > 1:
            price = fmt_price(row.price, self.decimals + 1)
        else:
            price = fmt_price(row.price, self.decimals) + (" " if self.decimals else "  ")
        count = f"{TIMES}{row.count}" if row.count > 1 else ""
        if row.is_liquidation:
            count = "LIQ"
        return (
            fmt_time(row.timestamp),
            price,
            fmt_size(row.size),
            count,
            fmt_notional(row.notional),
        )

    def paint_cell(self, r: int, c: int) -> tuple[str, QColor, QBrush | None, QFont, int] | None:
        """(text, colour, background, font, alignment) of a cell for the delegate."""
        if not (0 <= r < len(self._rows)) or not (0 <= c < len(HEADERS)):
            return None
        row = self._rows[r]
        level = self.tier(row)
        if c == COL_TIME:
            fg = self._dim
        elif row.is_liquidation:
            fg = self._text
        else:
            fg = self._buy if row.side == "Buy" else self._sell
        bg = self._liq_bg if row.is_liquidation else (self._tier_bg[level - 1] if level else None)
        font = self._bold if (row.is_liquidation or level >= 2) else self._font
        align = _LEFT if c == COL_TIME else _RIGHT
        return self._texts[r][c], fg.color(), bg, font, align

    def rows(self) -> list[TapeRow]:
        """The rows shown, newest first."""
        return list(self._rows)

    def refresh(self, rows: list[TapeRow]) -> None:
        """Show `rows` (newest first): insert what is new at the top, drop what fell off."""
        old = self._rows
        if not old or not rows:
            self._reset(rows)
            return
        position = {id(r): i for i, r in enumerate(rows)}
        anchor = None
        for j in range(min(3, len(old))):
            i = position.get(id(old[j]))
            if i is not None:
                anchor = (j, i)
                break
        if anchor is None or anchor[1] < anchor[0]:
            self._reset(rows)
            return
        inserted = anchor[1] - anchor[0]
        if inserted:
            self.beginInsertRows(QModelIndex(), 0, inserted - 1)
            self._rows = rows[:inserted] + old
            self._texts = [self._format(r) for r in rows[:inserted]] + self._texts
            self.endInsertRows()
        if len(self._rows) > len(rows):
            self.beginRemoveRows(QModelIndex(), len(rows), len(self._rows) - 1)
            del self._rows[len(rows) :]
            del self._texts[len(rows) :]
            self.endRemoveRows()
        # rows above the anchor may have been replaced (a merged head row)
        changed_to = -1
        for i in range(min(len(rows), inserted + anchor[0] + 1)):
            if self._rows[i] is not rows[i]:
                self._rows[i] = rows[i]
                self._texts[i] = self._format(rows[i])
                changed_to = i
        if self._rows != rows:  # anything else out of step: start over
            self._reset(rows)
            return
        if changed_to >= 0:
            self.dataChanged.emit(self.index(0, 0), self.index(changed_to, len(HEADERS) - 1))

    def _reset(self, rows: list[TapeRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._texts = [self._format(r) for r in self._rows]
        self.endResetModel()

    # ---- Qt model interface ----------------------------------------------------------
    def row_total(self) -> int:
        return len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        at = self.cell_at(index)
        if at is None:
            return None
        r, c = at
        row = self._rows[r]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[r][c]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if c == COL_TIME:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if c == COL_TIME:
                return self._dim
            if row.is_liquidation:
                return self._text
            return self._buy if row.side == "Buy" else self._sell
        if role == Qt.ItemDataRole.BackgroundRole:
            if row.is_liquidation:
                return self._liq_bg
            level = self.tier(row)
            if level:
                return self._tier_bg[level - 1]
            return None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if (row.is_liquidation or self.tier(row) >= 2) else self._font
        if role == TIER_ROLE:
            return self.tier(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            kind = "liquidation" if row.is_liquidation else f"{row.count} print(s), VWAP"
            return f"{row.side} {row.size:g} @ {row.price:g} ({kind}), value {row.notional:,.0f}"
        return None
