"""The tape's tier controls: three threshold boxes and an "A" (automatic) toggle.

Each market's tiers are automatic until the user types in a box: automatic tiers are learned
once from the market's first prints (nothing is highlighted before), the user's own tiers are
kept per market with the layout. Pressing "A" goes back to the automatic tiers.
"""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from app.gui import settings as cfg
from app.gui.theme import Theme, current_theme
from app.widgets.tape.tier_box import TIER_MAX, TierBox, fmt_tier
from app.widgets.tape.tiers import LEARN_PRINTS, TIER_PERCENTILES

Tiers = tuple[float, float, float]
KEY_USER_TIERS = "user_tiers"  # JSON object: market key -> the user's three thresholds
LEGACY_KEY_TIERS = "tiers"  # one set for every market (older layouts), no longer read
BOX_WIDTH = 74  # "2,000,000" fits; three boxes and the toggle take no more room than
AUTO_WIDTH = 18  # the tape's tier boxes always did
LEARNING_TEXT = "…"  # a box's text while its market's tiers are being learned
OFF_TEXT = "off"  # a box's text for a tier the user switched off (0)
_SHARES = " / ".join(f"{100 - p:g} %" for p in TIER_PERCENTILES)
AUTO_HELP = (
    f"learned once from the market's first {LEARN_PRINTS} prints (fewer on a quiet market):"
    f" the 1-2-5 values that mark about the top {_SHARES} of them. Type in a box to set your own."
)


