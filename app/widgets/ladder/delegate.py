"""Paints ladder cells: background/flash, size bars anchored at the price column, text."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.gui.theme import Theme, current_theme
from app.widgets.ladder.model import COL_BID, COL_SOLD, LadderModel

Index = QModelIndex | QPersistentModelIndex
_BARS_ANCHORED_RIGHT = (COL_BID, COL_SOLD)  # grow leftwards from the price column
PAD = 4


class LadderDelegate(QStyledItemDelegate):
    """Custom painting of every ladder cell (no per-cell widgets)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.apply_theme(current_theme())

    def apply_theme(self, theme: Theme) -> None:
        """Cache the bar colours."""
        self._own = QColor(theme.flash)
        self._grid = QPen(QColor(theme.grid))
        self._grid.setWidth(1)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        model = index.model()
        cell = (
            model.paint_cell(index.row(), index.column())
            if isinstance(model, LadderModel)
            else None
        )
        if cell is None:
            super().paint(painter, option, index)
            return
        rect: QRect = option.rect
        if cell.bg is not None:
            painter.fillRect(rect, cell.bg)
        if cell.bar_colour is not None:
            width = max(1, round((rect.width() - 2) * cell.bar))
            inset = rect.adjusted(1, 3, -1, -3)
            if index.column() in _BARS_ANCHORED_RIGHT:
                bar = QRect(inset.right() - width + 1, inset.top(), width, inset.height())
            else:
                bar = QRect(inset.left(), inset.top(), width, inset.height())
            painter.fillRect(bar, cell.bar_colour)
        if cell.own:
            painter.fillRect(QRect(rect.left(), rect.top() + 2, 3, rect.height() - 4), self._own)
        if cell.text:
            painter.setFont(cell.font)
            painter.setPen(cell.fg)
            area = rect.adjusted(PAD, 0, -PAD, 0)
            text = cell.text
            metrics = painter.fontMetrics()
            if metrics.horizontalAdvance(text) > area.width():
                # never clip the leading digits: 1,059.7… keeps the magnitude, 059.73 would lie
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width())
            painter.drawText(area, cell.align, text)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(self._grid)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
