"""Version-gap logic of the v3 `spot/depth/increase100` channel, one state per symbol.

The first push after subscribe (or after an `op:request`) is a snapshot with a version; each
update carries the next version. An update with version <= local is old (or an idle
heartbeat) and discarded; version == local + 1 applies; version > local + 1 is a gap: the
local state is void until a fresh snapshot arrives, which the caller requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    """What to do with one increase100 push."""

    SNAPSHOT = "snapshot"  # replace the book
    APPLY = "apply"  # apply the update
    STALE = "stale"  # old or idle message: discard
    WAITING = "waiting"  # no snapshot yet (or awaiting a requested one): discard
    GAP = "gap"  # version jumped: discard, request a snapshot, emit Resync


@dataclass(slots=True)
class DepthVersionStats:
    """Counters for one symbol."""

    snapshots: int = 0
    applied: int = 0
    stale: int = 0
    waiting: int = 0
    gaps: int = 0


class DepthVersionTracker:
    """Local version of one symbol's incremental book."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.stats = DepthVersionStats()

    def invalidate(self) -> None:
        """Forget the version (reconnect, resubscribe, or gap)."""
        self.version = None

    def on_snapshot(self, version: int) -> Verdict:
        """A snapshot always replaces the book and sets the version."""
        self.version = version
        self.stats.snapshots += 1
        return Verdict.SNAPSHOT

    def on_update(self, version: int) -> Verdict:
        """Classify an update by its version."""
        if self.version is None:
            self.stats.waiting += 1
            return Verdict.WAITING
        if version <= self.version:
            self.stats.stale += 1
            return Verdict.STALE
        if version == self.version + 1:
            self.version = version
            self.stats.applied += 1
            return Verdict.APPLY
        self.version = None
        self.stats.gaps += 1
        return Verdict.GAP
