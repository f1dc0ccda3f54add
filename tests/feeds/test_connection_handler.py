"""ConnectionHandler over real loopback sockets: back-off, budget, watchdog, heartbeat, statuses."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from typing import Any

import pytest
from headless.loopback import MiniBitmex
from websockets.asyncio.client import connect

from app.feeds import connection
from app.feeds.connection import (
    Backoff,
    ConnectionBudget,
    ConnectionHandler,
    ConnectionSettings,
    FeedFatal,
    PendingTracker,
    Reconnect,
    classify_connect_error,
)
from app.feeds.events import Event, FeedError, FeedStatus, Latency


class RecordingSession:
    """A minimal venue session: says hello on open and records what it gets."""

    venue = "test"

    def __init__(self, url: str) -> None:
        self._url = url
        self.opens = 0
        self.frames: list[Any] = []
        self.closed_reasons: list[str] = []
        self._deadline: float | None = None
        self.ticks = 0

    def url(self) -> str:
        return self._url

    def headers(self) -> dict[str, str] | None:
        return {"x-test": "1"}

    def opened(self, now: float) -> list[str | bytes]:
        self.opens += 1
        return ['{"op":"hello"}']

    def received(self, now: float, frame: str | bytes) -> list[str | bytes]:
        self.frames.append(frame)
        if frame == "explode":
            raise KeyError("boom")
        if frame == "reconnect":
            raise Reconnect("asked to reconnect")
        return []

    def deadline(self) -> float | None:
        return self._deadline

    def tick(self, now: float) -> list[str | bytes]:
        self.ticks += 1
        self._deadline = None
        return ['{"op":"tick"}']

    def closed(self, reason: str) -> None:
        self.closed_reasons.append(reason)

    def ping_frame(self) -> str | bytes:
        return "ping"

    def is_pong(self, frame: str | bytes) -> bool:
        return frame == "pong"


def fast(**overrides: Any) -> ConnectionSettings:
    base: dict[str, Any] = {
        "watchdog_idle": 5.0,
        "pong_timeout": 5.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "rate_limited_wait": 0.3,
        "open_timeout": 2.0,
        "close_timeout": 0.2,
    }
    base.update(overrides)
    return ConnectionSettings(**base)


def make(
    url: str, settings: ConnectionSettings
) -> tuple[ConnectionHandler, RecordingSession, list[Event]]:
    events: list[Event] = []
    session = RecordingSession(url)
    handler = ConnectionHandler(session, settings, events.append, rng=random.Random(7))
    return handler, session, events


def states(events: list[Event]) -> list[str]:
    return [e.state for e in events if isinstance(e, FeedStatus)]


async def stop(handler: ConnectionHandler, task: asyncio.Task[None]) -> None:
    await handler.close()
    await asyncio.wait_for(task, 2)


def test_backoff_grows_with_jitter_and_cap() -> None:
    backoff = Backoff(initial=1.0, maximum=10.0, factor=2.0, jitter=0.2, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    for i, delay in enumerate(delays[:3]):
        assert 0.8 * 2**i <= delay <= 1.2 * 2**i
    assert all(d <= 10.0 for d in delays)
    assert delays[-1] >= 8.0
    assert len({round(d, 6) for d in delays[:4]}) == 4
    backoff.reset()
    assert backoff.next_delay() <= 1.2


def test_budget_counts_a_rolling_window() -> None:
    budget = ConnectionBudget(limit=3, window=100.0)
    for t in (0.0, 10.0, 20.0):
        assert budget.wait_needed(t) == 0.0
        budget.record(t)
    assert budget.used(20.0) == 3
    assert budget.wait_needed(30.0) == pytest.approx(70.0)
    assert budget.wait_needed(100.0) == 0.0
    assert budget.used(100.0) == 2


def test_pending_tracker_reports_late_keys_once_per_period() -> None:
    tracker = PendingTracker(timeout=10.0)
    tracker.expect("a", 0.0)
    tracker.expect("b", 5.0)
    assert tracker.next_deadline() == 10.0
    assert tracker.overdue(9.9) == []
    assert tracker.overdue(10.0) == ["a"]
    assert tracker.overdue(12.0) == []
    assert tracker.done("b")
    assert not tracker.done("b")
    assert tracker.pending() == ["a"]


def test_classify_connect_errors() -> None:
    from websockets.datastructures import Headers
    from websockets.exceptions import InvalidStatus, InvalidURI
    from websockets.http11 import Response

    def status(code: int) -> Any:
        return classify_connect_error(InvalidStatus(Response(code, "x", Headers(), b"")))

    assert status(429).verdict == "rate_limited"
    assert status(401).verdict == "auth"
    assert status(403).verdict == "auth"
    assert status(503).verdict == "retry"
    assert status(404).verdict == "fatal"
    assert classify_connect_error(ConnectionRefusedError(111, "refused")).verdict == "retry"
    assert classify_connect_error(TimeoutError()).verdict == "retry"
    assert classify_connect_error(InvalidURI("x", "bad")).verdict == "fatal"


@pytest.mark.asyncio
async def test_reconnects_after_dropped_connection() -> None:
    async with MiniBitmex() as srv:
        handler, session, events = make(srv.url, fast())
        task = asyncio.create_task(handler.run())
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: conn.received == [{"op": "hello"}])
        await srv.drop()
        conn2 = await srv.wait_conns(2)
        await srv.wait_for(lambda: conn2.received == [{"op": "hello"}])
        assert session.opens == 2
        assert len(session.closed_reasons) == 1
        assert handler.stats.reconnects == 1
        assert states(events)[:2] == ["connecting", "live"]
        assert "reconnecting" in states(events)
        assert states(events)[-1] == "live"
        await stop(handler, task)
        assert states(events)[-1] == "down"


@pytest.mark.asyncio
async def test_watchdog_pings_and_measures_rtt_when_idle() -> None:
    async with MiniBitmex() as srv:
        handler, _session, events = make(srv.url, fast(watchdog_idle=0.05, pong_timeout=0.5))
        task = asyncio.create_task(handler.run())
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: conn.received.count("ping") >= 2)
        assert any(isinstance(e, Latency) and e.rtt_ms >= 0 for e in events)
        assert handler.stats.rtt_ms is not None
        assert len(srv.conns) == 1
        assert "stale" in states(events)
        assert states(events)[-1] in ("live", "stale")
        await stop(handler, task)


@pytest.mark.asyncio
async def test_watchdog_reconnects_after_stall() -> None:
    async with MiniBitmex() as srv:
        srv.answer_pings = False
        handler, session, events = make(srv.url, fast(watchdog_idle=0.05, pong_timeout=0.05))
        task = asyncio.create_task(handler.run())
        await srv.wait_conns(2)
        assert handler.stats.watchdog_reconnects >= 1
        assert "no pong" in session.closed_reasons[0]
        seq = states(events)
        assert seq.index("stale") < seq.index("reconnecting")
        await stop(handler, task)


@pytest.mark.asyncio
async def test_watchdog_drops_a_dead_server_without_waiting_for_a_close_handshake() -> None:
    async with MiniBitmex() as srv:
        # Long enough that a reconnect waiting for the dead server's close reply would miss
        # the deadline of wait_conns below.
        handler, session, _events = make(
            srv.url, fast(watchdog_idle=0.05, pong_timeout=0.05, close_timeout=30.0)
        )
        task = asyncio.create_task(handler.run())
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: conn.received == [{"op": "hello"}])
        conn.ws.transport.pause_reading()  # the server goes dead: reads nothing, answers nothing
        await srv.wait_conns(2, within=3.0)
        assert handler.stats.watchdog_reconnects == 1
        assert "no pong" in session.closed_reasons[0]
        conn.ws.transport.resume_reading()
        await stop(handler, task)


@pytest.mark.asyncio
async def test_heartbeat_mode_pings_on_schedule_despite_traffic() -> None:
    async with MiniBitmex() as srv:
        handler, _session, events = make(srv.url, fast(watchdog_idle=5.0, heartbeat_interval=0.03))
        task = asyncio.create_task(handler.run())
        conn = await srv.wait_conns(1)

        async def chatter() -> None:
            while True:
                await srv.send({"table": "x", "action": "insert", "data": []}, conn)
                await asyncio.sleep(0.005)

        noise = asyncio.create_task(chatter())
        await srv.wait_for(lambda: conn.received.count("ping") >= 3)
        noise.cancel()
        assert sum(isinstance(e, Latency) for e in events) >= 2
        await stop(handler, task)


@pytest.mark.asyncio
async def test_first_heartbeat_measures_the_round_trip_soon_after_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection, "FIRST_HEARTBEAT_S", 0.2)
    async with MiniBitmex() as srv:
        handler, _session, events = make(srv.url, fast(watchdog_idle=30.0, heartbeat_interval=30))
        task = asyncio.create_task(handler.run())
        started = time.monotonic()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: any(isinstance(e, Latency) for e in events))
        assert 0.15 <= time.monotonic() - started < 5.0  # not a whole 30 s interval
        assert conn.received.count("ping") == 1
        await stop(handler, task)


@pytest.mark.asyncio
async def test_429_waits_at_least_the_rate_limited_wait() -> None:
    async with MiniBitmex() as srv:
        srv.reject_statuses = [429]
        handler, _session, events = make(srv.url, fast(rate_limited_wait=0.3))
        task = asyncio.create_task(handler.run())
        await srv.wait_conns(1)
        first, second = srv.handshake_times[:2]
        assert second - first >= 0.3
        assert handler.stats.rate_limited == 1
        assert any(
            isinstance(e, FeedStatus) and e.state == "reconnecting" and "429" in e.detail
            for e in events
        )
        await stop(handler, task)


@pytest.mark.asyncio
async def test_5xx_is_retried() -> None:
    async with MiniBitmex() as srv:
        srv.reject_statuses = [503, 502]
        handler, _session, _events = make(srv.url, fast())
        task = asyncio.create_task(handler.run())
        await srv.wait_conns(1)
        assert len(srv.handshake_times) == 3
        await stop(handler, task)


@pytest.mark.asyncio
async def test_401_is_fatal_and_not_retried() -> None:
    async with MiniBitmex() as srv:
        srv.reject_statuses = [401, 401, 401]
        handler, _session, events = make(srv.url, fast())
        with pytest.raises(FeedFatal) as info:
            await asyncio.wait_for(handler.run(), 2)
        assert info.value.auth
        assert info.value.status == 401
        assert len(srv.handshake_times) == 1
        assert states(events)[-1] == "down"


@pytest.mark.asyncio
async def test_connection_budget_delays_attempts() -> None:
    async with MiniBitmex() as srv:
        handler, _session, events = make(srv.url, fast(connections_per_window=2, budget_window=0.4))
        task = asyncio.create_task(handler.run())
        await srv.wait_conns(1)
        await srv.drop()
        await srv.wait_conns(2)
        await srv.drop()
        await srv.wait_conns(3)
        times = srv.handshake_times
        assert times[2] - times[0] >= 0.4 - 0.01
        assert any(isinstance(e, FeedStatus) and "budget" in e.detail for e in events)
        await stop(handler, task)


@pytest.mark.asyncio
async def test_session_deadline_drives_tick() -> None:
    async with MiniBitmex() as srv:
        handler, session, _events = make(srv.url, fast())
        loop = asyncio.get_running_loop()
        session._deadline = loop.time() + 0.05
        task = asyncio.create_task(handler.run())
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: {"op": "tick"} in conn.received)
        assert session.ticks == 1
        await stop(handler, task)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_refused_connection_gives_up_after_max_failures() -> None:
    url = f"ws://127.0.0.1:{_free_port()}/realtime"
    handler, _session, events = make(url, fast(max_failures=3))
    with pytest.raises(FeedFatal) as info:
        await asyncio.wait_for(handler.run(), 2)
    assert "3 attempts" in str(info.value)
    assert handler.stats.attempts == 3
    assert states(events)[-1] == "down"


@pytest.mark.asyncio
async def test_invalid_url_is_fatal() -> None:
    handler, _session, _events = make("http//nonsense", fast())
    with pytest.raises(FeedFatal, match="invalid URL"):
        await asyncio.wait_for(handler.run(), 2)


@pytest.mark.asyncio
async def test_close_during_backoff_returns_promptly() -> None:
    url = f"ws://127.0.0.1:{_free_port()}/realtime"
    handler, _session, events = make(url, fast(backoff_initial=30.0, backoff_max=30.0))
    task = asyncio.create_task(handler.run())
    for _ in range(200):
        if handler.stats.failures:
            break
        await asyncio.sleep(0.005)
    await handler.close()
    await asyncio.wait_for(task, 1)
    assert states(events)[-1] == "down"


@pytest.mark.asyncio
async def test_session_errors_are_reported_and_reconnect_requests_honoured() -> None:
    async with MiniBitmex() as srv:
        handler, session, events = make(srv.url, fast())
        task = asyncio.create_task(handler.run())
        conn = await srv.wait_conns(1)
        await srv.send("explode", conn)
        await srv.send("after", conn)
        await srv.wait_for(lambda: "after" in session.frames)
        assert handler.stats.frame_errors == 1
        assert any(isinstance(e, FeedError) and "boom" in e.message for e in events)
        assert len(srv.conns) == 1
        await srv.send("reconnect", conn)
        await srv.wait_conns(2)
        assert session.closed_reasons == ["asked to reconnect"]
        await stop(handler, task)


@pytest.mark.asyncio
async def test_close_during_a_hanging_handshake_returns_promptly() -> None:
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(65536)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    handler, _session, events = make(f"ws://127.0.0.1:{port}/realtime", fast(open_timeout=30.0))
    task = asyncio.create_task(handler.run())
    await asyncio.sleep(0.1)
    assert handler.stats.attempts == 1
    started = asyncio.get_running_loop().time()
    await handler.close()
    await asyncio.wait_for(task, 1)
    assert asyncio.get_running_loop().time() - started < 1
    assert handler.stats.failures == 0
    assert states(events)[-1] == "down"
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.mark.asyncio
async def test_close_landing_as_the_handshake_completes_leaves_no_socket_served() -> None:
    async with MiniBitmex() as srv:
        events: list[Event] = []
        session = RecordingSession(srv.url)
        handler: ConnectionHandler

        async def connect_then_close(*args: Any, **kwargs: Any) -> Any:
            ws = await connect(*args, **kwargs)
            # close() runs after the handshake succeeded and before run() resumes with the socket.
            asyncio.get_running_loop().create_task(handler.close())
            return ws

        handler = ConnectionHandler(session, fast(), events.append, connect_fn=connect_then_close)
        await asyncio.wait_for(handler.run(), 2)
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: conn.ws.state.name == "CLOSED")
        assert session.opens == 0 and conn.received == []
        assert handler.stats.connects == 0 and not handler.connected
        assert states(events)[-1] == "down"


@pytest.mark.asyncio
async def test_close_before_run_is_final() -> None:
    async with MiniBitmex() as srv:
        handler, session, events = make(srv.url, fast())
        await handler.close()
        await asyncio.wait_for(handler.run(), 2)
        assert handler.stats.attempts == 0 and srv.handshake_times == []
        assert session.opens == 0
        assert states(events) == ["down"]


def test_settings_of_a_venue_config_copy_same_named_fields_then_overrides() -> None:
    class VenueConfig:
        watchdog_idle = 1.5
        open_timeout = 3.0
        ping_interval = 7.0  # a venue name: mapped by an override

    settings = ConnectionSettings.of(VenueConfig(), heartbeat_interval=VenueConfig.ping_interval)
    assert settings.watchdog_idle == 1.5 and settings.open_timeout == 3.0
    assert settings.heartbeat_interval == 7.0
    assert settings.pong_timeout == ConnectionSettings().pong_timeout
