"""Status bar: per-feed connection state, last-message age, ping RTT, message rate, reconnects."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.bridge import STATUS_ASPECT, FeedHealth
from app.gui.theme import Theme, current_theme
from app.widgets.binding import price_step
from app.widgets.format import fmt_pct, fmt_price, shown_price_decimals
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


def _fmt_rtt(ms: float) -> str:
    """A round trip: one decimal below 10 ms (a loopback or co-located feed), whole ms above."""
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def feed_text(label: str, health: FeedHealth, age: float | None, rate: float) -> str:
    """The one-line summary of a feed for the status bar."""
    rtt = EN_DASH if health.rtt_ms is None else _fmt_rtt(health.rtt_ms)
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

    def show_health(
        self, label: str, health: FeedHealth, age: float | None, rate: float, ticker: str = ""
    ) -> None:
        """Render the summary with the state's colour (and the venue's ticker, if any)."""
        theme = current_theme()
        state = health.state
        if state == "live" and age is not None and age > STALE_AGE_S:
            state = "stale"
        colour = getattr(theme, _STATE_COLOUR.get(state, "dim_text"))
        text = feed_text(label, health, age, rate).replace(
            f": {health.state}", f": <b style='color:{colour}'>{state}</b>", 1
        )
        if ticker:
            text += f"  ·  <b style='color:{theme.text}'>{ticker}</b>"
        self.setText(f"<span style='color:{colour}'>●</span> {text}")
        self.setToolTip(health.detail or health.last_error or state)


MAIN = "main"


def ticker_text(session: FeedSession) -> str:
    """The venue's 24h ticker of the session's symbol ("XBTUSD last 60,000.5 (+1.23% 24h)"),
    or "". The price has the market's tick decimals, else as many as the ticker's own last, high
    and low prices have (0.0001268 stays 0.0001268)."""
    ticker_of = getattr(session.state, "ticker", None)
    ticker = ticker_of(session.symbol) if callable(ticker_of) else None
    if ticker is None or ticker.last is None:
        return ""
    step = price_step(session, session.symbol)
    decimals = shown_price_decimals(step, (ticker.last, ticker.high, ticker.low))
    text = f"{session.symbol} last {fmt_price(ticker.last, decimals)}"
    if ticker.change_pct is not None:
        text += f" ({fmt_pct(ticker.change_pct, 2, signed=True)} 24h)"
    return text


class StatusBar(QStatusBar):
    """Shows every feed of the window's session and of each market set's session; refreshes
    ages and rates twice a second."""

    def __init__(
        self, parent: QWidget | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.setSizeGripEnabled(False)
        self._clock = clock
        self._sessions: dict[str, FeedSession] = {}
        self._indicators: dict[tuple[str, str], FeedIndicator] = {}
        self._rate_sample: dict[tuple[str, str], tuple[float, int]] = {}
        self._rates: dict[tuple[str, str], float] = {}
        self._errors = QLabel(self)
        self._errors.setObjectName("feedErrors")
        self.addPermanentWidget(self._errors)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    @property
    def _session(self) -> FeedSession | None:
        return self._sessions.get(MAIN)

    def bind_session(self, session: FeedSession | None) -> None:
        """Follow the window's `session` (None: show none for it)."""
        self._bind(MAIN, session)

    def bind_extra(self, key: str, session: FeedSession | None) -> None:
        """Also follow a market set's session (None: stop)."""
        self._bind(key, session)

    def _bind(self, key: str, session: FeedSession | None) -> None:
        old = self._sessions.pop(key, None)
        if old is not None:
            old.bridge.frame.disconnect(self._on_frame)
        for ind_key in [k for k in self._indicators if k[0] == key]:
            indicator = self._indicators.pop(ind_key)
            self.removeWidget(indicator)
            indicator.deleteLater()
            self._rate_sample.pop(ind_key, None)
            self._rates.pop(ind_key, None)
        if session is not None:
            self._sessions[key] = session
            session.bridge.frame.connect(self._on_frame)
        self.refresh()

    def _on_frame(self, aspects: Any) -> None:
        if STATUS_ASPECT in aspects or any(a.startswith("ticker:") for a in aspects):
            self.refresh()

    def indicator_texts(self) -> list[str]:
        """Plain texts of the indicators (for tests and accessibility)."""
        return [ind.text() for ind in self._indicators.values()]

    def refresh(self) -> None:
        """Recompute ages and message rates and repaint the indicators."""
        if not self._sessions:
            self._errors.setText("")
            return
        now = self._clock()
        errors = 0
        for key, session in self._sessions.items():
            self._refresh_session(key, session, now)
            errors += sum(h.errors for h in session.bridge.feeds.values())
            errors += session.bridge.apply_errors
        self._errors.setText(f"errors {errors}" if errors else "")

    def _refresh_session(self, key: str, session: FeedSession, now: float) -> None:
        stats = getattr(session.client, "stats", None)
        ticker = ticker_text(session)
        for venue, health in session.bridge.feeds.items():
            ind_key = (key, venue)
            indicator = self._indicators.get(ind_key)
            if indicator is None:
                indicator = self._indicators[ind_key] = FeedIndicator(self)
                self.addWidget(indicator)
            count = getattr(stats, "messages", None)
            if not isinstance(count, int):
                count = health.events
            prev = self._rate_sample.get(ind_key)
            if prev is not None and now - prev[0] >= 0.25:
                self._rates[ind_key] = max(0.0, (count - prev[1]) / (now - prev[0]))
                self._rate_sample[ind_key] = (now, count)
            elif prev is None:
                self._rate_sample[ind_key] = (now, count)
            rtt = getattr(stats, "rtt_ms", None)
            if health.rtt_ms is None and isinstance(rtt, int | float):
                health.rtt_ms = float(rtt)
            age = None if health.last_event_at is None else max(0.0, now - health.last_event_at)
            indicator.show_health(
                session.spec.label, health, age, self._rates.get(ind_key, 0.0), ticker
            )

    def apply_theme(self, theme: Theme) -> None:
        """Repaint with the new theme's colours."""
        del theme
        self.refresh()
