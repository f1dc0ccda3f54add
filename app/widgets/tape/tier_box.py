"""The tape's tier boxes: values as small as 0.00000001 or as large as 1,000,000,000,000, written
without trailing zeros (50,000 · 0.05), read back with or without thousands separators."""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

TIER_DECIMALS = 8
TIER_MAX = 1e12


def fmt_tier(value: float) -> str:
    """A threshold as typed: thousands separators, no trailing zeros (1,000 · 0.05 · 2.5)."""
    text = f"{value:,.{TIER_DECIMALS}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_tier(text: str) -> float | None:
    """A threshold from a box's text (None when it is no number from 0 to TIER_MAX)."""
    cleaned = text.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if not math.isfinite(value) or not 0 <= value <= TIER_MAX:
        return None
    return value


class TierBox(QDoubleSpinBox):
    """A compact box (no arrows) for one tier threshold that reports a value only when editing
    is finished; at 0 it shows its special text (tier off, or tiers still being learned)."""

    def __init__(self, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(TIER_DECIMALS)
        self.setRange(0, TIER_MAX)
        self.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
        self.setKeyboardTracking(False)
        self.setToolTip(tooltip)

    def textFromValue(self, value: float) -> str:
        return fmt_tier(value)

    def valueFromText(self, text: str) -> float:
        value = parse_tier(text)
        return self.value() if value is None else value

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        if stripped and stripped == self.specialValueText():
            return QValidator.State.Acceptable, text, pos
        if stripped in ("", "."):
            return QValidator.State.Intermediate, text, pos
        state = QValidator.State.Acceptable
        if parse_tier(stripped) is None:
            state = QValidator.State.Invalid
        return state, text, pos
