"""One venue connection as the window sees it: MarketState + Bridge + the feed client task.

`FeedSession` is what features bind to (`session.state`, `session.bridge`, `session.symbol`).
`SimHost` owns the embedded simulator for the demo venue, started in-process on a free
loopback port and kept across symbol switches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from app.bridge import Bridge
from app.gui import venues

if TYPE_CHECKING:
    from app.feeds.bitmex.client import BitmexClient
    from app.sim import SimServer
    from app.state.market import MarketState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionSpec:
    """Which venue and symbol to connect to."""

    venue_key: str  # venues.LIVE / venues.TESTNET / venues.DEMO / venues.CUSTOM
    symbol: str
    url: str | None = None  # explicit URL (custom venue, or the demo simulator's URL)

    @property
    def label(self) -> str:
        """Human-readable venue name."""
        return venues.label(self.venue_key)


class FeedSession(QObject):
    """A running venue connection: state, bridge and client task. Close with `await close()`."""

    def __init__(
        self,
        spec: SessionSpec,
        url: str,
        credentials: Any = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        from app.feeds.bitmex.client import BitmexClient, BitmexConfig
        from app.state.market import MarketState

        self.spec = spec
        self.url = url
        self.symbol = spec.symbol
        self.state: MarketState = MarketState(venues.STATE_VENUE)
        self.bridge = Bridge(self.state, parent=self)
        # No `symbols`: the topics are already explicit, so whole tables stay unfiltered.
        topics = venues.topics_for(spec.symbol, private=credentials is not None)
        config = BitmexConfig(url=url, symbols=[], topics=topics, credentials=credentials)
        self.has_account = credentials is not None
        self.client: BitmexClient = BitmexClient(config, self.bridge.on_event)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the client task (inside the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"feed:{self.spec.venue_key}:{self.symbol}"
            )

    async def _run(self) -> None:
        try:
            await self.client.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # fatal feed errors end up in the status bar, not a crash
            log.error("feed %s stopped: %s", self.spec.label, type(exc).__name__)
            from app.feeds.events import FeedStatus

            self.bridge.on_event(
                FeedStatus(venue=venues.STATE_VENUE, state="down", detail=str(exc)[:200])
            )

    @property
    def running(self) -> bool:
        """True while the client task has not finished."""
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        """Cancel the client task and close its socket; idempotent."""
        self.bridge.stop()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.client.close()


class SimHost:
    """The embedded simulator for the demo venue (one per app run, started on demand)."""

    def __init__(self, seed: int = 1) -> None:
        self._seed = seed
        self.server: SimServer | None = None

    async def ensure_started(self) -> SimServer:
        """Start the simulator on a free loopback port if it is not running."""
        if self.server is None:
            from app.sim import SimConfig, SimServer

            server = SimServer(SimConfig(port=0, seed=self._seed))
            await server.start()
            self.server = server
        return self.server

    def demo_credentials(self) -> Any:
        """The simulator's first demo account as ApiCredentials, or None."""
        if self.server is None or not self.server.accounts:
            return None
        from app.feeds.bitmex.auth import ApiCredentials

        account = self.server.accounts[0]
        return ApiCredentials(key=account.key, secret=account.secret)

    async def stop(self) -> None:
        """Stop the simulator if it runs."""
        server, self.server = self.server, None
        if server is not None:
            await server.stop()
