"""Connects the window to venues: starts, switches and closes feed sessions (and the simulator).

The window's main session feeds every dock that follows it; each extra market set (a ladder,
tape and chart opened with "New market docks…") has a session of its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.gui import venues
from app.gui.main_window import MainWindow
from app.gui.session import (
    FeedSession,
    SessionSpec,
    SimHost,
    VenueHints,
    legacy_hints,
    replay_hints,
)

log = logging.getLogger(__name__)


class SessionController(QObject):
    """Owns the current FeedSession and the market sets' sessions; closes everything."""

    session_started = Signal(object)  # FeedSession
    set_started = Signal(str, object)  # set id, FeedSession

    def __init__(self, window: MainWindow, sim: SimHost | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.sim = sim or SimHost()
        self.session: FeedSession | None = None
        self.set_sessions: dict[str, FeedSession] = {}
        self._switching: asyncio.Task[FeedSession] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lock = asyncio.Lock()
        window.session_requested.connect(self._on_requested)
        window.market_set_added.connect(self._on_set_added)
        window.market_set_removed.connect(self._on_set_removed)

    def _on_requested(self, spec: Any) -> None:
        if not isinstance(spec, SessionSpec):
            return
        self._switching = asyncio.get_running_loop().create_task(self.switch(spec))

    async def switch(self, spec: SessionSpec) -> FeedSession:
        """Close the current session and start one for `spec` (demo starts the simulator)."""
        async with self._lock:
            await self._close_session()
            session = await self._open(spec)
            self.session = session
            self.window.bind_session(session)
            session.start()
            self.session_started.emit(session)
            return session

    async def _open(self, spec: SessionSpec) -> FeedSession:
        symbol = venues.symbol_for(spec.venue_key, spec.symbol)
        spec = SessionSpec(spec.venue_key, symbol, spec.url, spec.speed)
        url, credentials, hints = await self._resolve(spec)
        if spec.url is None:
            spec = SessionSpec(spec.venue_key, spec.symbol, url, spec.speed)
        return FeedSession(spec, url, credentials, parent=self, hints=hints)

    async def _resolve(self, spec: SessionSpec) -> tuple[str, Any, VenueHints]:
        if venues.is_demo(spec.venue_key):
            return await self.sim.resolve(spec)
        url = spec.url if spec.url is not None else venues.url_for(spec.venue_key)
        if url is None:
            raise ValueError(f"no URL for venue {spec.venue_key!r}")
        if spec.protocol == venues.BITMART_LEGACY:
            return url, None, await legacy_hints(url, spec.symbol)
        if spec.protocol == venues.RECORDING:
            return url, None, replay_hints(url)
        return url, None, VenueHints()

    async def _close_session(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            self.window.bind_session(None)
            await session.close()
            session.deleteLater()

    # ---- market sets ----------------------------------------------------------------------
    def _on_set_added(self, set_id: str, spec: Any) -> None:
        if isinstance(spec, SessionSpec):
            self._spawn(self.open_set(set_id, spec))

    def _on_set_removed(self, set_id: str) -> None:
        self._spawn(self.close_set(set_id))

    async def open_set(self, set_id: str, spec: SessionSpec) -> FeedSession | None:
        """Start the session of market set `set_id` (replacing one it had)."""
        async with self._lock:
            await self._close_set(set_id)
            if set_id not in self.window.market_sets():
                return None
            session = await self._open(spec)
            self.set_sessions[set_id] = session
            self.window.bind_market_set(set_id, session)
            session.start()
            self.set_started.emit(set_id, session)
            return session

    async def open_saved_sets(self) -> None:
        """Start the sessions of every market set the window has (restored layout)."""
        for set_id, spec in self.window.market_sets().items():
            if set_id not in self.set_sessions:
                try:
                    await self.open_set(set_id, spec)
                except Exception as exc:  # one bad saved venue must not stop the window
                    log.error("market set %s could not start: %s", set_id, exc)

    async def close_set(self, set_id: str) -> None:
        """Close the session of market set `set_id`."""
        async with self._lock:
            await self._close_set(set_id)

    async def _close_set(self, set_id: str) -> None:
        session = self.set_sessions.pop(set_id, None)
        if session is not None:
            self.window.bind_market_set(set_id, None)
            await session.close()
            session.deleteLater()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel pending work, close every feed, stop the simulator."""
        task, self._switching = self._switching, None
        pending = [t for t in (task, *self._tasks) if t is not None and not t.done()]
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for set_id in list(self.set_sessions):
            await self._close_set(set_id)
        await self._close_session()
        await self.sim.stop()
