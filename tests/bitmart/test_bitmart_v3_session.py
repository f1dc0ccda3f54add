"""v3 session logic with an injected clock: message window, topic limits, snapshot timeouts."""

from __future__ import annotations

import json

import pytest

from app.feeds.bitmart.client_v3 import BitmartConfig, V3ClientStats, V3Session, expand_v3_topics
from app.feeds.bitmart.deflate import deflate
from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.bitmart.rate_limit import MessageWindow
from app.feeds.bitmart.subscriptions import TopicError
from app.feeds.events import Event, Reset, Resync


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _session(clock: Clock, **kw: object) -> tuple[V3Session, list[Event]]:
    events: list[Event] = []
    config = BitmartConfig(url="ws://x/api", **kw)  # type: ignore[arg-type]
    session = V3Session(config, V3Parser(), events.append, V3ClientStats(), clock, None)
    return session, events


def _ops(frames: list[str | bytes]) -> list[tuple[str, int]]:
    return [(json.loads(f)["op"], len(json.loads(f)["args"])) for f in frames]


def test_message_window_queues_frames_until_there_is_room() -> None:
    clock = Clock()
    session, events = _session(clock, max_messages=5, message_window=10.0, ping_headroom=2)
    topics = [f"spot/trade:S{i}_USDT" for i in range(100)]
    session.add(topics, clock())
    frames = session.opened(clock())
    assert isinstance(events[0], Reset)
    assert _ops(frames) == [("subscribe", 20)] * 3
    assert session.deadline() == clock.now + 10.0
    assert session.tick(clock.now + 5.0) == []
    clock.now += 10.0
    assert _ops(session.tick(clock.now)) == [("subscribe", 20)] * 2
    assert session.deadline() is None
    # pings count in the same window; queued requests always leave them headroom
    assert session.window.available(clock.now) == 3
    assert session.ping_frame() == "ping"
    assert session.window.available(clock.now) == 2


def test_topic_limits() -> None:
    clock = Clock()
    session, _ = _session(clock)
    with pytest.raises(TopicError):
        session.add([f"spot/trade:S{i}" for i in range(116)], clock())
    session.add(["spot/depth5:BTC_USDT"], clock())
    with pytest.raises(TopicError):
        session.add(["spot/depth/increase100:BTC_USDT"], clock())
    session.add(["spot/depth/increase100:ETH_USDT"], clock())
    assert expand_v3_topics(["A_B", "C_D"], ["spot/ticker", "spot/trade:A_B"]) == [
        "spot/ticker:A_B",
        "spot/ticker:C_D",
        "spot/trade:A_B",
    ]
    with pytest.raises(TopicError):
        expand_v3_topics(["A_B"], ["spot/kline3m"])


def test_missing_snapshot_is_requested_again() -> None:
    clock = Clock()
    session, _ = _session(clock, snapshot_timeout=2.0)
    session.add(["spot/depth/increase100:BTC_USDT"], clock())
    assert _ops(session.opened(clock())) == [("subscribe", 1)]
    assert session.deadline() == clock.now + 2.0
    clock.now += 2.0
    (frame,) = session.tick(clock.now)
    assert json.loads(frame) == {"op": "request", "args": ["spot/depth/increase100:BTC_USDT"]}
    assert session.stats.snapshot_timeouts == 1
    snapshot = {
        "data": [
            {
                "asks": [["2", "1"]],
                "bids": [],
                "symbol": "BTC_USDT",
                "type": "snapshot",
                "version": 3,
                "ms_t": 1,
            }
        ],
        "table": "spot/depth/increase100",
    }
    assert session.received(clock.now, deflate(json.dumps(snapshot))) == []
    assert session.deadline() is None


def test_gap_queues_a_request_and_unsubscribe_mirrors() -> None:
    clock = Clock()
    session, events = _session(clock)
    session.add(["spot/depth/increase100:BTC_USDT"], clock())
    session.opened(clock())

    def push(kind: str, version: int) -> list[str | bytes]:
        row = {"asks": [], "bids": [], "symbol": "BTC_USDT", "type": kind, "version": version}
        msg = {"data": [row], "table": "spot/depth/increase100"}
        return session.received(clock.now, deflate(json.dumps(msg)))

    assert push("snapshot", 1) == []
    assert push("update", 2) == []
    (frame,) = push("update", 4)
    assert json.loads(frame)["op"] == "request"
    assert session.stats.resyncs == 1 and session.stats.snapshot_requests == 1
    assert [e.symbol for e in events if isinstance(e, Resync)] == ["BTC_USDT"]
    assert _ops(session.remove(["spot/depth/increase100:BTC_USDT"], clock())) == [
        ("unsubscribe", 1)
    ]
    assert session.deadline() is None


def test_message_window_slides() -> None:
    clock = Clock()
    window = MessageWindow(2, 10.0, clock)
    window.record(count=2)
    assert window.available() == 0 and window.next_free() == clock.now + 10.0
    clock.now += 10.0
    assert window.available() == 2


@pytest.mark.asyncio
async def test_per_ip_socket_cap_refuses_before_connecting() -> None:
    from app.feeds.bitmart import constants as c
    from app.feeds.bitmart.client_v3 import BitmartClient
    from app.feeds.bitmart.rate_limit import V3_OPEN_SOCKETS, ConnectionGate
    from app.feeds.connection import FeedFatal

    host = "127.0.0.9"
    for _ in range(c.V3_MAX_CONNECTIONS_PER_IP):
        V3_OPEN_SOCKETS.opened(host)
    try:
        config = BitmartConfig(url=f"ws://{host}:9/api", topics=["spot/trade:A_B"], max_failures=1)
        client = BitmartClient(config, print, gate=ConnectionGate(0.0))
        with pytest.raises(FeedFatal, match="already open"):
            await client.run()
    finally:
        for _ in range(c.V3_MAX_CONNECTIONS_PER_IP):
            V3_OPEN_SOCKETS.closed(host)
    assert V3_OPEN_SOCKETS.count(host) == 0
