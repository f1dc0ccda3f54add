"""The physical socket of a simulated connection: liveness stamps, stalls, frame writes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from app.sim.bitmex.auth import AuthOutcome

if TYPE_CHECKING:
    from app.sim.bitmex.session import Session


class SimConnection(ServerConnection):
    """A server connection that stamps incoming traffic and can be stalled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_rx = time.monotonic()
        self.preauth: AuthOutcome | None = None
        self.stalled = False
        self.parked: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        """Stamp liveness; while stalled, park bytes unprocessed (so no pongs either)."""
        if self.stalled:
            self.parked.append(data)
            return
        self.last_rx = time.monotonic()
        super().data_received(data)

    def unpark(self) -> None:
        """Process the bytes parked during a stall."""
        parked, self.parked = self.parked, []
        for data in parked:
            self.last_rx = time.monotonic()
            super().data_received(data)


class SocketLink:
    """Writes text frames to one socket; buffers them while the socket is stalled."""

    def __init__(self, conn: SimConnection, max_buffer: int, heartbeat: bool) -> None:
        self.conn = conn
        self.max_buffer = max_buffer
        self.heartbeat = heartbeat
        self.backlog: list[bytes] = []
        self.sessions: set[Session] = set()
        self.closing = False

    @property
    def stalled(self) -> bool:
        """Whether the socket is stalled."""
        return self.conn.stalled

    def write(self, data: bytes | str) -> None:
        """Send one text frame now (or later, when stalled)."""
        payload = data.encode() if isinstance(data, str) else data
        if self.conn.stalled:
            self.backlog.append(payload)
            return
        self._write(payload)

    def _write(self, payload: bytes) -> None:
        conn = self.conn
        if conn.protocol.state is not State.OPEN:
            return
        try:
            conn.protocol.send_text(payload)
            conn.send_data()
        except Exception:  # the socket is going away; its handler will clean up
            return
        transport = conn.transport
        if transport is not None and transport.get_write_buffer_size() > self.max_buffer:
            transport.abort()

    def stall(self) -> None:
        """Stop sending and stop processing input (pings included)."""
        self.conn.stalled = True

    def release(self) -> None:
        """Resume: flush frames held back, then process parked input."""
        if not self.conn.stalled:
            return
        self.conn.stalled = False
        backlog, self.backlog = self.backlog, []
        for payload in backlog:
            self._write(payload)
        self.conn.unpark()

    def abort(self) -> None:
        """Drop the TCP connection without a close handshake."""
        transport = self.conn.transport
        if transport is not None:
            transport.abort()
