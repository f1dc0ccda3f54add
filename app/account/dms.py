"""Dead man's switch controller: keeps BitMEX ``cancelAllAfter`` armed and reports every problem.

While enabled it sends ``cancelAllAfter(timeout_ms)`` every ``timeout / 4`` (15 s at 60 s) and
tracks the server's ``cancelTime`` from each `CancelAllAfterReply`. A refresh that fails, starts
late or is not confirmed in time, a disconnect and a reconnect all raise an alarm; as soon as the
connection is authenticated again it re-arms at once. Disabling sends ``cancelAllAfter(0)`` and
only counts as off once the server's reply confirms it.

The controller is Qt-free and timer-free: `step()` does whatever is due at ``clock()``, `run()`
calls it periodically. The clock and the sender are injected, so tests drive time by hand.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from app.account.constants import (
    DMS_DEFAULT_TIMEOUT_S,
    DMS_LATE_GRACE_S,
    DMS_MAX_TIMEOUT_S,
    DMS_MIN_TIMEOUT_S,
    DMS_OP,
    DMS_POLL_INTERVAL_S,
    DMS_REFRESH_FRACTION,
    DMS_REPLY_TIMEOUT_S,
)
from app.feeds.events import AuthResult, CancelAllAfterReply, Event, FeedError, FeedStatus, Reset

log = logging.getLogger(__name__)

DmsPhase = Literal["off", "arming", "armed", "alarm", "disarming"]
Sender = Callable[[int], Awaitable[None]]

_DOWN_STATES = ("connecting", "reconnecting", "down")


@dataclass(frozen=True)
class DmsStatus:
    """What the panel shows. Times are on the controller's clock (seconds)."""

    phase: DmsPhase
    enabled: bool
    timeout_s: float
    #: local-clock time at which the server will cancel all orders (None: not armed on the server)
    cancel_at: float | None
    #: the server's own cancelTime (epoch seconds) from the last reply
    server_cancel_time: float | None
    #: red banner text while something is wrong; None when healthy
    alarm: str | None
    #: the last problem that has since been recovered from (until acknowledged)
    recovered_from: str | None
    last_confirmed_at: float | None
    next_refresh_at: float | None
    connected: bool
    #: the server confirmed the switch is off (reply with cancelTime 0)
    confirmed_off: bool
    #: the server timer ran out while we could not refresh: orders were cancelled
    expired: bool


def refresh_period(timeout_s: float) -> float:
    """Seconds between refreshes for a timeout (timeout / 4, at least 1 s)."""
    return max(1.0, timeout_s * DMS_REFRESH_FRACTION)


def clamp_timeout(timeout_s: float) -> float:
    """Keep a user-entered timeout inside the documented limits."""
    return float(min(max(timeout_s, DMS_MIN_TIMEOUT_S), DMS_MAX_TIMEOUT_S))


