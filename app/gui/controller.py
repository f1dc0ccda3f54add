"""Connects the window to venues: starts, switches and closes feed sessions (and the simulator)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.gui import venues
from app.gui.main_window import MainWindow
from app.gui.session import FeedSession, SessionSpec, SimHost

log = logging.getLogger(__name__)


class SessionController(QObject):
    """Owns the current FeedSession; switches on the window's requests; closes everything."""

    session_started = Signal(object)  # FeedSession

    def __init__(self, window: MainWindow, sim: SimHost | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.sim = sim or SimHost()
        self.session: FeedSession | None = None
        self._switching: asyncio.Task[FeedSession] | None = None
        self._lock = asyncio.Lock()
        window.session_requested.connect(self._on_requested)

    def _on_requested(self, spec: Any) -> None:
        if not isinstance(spec, SessionSpec):
            return
        self._switching = asyncio.get_running_loop().create_task(self.switch(spec))

    async def switch(self, spec: SessionSpec) -> FeedSession:
        """Close the current session and start one for `spec` (demo starts the simulator)."""
        async with self._lock:
            await self._close_session()
            url, credentials = await self._resolve(spec)
            if spec.url is None:
                spec = SessionSpec(spec.venue_key, spec.symbol, url)
            session = FeedSession(spec, url, credentials, parent=self)
            self.session = session
            self.window.bind_session(session)
            session.start()
            self.session_started.emit(session)
            return session

    async def _resolve(self, spec: SessionSpec) -> tuple[str, Any]:
        if spec.venue_key == venues.DEMO:
            await self.sim.ensure_started()
            server = self.sim.server
            assert server is not None
            return server.url, self.sim.demo_credentials()
        if spec.url is not None:
            return spec.url, None
        url = venues.url_for(spec.venue_key)
        if url is None:
            raise ValueError(f"no URL for venue {spec.venue_key!r}")
        return url, None

    async def _close_session(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            self.window.bind_session(None)
            await session.close()
            session.deleteLater()

    async def close(self) -> None:
        """Cancel a pending switch, close the feed, stop the simulator."""
        task, self._switching = self._switching, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._close_session()
        await self.sim.stop()
