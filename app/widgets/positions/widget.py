"""Positions dock: open positions of the session's account (demo account in --demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.gui.theme import Theme
from app.widgets.binding import follow_frames, price_step
from app.widgets.positions.model import PositionsModel
from app.widgets.table import make_table_view

if TYPE_CHECKING:
    from app.gui.session import FeedSession


class PositionsWidget(QWidget):
    """The positions feature (dock content)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("positionsWidget")
        self.model = PositionsModel()
        self.session: FeedSession | None = None
        self.model.set_step_of(self._price_step)
        self.view = make_table_view(self.model, self, "positionsView", fit_contents=True)
        self.note = QLabel(self)
        self.note.setObjectName("positionsNote")
        self.note.setContentsMargins(6, 2, 6, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)

    def bind_session(self, session: FeedSession | None) -> None:
        """Follow the session's account store (prices at its instruments' ticks)."""
        self.session = follow_frames(self.session, session, self._on_frame)
        self.refresh()

    def apply_theme(self, theme: Theme) -> None:
        """Repaint with the theme's colours."""
        self.model.apply_theme(theme)

    def _price_step(self, symbol: str) -> float | None:
        session = self.session
        return None if session is None else price_step(session, symbol)

    def _on_frame(self, aspects: Any) -> None:
        if "account" in aspects or ("instruments" in aspects and self.model.prices.stale()):
            self.refresh()

    def refresh(self) -> None:
        """Pull open positions from the account store."""
        session = self.session
        if session is None:
            self.model.refresh([])
            self.note.setText("")
            return
        account = session.state.account
        positions = account.positions()
        self.model.refresh(positions)
        # the header fits its columns to the rows only when columns change, not when rows do
        self.view.horizontalHeader().resizeSections()
        # Rows may come from this connection (its own credentials) or be forwarded from the
        # account panel's separate login: either way an account is connected.
        forwarded = getattr(session.state, "forwarded_tables", ())
        if not (session.has_account or "position" in forwarded):
            self.note.setText(" No account connected: positions need API credentials.")
        elif not positions:
            self.note.setText(" No open positions.")
        else:
            self.note.setText("")
