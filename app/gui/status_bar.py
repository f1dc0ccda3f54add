"""Status bar: per-feed connection state, last-message age, ping RTT, message rate, reconnects."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.bridge import STATUS_ASPECT, FeedHealth
from app.gui.theme import Theme, current_theme
from app.widgets.glyphs import EN_DASH

if TYPE_CHECKING:
    from app.gui.session import FeedSession

REFRESH_MS = 500
STALE_AGE_S = 5.0

_STATE_COLOUR = {
    "connecting": "dim_text",
    "live": "ok",
    "stale": "warn",
    "reconnecting": "warn",
    "down": "alert",
}


def _fmt_age(age: float | None) -> str:
    if age is None:
        return EN_DASH
    if age < 10:
        return f"{age:.1f}s"
    if age < 120:
        return f"{age:.0f}s"
    return f"{age / 60:.0f}m"


def feed_text(label: str, health: FeedHealth, age: float | None, rate: float) -> str:
    """The one-line summary of a feed for the status bar."""
    rtt = EN_DASH if health.rtt_ms is None else f"{health.rtt_ms:.0f} ms"
    return (
        f"{label}: {health.state}  ·  last {_fmt_age(age)}  ·  ping {rtt}"
        f"  ·  {rate:.0f} msg/s  ·  reconnects {health.reconnects}"
    )


class FeedIndicator(QLabel):
    """One feed's coloured dot and summary text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("feedIndicator")
        self.setTextFormat(self.textFormat().RichText)

    def show_health(self, label: str, health: FeedHealth, age: float | None, rate: float) -> None:
        """Render the summary with the state's colour."""
        theme = current_theme()
        state = health.state
        if state == "live" and age is not None and age > STALE_AGE_S:
            state = "stale"
        colour = getattr(theme, _STATE_COLOUR.get(state, "dim_text"))
        text = feed_text(label, health, age, rate).replace(
            f": {health.state}", f": <b style='color:{colour}'>{state}</b>", 1
        )
        self.setText(f"<span style='color:{colour}'>●</span> {text}")
        self.setToolTip(health.detail or health.last_error or state)


class StatusBar(QStatusBar):
    """Shows every feed of the bound session; refreshes ages and rates twice a second."""

    def __init__(
        self, parent: QWidget | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.setSizeGripEnabled(False)
        self._clock = clock
        self._session: FeedSession | None = None
        self._indicators: dict[str, FeedIndicator] = {}
        self._rate_sample: dict[str, tuple[float, int]] = {}
        self._rates: dict[str, float] = {}
        self._errors = QLabel(self)
        self._errors.setObjectName("feedErrors")
        self.addPermanentWidget(self._errors)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def bind_session(self, session: FeedSession | None) -> None:
        """Follow `session` (None: show nothing)."""
        if self._session is not None:
            self._session.bridge.frame.disconnect(self._on_frame)
        for indicator in self._indicators.values():
            self.removeWidget(indicator)
            indicator.deleteLater()
        self._indicators.clear()
        self._rate_sample.clear()
        self._rates.clear()
        self._session = session
        if session is not None:
            session.bridge.frame.connect(self._on_frame)
        self.refresh()

    def _on_frame(self, aspects: Any) -> None:
        if STATUS_ASPECT in aspects:
            self.refresh()

    def indicator_texts(self) -> list[str]:
        """Plain texts of the indicators (for tests and accessibility)."""
        return [ind.text() for ind in self._indicators.values()]

    def refresh(self) -> None:
        """Recompute ages and message rates and repaint the indicators."""
        session = self._session
        if session is None:
            self._errors.setText("")
            return
        now = self._clock()
        stats = getattr(session.client, "stats", None)
        for venue, health in session.bridge.feeds.items():
            indicator = self._indicators.get(venue)
            if indicator is None:
                indicator = self._indicators[venue] = FeedIndicator(self)
                self.addWidget(indicator)
            count = getattr(stats, "messages", None)
            if not isinstance(count, int):
                count = health.events
            prev = self._rate_sample.get(venue)
            if prev is not None and now - prev[0] >= 0.25:
                self._rates[venue] = max(0.0, (count - prev[1]) / (now - prev[0]))
                self._rate_sample[venue] = (now, count)
            elif prev is None:
                self._rate_sample[venue] = (now, count)
            rtt = getattr(stats, "rtt_ms", None)
            if health.rtt_ms is None and isinstance(rtt, int | float):
                health.rtt_ms = float(rtt)
            age = None if health.last_event_at is None else max(0.0, now - health.last_event_at)
            indicator.show_health(session.spec.label, health, age, self._rates.get(venue, 0.0))
        errors = sum(h.errors for h in session.bridge.feeds.values())
        errors += session.bridge.apply_errors
        self._errors.setText(f"errors {errors}" if errors else "")

    def apply_theme(self, theme: Theme) -> None:
        """Repaint with the new theme's colours."""
        del theme
        self.refresh()
