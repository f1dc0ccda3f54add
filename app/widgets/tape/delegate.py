"""Paints tape cells straight from the model's formatted rows (one call per cell)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.widgets.tape.model import TapeModel

Index = QModelIndex | QPersistentModelIndex
PAD = 4


class TapeDelegate(QStyledItemDelegate):
    """Background tier/liquidation colour, aggressor-coloured text, selection outline."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        model = index.model()
        cell = None
        if isinstance(model, TapeModel):
            cell = model.paint_cell(index.row(), index.column())
        if cell is None:
            super().paint(painter, option, index)
            return
        text, colour, background, font, align = cell
        rect: QRect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        elif background is not None:
            painter.fillRect(rect, background)
        if text:
            painter.setFont(font)
            painter.setPen(colour)
            area = rect.adjusted(PAD, 0, -PAD, 0)
            metrics = painter.fontMetrics()
            if metrics.horizontalAdvance(text) > area.width():
                # never clip the leading digits: 1,059.7… keeps the magnitude, 059.73 would lie
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width())
            painter.drawText(area, Qt.AlignmentFlag(align), text)