class TierControls(QWidget):
    """Tier boxes plus the automatic toggle for the market shown; emits `tiers_changed` with
    the thresholds to highlight by (an empty tuple while they are being learned)."""

    tiers_changed = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes = [TierBox(f"Highlight tier {i + 1}: value at least", self) for i in range(3)]
        self.auto_button = QToolButton(self)
        self.auto_button.setObjectName("tapeAutoTiers")
        self.auto_button.setText("A")
        self.auto_button.setCheckable(True)
        self.auto_button.setChecked(True)
        self.auto_button.setFixedWidth(AUTO_WIDTH)
        self._key: str | None = None
        self._user: dict[str, Tiers] = {}
        self._learned: dict[str, Tiers] = {}
        self._filling = False

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(QLabel("Tiers"))
        for i, box in enumerate(self.boxes):
            box.setObjectName(f"tapeTier{i + 1}")
            box.setMaximumWidth(BOX_WIDTH)
            box.valueChanged.connect(self._on_edited)
            layout.addWidget(box)
        layout.addWidget(self.auto_button)
        self.auto_button.toggled.connect(self._on_auto_toggled)
        self.apply_theme(current_theme())
        self._show()

    def apply_theme(self, theme: Theme) -> None:
        """The toggle lit in the theme's highlight while the tiers are automatic."""
        self.auto_button.setStyleSheet(
            f"QToolButton {{ color: {theme.dim_text}; background: {theme.base};"
            f" border: 1px solid {theme.grid}; border-radius: 3px; }}"
            f" QToolButton:checked {{ color: {theme.text}; background: {theme.highlight};"
            f" border-color: {theme.highlight}; font-weight: bold; }}"
        )

    # ---- what the tape reads ---------------------------------------------------------
    @property
    def automatic(self) -> bool:
        """True while the market's tiers are the learned ones (or being learned)."""
        return self._key is None or self._key not in self._user

    @property
    def learning(self) -> bool:
        """True while a market is shown whose automatic tiers are not learned yet."""
        return self._key is not None and self.automatic and self._key not in self._learned

    @property
    def tiers(self) -> tuple[float, ...]:
        """The thresholds in force (empty while learning or with no market)."""
        if self._key is None:
            return ()
        if self._key in self._user:
            return self._user[self._key]
        return self._learned.get(self._key, ())

    def user_tiers(self) -> dict[str, Tiers]:
        """The user's own tiers by market key."""
        return dict(self._user)

    # ---- what the tape tells ---------------------------------------------------------
    def show_market(self, key: str | None) -> None:
        """Show the tiers of market `key` (None: no market; the boxes are disabled)."""
        self._key = key
        self._show()

    def set_learned(self, tiers: Tiers) -> None:
        """The automatic tiers of the market shown, learned from its prints (kept for it)."""
        if self._key is not None:
            self._learned[self._key] = tiers
            self._show()

    def set_automatic(self) -> None:
        """Back to the automatic tiers for the market shown."""
        if self._key is not None:
            self._user.pop(self._key, None)
        self._show()

    def set_user_tiers(self, tiers: Tiers) -> None:
        """The user's own tiers for the market shown."""
        if self._key is not None:
            self._user[self._key] = tiers
        self._show()

    def save(self, settings: QSettings) -> None:
        """Persist the user's tiers (per market)."""
        settings.setValue(KEY_USER_TIERS, json.dumps(self._user, sort_keys=True))
        settings.remove(LEGACY_KEY_TIERS)

    def restore(self, settings: QSettings) -> None:
        """Read the user's tiers back (unreadable entries are skipped)."""
        self._user = parse_user_tiers(cfg.read_str(settings, KEY_USER_TIERS, ""))
        self._show()

    # ---- internals ---------------------------------------------------------------------
    def _on_edited(self, *_args: object) -> None:
        if not self._filling:
            first, second, third = (box.value() for box in self.boxes)
            self.set_user_tiers((first, second, third))

    def _on_auto_toggled(self, checked: bool) -> None:
        if self._filling:
            return
        if checked:
            self.set_automatic()
        else:
            first, second, third = (box.value() for box in self.boxes)
            self.set_user_tiers((first, second, third))

    def _show(self) -> None:
        """Boxes, toggle and tooltips for the current state; tell the tiers in force."""
        tiers = self.tiers
        learning = self.learning
        automatic = self.automatic
        self._filling = True
        try:
            for i, box in enumerate(self.boxes):
                box.setEnabled(self._key is not None)
                box.setSpecialValueText(LEARNING_TEXT if automatic else OFF_TEXT)
                box.setValue(tiers[i] if i < len(tiers) else 0.0)
                box.setToolTip(self._box_tip(i, learning, automatic))
            self.auto_button.setEnabled(self._key is not None)
            self.auto_button.setChecked(automatic)
            self.auto_button.setToolTip(self._auto_tip(learning, automatic, tiers))
        finally:
            self._filling = False
        self.tiers_changed.emit(tiers)

    @staticmethod
    def _box_tip(i: int, learning: bool, automatic: bool) -> str:
        head = f"Highlight tier {i + 1}: value at least"
        if learning:
            return f"{head}. Learning from this market's first prints: nothing is highlighted yet."
        if automatic:
            return f"{head} (automatic: {AUTO_HELP})"
        return f"{head} (your value for this market; 0 switches the tier off)"

    @staticmethod
    def _auto_tip(learning: bool, automatic: bool, tiers: tuple[float, ...]) -> str:
        if learning:
            return f"Automatic tiers, {AUTO_HELP} Nothing is highlighted until then."
        if automatic:
            shown = " / ".join(fmt_tier(t) for t in tiers)
            return f"Automatic tiers ({shown}), {AUTO_HELP}"
        return "Your tiers for this market. Press to go back to automatic tiers."


def parse_user_tiers(raw: str) -> dict[str, Tiers]:
    """The user's tiers from their saved JSON ({} for anything unreadable)."""
    try:
        data: Any = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Tiers] = {}
    for key, values in data.items():
        if not isinstance(values, list) or len(values) != 3:
            continue
        if not all(_is_threshold(v) for v in values):
            continue
        out[str(key)] = (float(values[0]), float(values[1]), float(values[2]))
    return out


def _is_threshold(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= TIER_MAX
    )
