"""Frame replayers for recorded BitMart sessions (`depthdesk replay`).

They apply recorded frames without a socket, like the BitMEX engine does: `apply(frame)`
returns the events of one frame, `reset(reason)` voids the state when the recorded connection
was re-established. v3 recordings hold the inflated text of every frame.
"""

from __future__ import annotations

import time

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.parse_legacy import LegacyParser
from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.events import Event, Reset


class LegacyReplayer:
    """Replays legacy openws frames; every pair a frame names is followed."""

    def __init__(self, venue: str = c.VENUE_LEGACY) -> None:
        self.venue = venue
        self.parser = LegacyParser(venue, accept_all=True)

    def apply(self, frame: str | bytes) -> list[Event]:
        """Events of one recorded frame (pongs give none)."""
        return self.parser.parse(frame, time.time()).events

    def reset(self, reason: str = "") -> list[Event]:
        """The recorded connection was re-established."""
        self.parser.reset()
        return [Reset(self.venue, reason)]


class V3Replayer:
    """Replays v3 spot frames (text, or raw-DEFLATE bytes)."""

    def __init__(self, venue: str = c.VENUE_V3) -> None:
        self.venue = venue
        self.parser = V3Parser(venue)

    def apply(self, frame: str | bytes) -> list[Event]:
        """Events of one recorded frame. A version gap gives Resync: the recording holds the
        snapshot the client requested, which restarts the book."""
        return self.parser.parse(frame, time.time()).events

    def reset(self, reason: str = "") -> list[Event]:
        """The recorded connection was re-established."""
        self.parser.reset()
        return [Reset(self.venue, reason)]