class DeadMansSwitch:
    """State machine for one authenticated BitMEX connection's cancelAllAfter timer."""

    def __init__(
        self,
        sender: Sender,
        *,
        venue: str = "bitmex",
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[DmsStatus], None] | None = None,
        reply_timeout: float = DMS_REPLY_TIMEOUT_S,
        late_grace: float = DMS_LATE_GRACE_S,
    ) -> None:
        self._send = sender
        self.venue = venue
        self._clock = clock
        self.on_change = on_change
        self._reply_timeout = reply_timeout
        self._late_grace = late_grace
        self._enabled = False
        self._timeout_s = float(DMS_DEFAULT_TIMEOUT_S)
        self._connected = False
        self._need_off = False  # a cancelAllAfter(0) must still be confirmed
        self._next_due: float | None = None
        self._pending: tuple[int, float] | None = None  # (timeout_ms, sent_at)
        self._confirmed = False  # last arm confirmed and still valid
        self._cancel_at: float | None = None
        self._server_cancel_time: float | None = None
        self._last_confirmed_at: float | None = None
        self._alarm: str | None = None
        self._recovered_from: str | None = None
        self._confirmed_off = False
        self._expired = False
        self._sending = False
        self._last: DmsStatus | None = None

    # -- user actions --------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    def set_timeout(self, timeout_s: float) -> None:
        """Choose the timeout without arming (an armed switch re-arms with it at once)."""
        if self._enabled:
            self.arm(timeout_s)
        else:
            self._timeout_s = clamp_timeout(timeout_s)

    def arm(self, timeout_s: float | None = None) -> None:
        """Turn the switch on (or change its timeout); the next `step()` sends at once."""
        if timeout_s is not None:
            self._timeout_s = clamp_timeout(timeout_s)
        self._enabled = True
        self._need_off = False
        self._confirmed_off = False
        self._confirmed = False
        self._next_due = self._clock()
        log.info("dead man's switch: arming with a %g s timeout", self._timeout_s)
        self._notify()

    def disarm(self) -> None:
        """Turn the switch off: sends cancelAllAfter(0) and waits for the server to confirm."""
        self._enabled = False
        self._need_off = True
        self._confirmed = False
        self._next_due = self._clock()
        log.info("dead man's switch: disarming")
        self._notify()

    def acknowledge(self) -> None:
        """The user has seen the recovered-from note; hide it."""
        self._recovered_from = None
        self._notify()

    def forget(self) -> None:
        """Logout: drop all state without sending anything (the connection is going away)."""
        self._enabled = False
        self._need_off = False
        self._pending = None
        self._next_due = None
        self._confirmed = False
        self._cancel_at = None
        self._server_cancel_time = None
        self._alarm = None
        self._recovered_from = None
        self._expired = False
        self._connected = False
        self._notify()

    # -- connection events ---------------------------------------------------------------------

    def set_connected(self, connected: bool, reason: str = "") -> None:
        """Whether private requests can be sent now (authenticated connection)."""
        if connected == self._connected:
            return
        self._connected = connected
        now = self._clock()
        if connected:
            if self._enabled or self._need_off:
                self._next_due = now  # re-arm (or finish disarming) right away
        else:
            self._pending = None
            if self._enabled:
                self._confirmed = False
                self._raise_alarm(self._disconnect_text(reason or "connection lost"))
            elif self._need_off:
                self._raise_alarm("not connected: the switch could not be turned off yet")
        self._notify()

    def handle_event(self, ev: Event) -> None:
        """Feed every event of the private connection here."""
        if isinstance(ev, CancelAllAfterReply):
            self._on_reply(ev)
        elif isinstance(ev, AuthResult):
            self.set_connected(ev.success, "" if ev.success else "authentication failed")
        elif isinstance(ev, FeedStatus):
            if ev.state in _DOWN_STATES:
                self.set_connected(False, ev.detail or f"connection {ev.state}")
        elif isinstance(ev, Reset):
            if self._connected and (self._enabled or self._need_off):
                self.set_connected(False, ev.reason or "connection reset")
        elif isinstance(ev, FeedError) and _is_dms_error(ev):
            self._on_error(ev)

    # -- the clock-driven part -----------------------------------------------------------------

    async def step(self) -> None:
        """Do whatever is due now: send a refresh/disable, detect late replies and expiry."""
        now = self._clock()
        wait = min(self._reply_timeout, refresh_period(self._timeout_s))
        if self._pending is not None and now - self._pending[1] > wait:
            ms, _ = self._pending
            self._pending = None
            what = "disarm" if ms == 0 else "refresh"
            self._confirmed = False
            self._raise_alarm(f"{what} not confirmed by the server within {wait:g} s")
            self._next_due = now
            self._notify()
        if (
            (self._enabled or self._need_off)
            and self._cancel_at is not None
            and now >= self._cancel_at
            and not self._expired
        ):
            self._expired = True
            self._confirmed = False
            self._raise_alarm("timer expired: the server has cancelled all open orders")
            self._notify()
        if not self._connected or self._pending is not None or self._sending:
            return
        if self._next_due is None or now < self._next_due:
            return
        if self._enabled:
            late = now - self._next_due
            if self._confirmed and late > self._late_grace:
                self._raise_alarm(f"refresh late by {late:.1f} s (the app was busy or asleep)")
            await self._send_now(round(self._timeout_s * 1000), now)
        elif self._need_off:
            await self._send_now(0, now)
        else:
            self._next_due = None

    async def run(self, poll: float = DMS_POLL_INTERVAL_S) -> None:
        """Call `step()` forever; cancel the task to stop."""
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the switch die silently
                log.exception("dead man's switch step failed")
                self._raise_alarm("internal error in the switch controller (see log)")
                self._notify()
            await asyncio.sleep(poll)

    async def disarm_and_confirm(self, wait_s: float, poll: float = 0.05) -> bool:
        """Disarm and wait (asynchronously) for the server's confirmation; True when confirmed."""
        self.disarm()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while loop.time() < deadline:
            await self.step()
            if self._confirmed_off:
                return True
            await asyncio.sleep(poll)
        return self._confirmed_off

    # -- read side -----------------------------------------------------------------------------

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds until the server cancels all orders (None when not armed)."""
        if self._cancel_at is None:
            return None
        return self._cancel_at - (self._clock() if now is None else now)

    def status(self) -> DmsStatus:
        return DmsStatus(
            phase=self._phase(),
            enabled=self._enabled,
            timeout_s=self._timeout_s,
            cancel_at=self._cancel_at,
            server_cancel_time=self._server_cancel_time,
            alarm=self._alarm,
            recovered_from=self._recovered_from,
            last_confirmed_at=self._last_confirmed_at,
            next_refresh_at=self._next_due if (self._enabled or self._need_off) else None,
            connected=self._connected,
            confirmed_off=self._confirmed_off,
            expired=self._expired,
        )

    def __repr__(self) -> str:
        return f"DeadMansSwitch(phase={self._phase()!r}, timeout_s={self._timeout_s:g})"

    # -- internals -----------------------------------------------------------------------------

    def _phase(self) -> DmsPhase:
        if self._alarm is not None and (self._enabled or self._need_off):
            return "alarm"
        if self._enabled:
            return "armed" if self._confirmed else "arming"
        if self._need_off:
            return "disarming"
        return "off"

    async def _send_now(self, timeout_ms: int, now: float) -> None:
        self._pending = (timeout_ms, now)
        if timeout_ms:
            self._next_due = now + refresh_period(self._timeout_s)
        self._sending = True
        try:
            await self._send(timeout_ms)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._pending = None
            self._confirmed = False
            what = "disarm" if timeout_ms == 0 else "refresh"
            self._raise_alarm(f"{what} failed to send: {type(exc).__name__}: {exc}"[:200])
            self._next_due = self._clock() + min(refresh_period(self._timeout_s), 2.0)
        finally:
            self._sending = False
        self._notify()

    def _on_reply(self, ev: CancelAllAfterReply) -> None:
        now = self._clock()
        pending_ms = self._pending[0] if self._pending else None
        if pending_ms is not None and ev.timeout_ms == pending_ms:
            self._pending = None
        if ev.cancel_time is None or ev.timeout_ms == 0:
            self._cancel_at = None
            self._server_cancel_time = None
            self._expired = False
            if not self._enabled:
                self._need_off = False
                self._confirmed_off = True
                self._clear_alarm()
            elif pending_ms is None or pending_ms == 0:
                self._confirmed = False
                self._raise_alarm("the server reports the switch is off")
                self._next_due = now
        else:
            self._server_cancel_time = ev.cancel_time
            self._cancel_at = now + max(0.0, ev.cancel_time - ev.now)
            self._expired = False
            if self._enabled:
                self._confirmed = True
                self._last_confirmed_at = now
                self._clear_alarm()
            else:
                # armed on the server although we want it off (a late refresh reply)
                self._need_off = True
                self._confirmed_off = False
                if self._pending is None:
                    self._next_due = now
        self._notify()

    def _on_error(self, ev: FeedError) -> None:
        self._pending = None
        self._confirmed = False
        status = f" ({ev.status})" if ev.status is not None else ""
        self._raise_alarm(f"server rejected cancelAllAfter{status}: {ev.message}"[:200])
        self._next_due = self._clock() + min(refresh_period(self._timeout_s), 2.0)
        self._notify()

    def _disconnect_text(self, reason: str) -> str:
        left = self.seconds_left()
        if left is not None and left > 0 and self._server_cancel_time is not None:
            at = time.strftime("%H:%M:%S", time.gmtime(self._server_cancel_time))
            return (
                f"{reason} — cannot refresh; the server cancels ALL open orders at {at} UTC "
                "unless the connection is back before then (it re-arms at once)"
            )
        return f"{reason} — the switch cannot be refreshed until the connection is back"

    def _raise_alarm(self, text: str) -> None:
        if text != self._alarm:
            log.warning("dead man's switch: %s", text)
        self._alarm = text

    def _clear_alarm(self) -> None:
        if self._alarm is not None:
            self._recovered_from = self._alarm
            log.info("dead man's switch recovered from: %s", self._alarm)
        self._alarm = None

    def _notify(self) -> None:
        status = self.status()
        if status == self._last:
            return
        self._last = status
        if self.on_change is not None:
            self.on_change(status)


def _is_dms_error(ev: FeedError) -> bool:
    """An error reply to our cancelAllAfter request, or the client refusing to send it."""
    if isinstance(ev.request, dict) and ev.request.get("op") == DMS_OP:
        return True
    return ev.request is None and ev.message.startswith(DMS_OP)
