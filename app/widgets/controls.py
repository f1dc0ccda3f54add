"""Small input widgets shared by the docks."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QWidget


def number_box(maximum: float, value: float, tooltip: str, parent: QWidget) -> QDoubleSpinBox:
    """A compact whole-number box (thousands separators, no arrows) that reports a value only
    when editing is finished."""
    box = QDoubleSpinBox(parent)
    box.setDecimals(0)
    box.setRange(0, maximum)
    box.setGroupSeparatorShown(True)
    box.setValue(value)
    box.setToolTip(tooltip)
    box.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
    box.setKeyboardTracking(False)
    return box
