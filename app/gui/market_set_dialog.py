"""The non-blocking "New market docks…" dialog: pick a venue and a symbol."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QWidget

from app.gui import venues
from app.gui.session import SessionSpec


class MarketSetDialog(QDialog):
    """Venue and symbol for a new ladder/tape/chart set; emits `chosen(SessionSpec)` on OK.

    Open it with `open()` (never `exec()`: no nested event loop under qasync).
    """

    chosen = Signal(object)  # SessionSpec

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("marketSetDialog")
        self.setWindowTitle("New market docks")
        self.venue_box = QComboBox(self)
        self.venue_box.setObjectName("marketSetVenue")
        for key in venues.SELECTABLE:
            self.venue_box.addItem(venues.label(key), key)
        self.symbol_box = QComboBox(self)
        self.symbol_box.setObjectName("marketSetSymbol")
        self.symbol_box.setEditable(True)
        self.symbol_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.symbol_box.setMinimumContentsLength(12)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Venue", self.venue_box)
        form.addRow("Symbol", self.symbol_box)
        form.addRow(buttons)
        self.venue_box.currentIndexChanged.connect(self._on_venue)

    def prepare(self, symbols: list[str]) -> None:
        """Offer these symbols (the current venue's list)."""
        current = self.symbol_box.currentText()
        self.symbol_box.clear()
        self.symbol_box.addItems(symbols)
        self.symbol_box.setCurrentText(current or (symbols[0] if symbols else ""))

    def spec(self) -> SessionSpec | None:
        """The chosen venue and symbol (None without a venue)."""
        key = self.venue_box.currentData()
        if not isinstance(key, str):
            return None
        return SessionSpec(key, venues.symbol_for(key, self.symbol_box.currentText()))

    def _on_venue(self, _index: int) -> None:
        key = self.venue_box.currentData()
        if isinstance(key, str):
            self.symbol_box.setCurrentText(venues.symbol_for(key, self.symbol_box.currentText()))

    def accept(self) -> None:
        spec = self.spec()
        super().accept()
        if spec is not None:
            self.chosen.emit(spec)
