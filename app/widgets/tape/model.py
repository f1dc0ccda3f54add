"""Trade tape model: newest print on top, aggressor colours, notional tiers, inline liquidations.

`refresh(rows)` takes the TradeTape's rows once per frame, formats only what is new, and tells
the view with row inserts at the top (plus one range `dataChanged` for a merged head row), so
the view keeps its scroll position and never re-reads 500 rows per print. Every row of a market
is written with the same price and size decimals (`TapeFormat`); only when those grow are the
rows already shown written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.gui.theme import Theme, current_theme, monospace_font
from app.widgets.glyphs import TIMES
from app.widgets.table import FixedColumnsModel, Index
from app.widgets.tape.formatting import TapeFormat
from app.widgets.tape.formatting import fmt_notional as fmt_notional  # for the liquidations
from app.widgets.tape.formatting import fmt_time as fmt_time  # table (re-exported)

if TYPE_CHECKING:
    from app.state.tape import TapeRow

COL_TIME, COL_PRICE, COL_SIZE, COL_COUNT, COL_NOTIONAL = range(5)
HEADERS = ("Time", "Price", "Size", TIMES + "n", "Value")
TIER_ROLE = int(Qt.ItemDataRole.UserRole) + 1
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class TapeModel(FixedColumnsModel):
    """The tape's visible rows with pre-formatted texts and cached brushes."""

    HEADERS = HEADERS

    def __init__(self, tiers: Sequence[float] = ()) -> None:
        super().__init__()
        self._rows: list[TapeRow] = []
        self._texts: list[tuple[str, ...]] = []
        self.tiers = _thresholds(tiers)
        self._format = TapeFormat()
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
        self._emit_all_changed()

    def set_tiers(self, tiers: Sequence[float]) -> None:
        """Value thresholds of the highlight tiers (none: nothing is highlighted)."""
        thresholds = _thresholds(tiers)
        if thresholds != self.tiers:
            self.tiers = thresholds
            self._emit_all_changed()

    @property
    def format(self) -> TapeFormat:
        """The decimals the rows are written with."""
        return self._format

    def set_price_step(self, step: float | None) -> None:
        """The market's tick size (None: unknown; prices then show the decimals of the prints)."""
        if self._format.set_price_step(step):
            self._rewrite_all()

    def set_lot_step(self, step: float | None) -> None:
        """The market's size step (None: sizes show the most decimals any of them had)."""
        if self._format.set_lot_step(step):
            self._rewrite_all()

    def set_size_width(self, chars: int | None) -> None:
        """Characters the Size column shows (None: no limit): a column too narrow for the
        largest size shows fewer decimals."""
        if self._format.set_size_width(chars):
            self._rewrite_all()

    def start_market(self) -> None:
        """Show another market: no rows, and its decimals learned afresh."""
        self._format.reset()
        self._reset([])

    def _rewrite_all(self) -> None:
        self._texts = [self._format.texts(r) for r in self._rows]
        self._emit_all_changed()

    def _emit_all_changed(self) -> None:
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
        anchor = _anchor(old, rows) if old and rows else None
        if anchor is None:
            self._reset(rows)
            return
        j, i = anchor  # old[j] is rows[i]: everything above rows[i] is new or replaced
        inserted = i - j
        head = min(len(rows), i + 1)
        texts = self._format.texts
        rewritten = self._format.learn(rows[:i])
        if rewritten:  # more decimals: the rows already shown are written again
            self._texts = [texts(r) for r in old]
        if inserted:
            self.beginInsertRows(QModelIndex(), 0, inserted - 1)
            self._rows = rows[:inserted] + old
            self._texts = [texts(r) for r in rows[:inserted]] + self._texts
            self.endInsertRows()
        if len(self._rows) > len(rows):
            self.beginRemoveRows(QModelIndex(), len(rows), len(self._rows) - 1)
            del self._rows[len(rows) :]
            del self._texts[len(rows) :]
            self.endRemoveRows()
        # rows above the anchor may have been replaced (a merged head row)
        changed_to = len(self._rows) - 1 if rewritten else -1
        for k in range(head):
            if self._rows[k] is not rows[k]:
                self._rows[k] = rows[k]
                self._texts[k] = texts(rows[k])
                changed_to = max(changed_to, k)
        if self._rows != rows:  # anything else out of step: start over
            self._reset(rows)
            return
        if changed_to >= 0:
            self.dataChanged.emit(self.index(0, 0), self.index(changed_to, len(HEADERS) - 1))

    def _reset(self, rows: list[TapeRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._format.learn(self._rows)
        texts = self._format.texts
        self._texts = [texts(r) for r in self._rows]
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
            return self._format.tooltip(row)
        return None


def _thresholds(tiers: Sequence[float]) -> tuple[float, ...]:
    """Up to three positive thresholds, ascending (0 switches a tier off)."""
    return tuple(sorted(t for t in tiers if t > 0))[:3]


def _anchor(old: list[TapeRow], rows: list[TapeRow]) -> tuple[int, int] | None:
    """(j, i) with old[j] the same row as rows[i], for the first of old's top three rows still
    in `rows` (None when none is, or when rows vanished above it). The scan stops at the first
    of them, so it reads only the new rows."""
    tops = old[:3]
    for i, row in enumerate(rows):
        for j, top in enumerate(tops):
            if row is top:
                return (j, i) if i >= j else None
    return None
