"""The part of a BitMart connection's configuration both protocols share.

Each protocol's configuration (`BitmartLegacyConfig`, `BitmartConfig`) extends
`BitmartFeedConfig` with its own defaults (URL, venue, keep-alive timings) and fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.feeds.bitmart import constants as c
from app.feeds.connection import ConnectionSettings


@dataclass
class BitmartFeedConfig:
    """URL, subscriptions and connection timings of one BitMart socket."""

    url: str = ""
    symbols: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    ping_interval: float = c.V3_PING_INTERVAL
    pong_timeout: float = c.V3_PONG_TIMEOUT
    watchdog_idle: float = c.WATCHDOG_IDLE
    backoff_initial: float = c.BACKOFF_INITIAL
    backoff_max: float = c.BACKOFF_MAX
    open_timeout: float = 10.0
    max_failures: int | None = None
    venue: str = ""

    def connection_settings(self) -> ConnectionSettings:
        """The venue-neutral part of this configuration; the text ping is the heartbeat and
        connects are paced by the process-wide gate, not the handler's budget."""
        return ConnectionSettings.of(
            self,
            heartbeat_interval=self.ping_interval,
            connections_per_window=c.CONNECTIONS_UNBUDGETED,
        )
