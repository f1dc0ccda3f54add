"""Trade tape dock: prints newest first, min-size filter, value highlight tiers, pause.

The tiers fit the market shown: learned from its first prints unless the user set their own
for it (see `tier_controls`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui import settings as cfg
from app.gui import venues
from app.gui.theme import Theme
from app.widgets.binding import follow_frames, lot_step, price_step
from app.widgets.controls import number_box
from app.widgets.glyphs import TIMES
from app.widgets.table import make_table_view
from app.widgets.tape.delegate import PAD, TapeDelegate
from app.widgets.tape.model import COL_COUNT, COL_SIZE, COL_TIME, TapeModel
from app.widgets.tape.tier_controls import TierControls
from app.widgets.tape.tiers import SAMPLE_ROWS, learn_tiers, ready_to_learn

if TYPE_CHECKING:
    from app.gui.session import FeedSession

MAX_ROWS = 500
# fixed columns sized to their widest text; price, size and value share the rest
FIXED_WIDTHS = {COL_TIME: "00:00:00.000", COL_COUNT: TIMES + "999"}


class TapeWidget(QWidget):
    """The tape feature (dock content)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tapeWidget")
        self.model = TapeModel()
        self.session: FeedSession | None = None
        self._symbol = ""
        self._shown_version = -1
        self._shown_at = time.monotonic()
        self.clock = time.monotonic  # how long a market has been shown (tests set it)

        self.min_size = number_box(1e12, 0, "Hide prints smaller than this size", self)
        self.min_size.setObjectName("tapeMinSize")
        self.tier_controls = TierControls(self)
        self.tier_boxes = self.tier_controls.boxes
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setCheckable(True)
        self.pause_button.setObjectName("tapePause")
        self.status = QLabel(self)
        self.status.setObjectName("tapeStatus")

        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.addWidget(QLabel("Min"))
        controls.addWidget(self.min_size)
        controls.addWidget(self.tier_controls)
        controls.addWidget(self.pause_button)
        self.min_size.setMaximumWidth(70)

        self.view = make_table_view(self.model, self, "tapeView", widths=FIXED_WIDTHS)
        self.view.setItemDelegate(TapeDelegate(self.view))
        self.view.setAlternatingRowColors(False)  # tiers and sides colour the rows
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

        # the header reports a section before it stores the new size: measure afterwards
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_size_column)
        self.view.horizontalHeader().sectionResized.connect(lambda *_: self._fit_timer.start())

        self.min_size.valueChanged.connect(self._force_refresh)
        self.tier_controls.tiers_changed.connect(self._on_tiers)
        self.pause_button.toggled.connect(self._on_pause)

    # ---- feature protocol ------------------------------------------------------------
    def bind_session(self, session: FeedSession | None) -> None:
        """Follow the tape of the session's symbol."""
        self.session = follow_frames(self.session, session, self._on_frame)
        self._symbol = session.symbol if session is not None else ""
        self._shown_version = -1
        self._shown_at = self.clock()
        self.model.start_market()
        self.tier_controls.show_market(market_key(session) if session is not None else None)
        self.refresh()

    def apply_theme(self, theme: Theme) -> None:
        """Repaint with the theme's colours."""
        self.model.apply_theme(theme)
        self.tier_controls.apply_theme(theme)

    def save_settings(self, settings: QSettings) -> None:
        """Persist the filter and the user's own tiers (per market)."""
        settings.setValue("min_size", self.min_size.value())
        self.tier_controls.save(settings)

    def restore_settings(self, settings: QSettings) -> None:
        """Restore the filter and the user's own tiers."""
        self.min_size.setValue(cfg.read_float(settings, "min_size", 0.0))
        self.tier_controls.restore(settings)

    # ---- updates ---------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        """True while the tape is frozen."""
        return self.pause_button.isChecked()

    def _on_frame(self, aspects: Any) -> None:
        if f"trades:{self._symbol}" in aspects or "liquidations" in aspects:
            self.refresh()
        elif "instruments" in aspects:
            self._update_step()

    def _force_refresh(self, *_args: object) -> None:
        self._shown_version = -1
        self.refresh()

    def _on_tiers(self, tiers: tuple[float, ...]) -> None:
        self.model.set_tiers(tiers)
        if self.tier_controls.learning:  # back to automatic, or another market: learn now
            self._learn_tiers()

    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if not paused:
            self._force_refresh()
        else:
            self._update_status()

    def _update_step(self) -> None:
        if self.session is not None:
            self.model.set_price_step(price_step(self.session, self._symbol))
            self.model.set_lot_step(lot_step(self.session, self._symbol))

    def _fit_size_column(self) -> None:
        """Tell the model how many characters the Size column shows."""
        width = self.view.horizontalHeader().sectionSize(COL_SIZE)
        digit = max(1, QFontMetrics(self.view.font()).horizontalAdvance("0"))
        self.model.set_size_width((width - 2 * PAD) // digit)

    def refresh(self) -> None:
        """Pull the tape's rows into the model (unless paused)."""
        if self.session is None:
            self.model.refresh([])
            self._update_status()
            return
        tape = self.session.state.tape(self._symbol)
        if self.paused:
            self._update_status()
            return
        if tape.version == self._shown_version:
            return
        self._shown_version = tape.version
        self._update_step()
        if self.tier_controls.learning:
            self._learn_tiers()
        self.model.refresh(tape.rows(MAX_ROWS, min_size=self.min_size.value()))
        self._update_status()

    def _learn_tiers(self) -> None:
        """Learn the market's automatic tiers once it has shown enough prints (a bounded
        sample of the newest rows, read once)."""
        if self.session is None:
            return
        tape = self.session.state.tape(self._symbol)
        if not ready_to_learn(tape.trades_seen, len(tape), self.clock() - self._shown_at):
            return
        values = [r.notional for r in tape.rows(SAMPLE_ROWS) if not r.is_liquidation]
        tiers = learn_tiers(values)
        if tiers is not None:
            self.tier_controls.set_learned(tiers)

    def _update_status(self) -> None:
        if self.session is None:
            self.status.setText("")
            return
        tape = self.session.state.tape(self._symbol)
        text = f" {self._symbol}  {tape.trades_seen:,} prints"
        if self.paused:
            text += "  ·  PAUSED"
        self.status.setText(text)


def market_key(session: FeedSession) -> str:
    """Which market a session shows, as tiers are kept: `venue key:symbol` (demo:XBTUSD,
    bitmart-legacy-demo:XBTUSD); a replay counts as its recorded venue's (replay-bitmex:XBTUSD)."""
    spec = getattr(session, "spec", None)
    venue = getattr(spec, "venue_key", None) or session.state.venue
    if venue == venues.REPLAY:
        venue = f"{venue}-{session.state.venue}"
    return f"{venue}:{session.symbol}"
