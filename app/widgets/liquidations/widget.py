"""Liquidations dock: liquidation orders as they arrive, with a minimum-value filter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.gui import settings as cfg
from app.gui.theme import Theme
from app.widgets.binding import follow_frames, price_step
from app.widgets.controls import number_box
from app.widgets.liquidations.model import LiquidationsModel
from app.widgets.table import make_table_view

if TYPE_CHECKING:
    from app.gui.session import FeedSession

MAX_ROWS = 300


class LiquidationsWidget(QWidget):
    """The liquidations feature (dock content)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liquidationsWidget")
        self.model = LiquidationsModel()
        self.session: FeedSession | None = None
        self.model.set_step_of(self._price_step)
        self._shown_version = -1
        self.min_value = number_box(1e12, 0, "Hide liquidations worth less than this", self)
        self.min_value.setObjectName("liquidationsMinValue")
        self.min_value.setMaximumWidth(90)
        self.this_symbol = QCheckBox("This symbol only", self)
        self.this_symbol.setObjectName("liquidationsThisSymbol")
        self.count = QLabel(self)
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.addWidget(QLabel("Min value"))
        controls.addWidget(self.min_value)
        controls.addWidget(self.this_symbol)
        controls.addStretch(1)
        controls.addWidget(self.count)
        self.view = make_table_view(
            self.model, self, "liquidationsView", widths={0: "00:00:00", 1: "XBTUSDT"}
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addWidget(self.view, 1)
        self.min_value.valueChanged.connect(self._force_refresh)
        self.this_symbol.toggled.connect(self._force_refresh)

    def bind_session(self, session: FeedSession | None) -> None:
        """Follow the session's liquidation store (prices at its instruments' ticks)."""
        self.session = follow_frames(self.session, session, self._on_frame)
        self._force_refresh()

    def apply_theme(self, theme: Theme) -> None:
        """Repaint with the theme's colours."""
        self.model.apply_theme(theme)

    def save_settings(self, settings: QSettings) -> None:
        """Persist the filters."""
        settings.setValue("min_value", self.min_value.value())
        settings.setValue("this_symbol", self.this_symbol.isChecked())

    def restore_settings(self, settings: QSettings) -> None:
        """Restore the filters."""
        self.min_value.setValue(cfg.read_float(settings, "min_value", 0.0))
        self.this_symbol.setChecked(cfg.read_bool(settings, "this_symbol", False))

    def _price_step(self, symbol: str) -> float | None:
        session = self.session
        return None if session is None else price_step(session, symbol)

    def _on_frame(self, aspects: Any) -> None:
        if "instruments" in aspects and self.model.prices.stale():
            self._force_refresh()
        elif "liquidations" in aspects:
            self.refresh()

    def _force_refresh(self, *_args: object) -> None:
        self._shown_version = -1
        self.refresh()

    def refresh(self) -> None:
        """Pull rows from the liquidation store."""
        session = self.session
        if session is None:
            self.model.refresh([])
            self.count.setText("")
            return
        store = session.state.liquidations
        if store.version == self._shown_version:
            return
        self._shown_version = store.version
        symbol = session.symbol if self.this_symbol.isChecked() else None
        rows = store.rows(min_notional=self.min_value.value(), symbol=symbol)[:MAX_ROWS]
        self.model.refresh(rows)
        active = len(store.active())
        self.count.setText(f"{len(store)} seen · {active} resting ")
