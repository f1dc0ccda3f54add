"""Dead man's switch controller: cadence, alarms, re-arm after reconnect, disarm confirmation."""

from __future__ import annotations

import time

import pytest

from app.account.dms import DeadMansSwitch, DmsStatus, clamp_timeout, refresh_period
from app.feeds.events import AuthResult, CancelAllAfterReply, FeedError, FeedStatus, Reset

T0 = 1_700_000_000.0  # server epoch at clock 0


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Harness:
    """A switch with a recording sender and a hand-driven clock; the 'server' replies on demand."""

    def __init__(self, fail_send: bool = False) -> None:
        self.clock = FakeClock()
        self.sent: list[tuple[float, int]] = []
        self.changes: list[DmsStatus] = []
        self.fail_send = fail_send
        self.dms = DeadMansSwitch(self._send, clock=self.clock, on_change=self.changes.append)

    async def _send(self, timeout_ms: int) -> None:
        if self.fail_send:
            raise ConnectionError("socket closed")
        self.sent.append((self.clock.t, timeout_ms))

    def reply(self, timeout_ms: int | None = None) -> None:
        ms = self.sent[-1][1] if timeout_ms is None else timeout_ms
        now = T0 + self.clock.t
        cancel = now + ms / 1000 if ms else None
        self.dms.handle_event(CancelAllAfterReply("bitmex", now, cancel, ms))

    async def run_until(self, t: float, step: float = 0.25, auto_reply: bool = True) -> None:
        while self.clock.t < t - 1e-9:
            self.clock.t = round(self.clock.t + step, 6)
            before = len(self.sent)
            await self.dms.step()
            if auto_reply and len(self.sent) > before:
                self.reply()


def test_period_and_clamp() -> None:
    assert refresh_period(60) == 15
    assert refresh_period(5) == 1.25
    assert clamp_timeout(1) == 5
    assert clamp_timeout(10_000) == 600


@pytest.mark.asyncio
async def test_cadence_is_every_15_s_at_60_s() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    assert h.dms.status().phase == "arming"
    await h.dms.step()
    assert h.sent == [(0.0, 60_000)]
    h.reply()
    st = h.dms.status()
    assert st.phase == "armed" and st.alarm is None
    assert h.dms.seconds_left() == pytest.approx(60.0)
    assert st.server_cancel_time == pytest.approx(T0 + 60)
    await h.run_until(61)
    assert [t for t, _ in h.sent] == [0.0, 15.0, 30.0, 45.0, 60.0]
    assert {ms for _, ms in h.sent} == {60_000}
    # countdown follows the last confirmed cancelTime
    assert h.dms.seconds_left() == pytest.approx(59.0)
    assert h.dms.status().phase == "armed"


@pytest.mark.asyncio
async def test_not_sent_while_disconnected_then_rearmed_on_auth() -> None:
    h = Harness()
    h.dms.arm(60)
    await h.dms.step()
    assert h.sent == []  # not authenticated yet
    h.dms.handle_event(AuthResult("bitmex", True))
    await h.dms.step()
    assert h.sent == [(0.0, 60_000)]


@pytest.mark.asyncio
async def test_disconnect_alarms_and_reconnect_rearms_at_once() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.run_until(20)
    assert len(h.sent) == 2  # t=0 and t=15
    h.dms.handle_event(FeedStatus("bitmex", "reconnecting", "socket closed"))
    st = h.dms.status()
    assert st.phase == "alarm"
    assert st.alarm is not None and "socket closed" in st.alarm
    # the absolute server cancel time of the last confirmed refresh (t=15 -> T0 + 75)
    assert time.strftime("%H:%M:%S", time.gmtime(T0 + 75)) + " UTC" in st.alarm
    await h.run_until(30)
    assert len(h.sent) == 2  # nothing sent while down
    h.dms.handle_event(Reset("bitmex", "reconnect"))
    h.dms.handle_event(AuthResult("bitmex", True))
    await h.dms.step()
    assert h.sent[-1] == (30.0, 60_000)  # re-armed immediately, not at the next 15 s slot
    h.reply()
    st = h.dms.status()
    assert st.phase == "armed" and st.alarm is None
    assert st.recovered_from is not None and "socket closed" in st.recovered_from
    h.dms.acknowledge()
    assert h.dms.status().recovered_from is None
    await h.run_until(46)
    assert [t for t, _ in h.sent][-2:] == [30.0, 45.0]


@pytest.mark.asyncio
async def test_reset_without_status_change_counts_as_reconnect() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(20)
    await h.run_until(1)
    h.dms.handle_event(Reset("bitmex", "reconnect"))
    st = h.dms.status()
    assert st.phase == "alarm" and st.alarm is not None and st.alarm.startswith("reconnect")
    h.dms.handle_event(AuthResult("bitmex", True))
    await h.run_until(1.25)
    assert h.sent[-1] == (1.25, 20_000)
    assert h.dms.status().phase == "armed"


@pytest.mark.asyncio
async def test_missing_reply_is_a_failure_and_is_retried() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.run_until(0.25, auto_reply=False)
    assert h.dms.status().phase == "arming"
    await h.run_until(5.0, auto_reply=False)
    assert h.dms.status().alarm is None  # still within the reply timeout
    await h.run_until(5.5, auto_reply=False)
    st = h.dms.status()
    assert st.phase == "alarm" and st.alarm is not None and "not confirmed" in st.alarm
    assert h.sent[-1][0] == 5.5  # retried at once
    h.reply()
    assert h.dms.status().phase == "armed"


