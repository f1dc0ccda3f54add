"""Paints ladder cells: background/flash, size bars anchored at the price column, text."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.gui.theme import Theme, current_theme
from app.widgets.ladder.model import (
    BAR_ROLE,
    COL_ASK,
    COL_BID,
    COL_BOUGHT,
    COL_PRICE,
    COL_SOLD,
    OWN_ROLE,
    SIDE_ROLE,
)

Index = QModelIndex | QPersistentModelIndex
_BARS_ANCHORED_RIGHT = (COL_BID, COL_SOLD)  # grow leftwards from the price column
_BAR_COLUMNS = (COL_BID, COL_ASK, COL_SOLD, COL_BOUGHT)
PAD = 4


class LadderDelegate(QStyledItemDelegate):
    """Custom painting of every ladder cell (no per-cell widgets)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.apply_theme(current_theme())

    def apply_theme(self, theme: Theme) -> None:
        """Cache the bar colours."""
        self._bar_buy = QColor(theme.buy_bar)
        self._bar_sell = QColor(theme.sell_bar)
        self._own = QColor(theme.flash)
        self._grid = QPen(QColor(theme.grid))
        self._grid.setWidth(1)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rect: QRect = option.rect
        painter.save()
        background = index.data(Qt.ItemDataRole.BackgroundRole)
        if isinstance(background, QBrush):
            painter.fillRect(rect, background)
        column = index.column()
        if column in _BAR_COLUMNS:
            fraction = index.data(BAR_ROLE)
            if isinstance(fraction, float) and fraction > 0:
                side = index.data(SIDE_ROLE)
                width = max(1, round((rect.width() - 2) * min(1.0, fraction)))
                inset = rect.adjusted(1, 3, -1, -3)
                if column in _BARS_ANCHORED_RIGHT:
                    bar = QRect(inset.right() - width + 1, inset.top(), width, inset.height())
                else:
                    bar = QRect(inset.left(), inset.top(), width, inset.height())
                painter.fillRect(bar, self._bar_buy if side == "Buy" else self._bar_sell)
        if column == COL_PRICE:
            own = index.data(OWN_ROLE)
            if isinstance(own, tuple) and (own[0] or own[1]):
                painter.fillRect(
                    QRect(rect.left(), rect.top() + 2, 3, rect.height() - 4), self._own
                )
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if text:
            font = index.data(Qt.ItemDataRole.FontRole)
            if isinstance(font, QFont):
                painter.setFont(font)
            fg = index.data(Qt.ItemDataRole.ForegroundRole)
            if isinstance(fg, QBrush):
                painter.setPen(fg.color())
            align = index.data(Qt.ItemDataRole.TextAlignmentRole)
            flags = (
                Qt.AlignmentFlag(int(align)) if align is not None else Qt.AlignmentFlag.AlignRight
            )
            painter.drawText(rect.adjusted(PAD, 0, -PAD, 0), flags, str(text))
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(self._grid)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.restore()