@pytest.mark.asyncio
async def test_send_failure_raises_banner() -> None:
    h = Harness(fail_send=True)
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.dms.step()
    st = h.dms.status()
    assert st.phase == "alarm" and st.alarm is not None
    assert "failed to send" in st.alarm and "ConnectionError" in st.alarm
    assert any(c.phase == "alarm" for c in h.changes)
    h.fail_send = False
    await h.run_until(2.0)
    assert h.dms.status().phase == "armed"


@pytest.mark.asyncio
async def test_server_error_reply_raises_banner() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.dms.step()
    h.dms.handle_event(
        FeedError("bitmex", "Rate limit exceeded", 429, {"op": "cancelAllAfter", "args": 60000})
    )
    st = h.dms.status()
    assert st.phase == "alarm" and st.alarm is not None and "Rate limit" in st.alarm
    # an unrelated error does not touch the switch
    h2 = Harness()
    h2.dms.handle_event(FeedError("bitmex", "Unknown table: x", 400, {"op": "subscribe"}))
    assert h2.dms.status().alarm is None


@pytest.mark.asyncio
async def test_late_refresh_is_flagged() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.dms.step()
    h.reply()
    h.clock.t = 20.0  # the loop was asleep: the 15 s refresh starts 5 s late
    await h.dms.step()
    st = h.dms.status()
    assert st.alarm is not None and "late by 5.0 s" in st.alarm
    assert h.sent[-1] == (20.0, 60_000)
    h.reply()
    assert h.dms.status().alarm is None


@pytest.mark.asyncio
async def test_expiry_while_disconnected() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(20)
    await h.run_until(1)
    h.dms.set_connected(False, "connection lost")
    await h.run_until(19.5)
    assert not h.dms.status().expired
    await h.run_until(20.25)
    st = h.dms.status()
    assert st.expired and st.alarm is not None and "cancelled all open orders" in st.alarm
    assert h.dms.seconds_left() is not None and h.dms.seconds_left() <= 0  # type: ignore[operator]


@pytest.mark.asyncio
async def test_disarm_waits_for_confirmation() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.run_until(1)
    h.dms.disarm()
    assert h.dms.status().phase == "disarming"
    await h.dms.step()
    assert h.sent[-1] == (1.0, 0)
    assert h.dms.status().phase == "disarming"  # not off until the server says so
    h.reply(0)
    st = h.dms.status()
    assert st.phase == "off" and st.confirmed_off and st.cancel_at is None
    await h.run_until(40)
    assert h.sent[-1] == (1.0, 0)  # nothing more is sent once off


@pytest.mark.asyncio
async def test_disarm_unconfirmed_alarms_and_retries() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.run_until(1)
    h.dms.disarm()
    await h.run_until(7, auto_reply=False)
    st = h.dms.status()
    assert st.phase == "alarm" and st.alarm is not None and "disarm not confirmed" in st.alarm
    assert [ms for _, ms in h.sent].count(0) == 2
    h.reply(0)
    assert h.dms.status().phase == "off"


@pytest.mark.asyncio
async def test_late_refresh_reply_after_disarm_is_disarmed_again() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.dms.step()  # 60000 in flight
    h.dms.disarm()
    h.reply(60_000)  # the refresh reply arrives after the user turned it off
    assert h.dms.status().phase == "disarming"
    await h.run_until(0.25)
    assert h.sent[-1][1] == 0
    assert h.dms.status().phase == "off"


@pytest.mark.asyncio
async def test_disarm_and_confirm_helper() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.dms.step()
    h.reply()

    async def sender(ms: int) -> None:
        h.sent.append((h.clock.t, ms))
        h.reply(ms)

    h.dms._send = sender
    assert await h.dms.disarm_and_confirm(wait_s=1.0)
    assert h.dms.status().phase == "off"


@pytest.mark.asyncio
async def test_disarm_and_confirm_times_out_without_reply() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.dms.step()
    h.reply()
    assert not await h.dms.disarm_and_confirm(wait_s=0.1, poll=0.01)


def test_repr_has_no_surprises() -> None:
    h = Harness()
    assert "DeadMansSwitch" in repr(h.dms)


@pytest.mark.asyncio
async def test_client_refusing_to_send_raises_banner() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(60)
    await h.dms.step()
    h.dms.handle_event(FeedError("bitmex", "cancelAllAfter not sent: not connected"))
    st = h.dms.status()
    assert st.phase == "alarm" and st.alarm is not None and "not connected" in st.alarm


@pytest.mark.asyncio
async def test_set_timeout_without_arming_then_rearm_when_on() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.set_timeout(30)
    await h.dms.step()
    assert h.sent == [] and h.dms.timeout_s == 30
    h.dms.arm()
    await h.run_until(0.25)
    assert h.sent == [(0.25, 30_000)]
    h.dms.set_timeout(2)  # below the minimum: clamped, and re-armed at once
    await h.run_until(0.5)
    assert h.sent[-1] == (0.5, 5_000)


@pytest.mark.asyncio
async def test_reply_wait_is_capped_by_the_refresh_period() -> None:
    h = Harness()
    h.dms.set_connected(True)
    h.dms.arm(5)  # refresh every 1.25 s: a lost reply must not block refreshes for 5 s
    await h.run_until(0.25, auto_reply=False)
    await h.run_until(1.5, auto_reply=False)
    assert h.dms.status().phase == "arming"
    await h.run_until(1.75, auto_reply=False)
    st = h.dms.status()
    assert st.alarm is not None and "within 1.25 s" in st.alarm
    assert [t for t, _ in h.sent] == [0.25, 1.75]
