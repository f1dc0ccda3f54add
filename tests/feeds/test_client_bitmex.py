"""BitmexClient over real loopback sockets against a small scripted BitMEX-like server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from headless.loopback import MiniBitmex, l2_row

from app.feeds.bitmex.auth import ApiCredentials, sign
from app.feeds.bitmex.client import (
    BitmexClient,
    BitmexConfig,
    batches,
    check_book_tables,
    expand_topics,
    with_heartbeat,
)
from app.feeds.connection import FeedFatal
from app.feeds.events import (
    AuthResult,
    BookLevels,
    CancelAllAfterReply,
    Event,
    FeedError,
    FeedStatus,
    Reset,
    Resync,
    SubscriptionAck,
)

KEY = "TESTKEY123"
SECRET = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO"


class Books:
    """Folds BookLevels events into price -> size maps (what a screen would show)."""

    def __init__(self) -> None:
        self.books: dict[str, tuple[dict[float, float], dict[float, float]]] = {}

    def apply(self, event: Event) -> None:
        if isinstance(event, Reset):
            self.books.clear()
        if not isinstance(event, BookLevels):
            return
        if event.snapshot or event.symbol not in self.books:
            self.books[event.symbol] = ({}, {})
        bids, asks = self.books[event.symbol]
        if event.snapshot:
            bids.clear()
            asks.clear()
        for side, levels in ((bids, event.bids), (asks, event.asks)):
            for price, size in levels:
                if size == 0:
                    side.pop(price, None)
                else:
                    side[price] = size

    def of(self, symbol: str) -> tuple[dict[float, float], dict[float, float]]:
        return self.books.get(symbol, ({}, {}))


def expected(rows: list[dict[str, Any]]) -> tuple[dict[float, float], dict[float, float]]:
    bids = {r["price"]: r["size"] for r in rows if r["side"] == "Buy"}
    asks = {r["price"]: r["size"] for r in rows if r["side"] == "Sell"}
    return bids, asks


def book_rows(symbol: str, base: float, n: int = 5) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        rows.append(l2_row(symbol, 1000 + i, "Sell", 100 + i, base + 0.5 * (i + 1)))
        rows.append(l2_row(symbol, 2000 + i, "Buy", 200 + i, base - 0.5 * i))
    return rows


def fast_config(url: str, **overrides: Any) -> BitmexConfig:
    values: dict[str, Any] = {
        "url": url,
        "symbols": ["XBTUSD"],
        "topics": ["orderBookL2"],
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "partial_timeout": 5.0,
        "open_timeout": 2.0,
    }
    values.update(overrides)
    return BitmexConfig(**values)


class Harness:
    def __init__(self, config: BitmexConfig) -> None:
        self.events: list[Event] = []
        self.books = Books()
        self.raw: list[tuple[float, Any]] = []
        self.client = BitmexClient(config, self.on_event, on_raw=self.on_raw)
        self.task: asyncio.Task[None] | None = None

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self.books.apply(event)

    def on_raw(self, t: float, frame: Any) -> None:
        self.raw.append((t, frame))

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def start(self) -> Harness:
        self.task = asyncio.create_task(self.client.run())
        return self

    async def stop(self) -> None:
        await self.client.close()
        assert self.task is not None
        await asyncio.wait_for(self.task, 2)


def subscribes(received: list[Any]) -> list[list[str]]:
    return [m["args"] for m in received if isinstance(m, dict) and m.get("op") == "subscribe"]


def unsubscribes(received: list[Any]) -> list[list[str]]:
    return [m["args"] for m in received if isinstance(m, dict) and m.get("op") == "unsubscribe"]


def test_topic_expansion_and_batching() -> None:
    topics = expand_topics(
        ["orderBookL2", "trade:ETHUSD", "margin", "wallet", "orderBookL2", " ", "order"],
        ["XBTUSD", "ETHUSD"],
    )
    assert topics == [
        "orderBookL2:XBTUSD",
        "orderBookL2:ETHUSD",
        "trade:ETHUSD",
        "margin",
        "wallet",
        "order:XBTUSD",
        "order:ETHUSD",
    ]
    assert expand_topics(["instrument"], []) == ["instrument"]
    parts = batches([str(i) for i in range(45)])
    assert [len(p) for p in parts] == [20, 20, 5]
    assert with_heartbeat("ws://h/realtime") == "ws://h/realtime?heartbeat=true"
    assert with_heartbeat("ws://h/realtime?a=1") == "ws://h/realtime?a=1&heartbeat=true"
    assert with_heartbeat("ws://h/realtime?heartbeat=true") == "ws://h/realtime?heartbeat=true"


def test_whole_tables_stay_unfiltered_beside_per_symbol_tables() -> None:
    config = BitmexConfig(
        symbols=["XBTUSD", "ETHUSD"],
        topics=["orderBookL2", "trade:XBTUSD"],
        whole_tables=["instrument", "liquidation"],
    )
    assert config.subscriptions() == [
        "orderBookL2:XBTUSD",
        "orderBookL2:ETHUSD",
        "trade:XBTUSD",
        "instrument",
        "liquidation",
    ]
    assert config.expand(["instrument", "trade"]) == ["instrument", "trade:XBTUSD", "trade:ETHUSD"]
    assert expand_topics(["liquidation", "quote"], ["XBTUSD"], ["liquidation"]) == [
        "liquidation",
        "quote:XBTUSD",
    ]


@pytest.mark.parametrize(
    ("symbols", "topics", "clash"),
    [
        (["XBTUSD"], ["orderBookL2", "orderBookL2_25"], "orderBookL2:XBTUSD and orderBookL2_25"),
        (["XBTUSD"], ["orderBook10", "orderBookL2:XBTUSD"], "orderBook10:XBTUSD and orderBookL2"),
        ([], ["orderBookL2", "orderBook10:ETHUSD"], "orderBookL2 and orderBook10:ETHUSD"),
        ([], ["orderBookL2:XBTUSD", "orderBookL2"], "orderBookL2:XBTUSD and orderBookL2"),
    ],
)
def test_two_book_tables_for_one_symbol_are_rejected(
    symbols: list[str], topics: list[str], clash: str
) -> None:
    with pytest.raises(ValueError, match=f"one book table per symbol: {clash}"):
        BitmexConfig(symbols=symbols, topics=topics)


def test_one_book_table_per_symbol_is_accepted() -> None:
    config = BitmexConfig(
        symbols=["XBTUSD"], topics=["orderBookL2", "orderBook10:ETHUSD", "trade", "quote"]
    )
    assert config.subscriptions()[:2] == ["orderBookL2:XBTUSD", "orderBook10:ETHUSD"]
    check_book_tables(["orderBookL2_25:XBTUSD", "orderBookL2_25:ETHUSD", "trade"])


@pytest.mark.asyncio
async def test_subscribes_in_batches_of_at_most_20() -> None:
    symbols = [f"SYM{i}" for i in range(23)]
    async with MiniBitmex() as srv:
        h = Harness(fast_config(srv.url, symbols=symbols, topics=["orderBookL2", "trade"])).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: len(h.of(SubscriptionAck)) == 46)
        sent = subscribes(conn.received)
        assert all(1 <= len(args) <= 20 for args in sent)
        flat = [t for args in sent for t in args]
        assert sorted(flat) == sorted(
            [f"orderBookL2:{s}" for s in symbols] + [f"trade:{s}" for s in symbols]
        )
        assert all(a.success for a in h.of(SubscriptionAck))
        assert not any(isinstance(e, FeedError) for e in h.events)
        await h.stop()


@pytest.mark.asyncio
async def test_book_and_reconnect_after_dropped_connection() -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book_rows("XBTUSD", 50000.0)
        h = Harness(fast_config(srv.url)).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: h.books.of("XBTUSD")[0] != {})
        assert h.books.of("XBTUSD") == expected(srv.books["XBTUSD"])
        await srv.send(
            {
                "table": "orderBookL2",
                "action": "update",
                "data": [{"symbol": "XBTUSD", "id": 2000, "side": "Buy", "size": 7}],
            },
            conn,
        )
        await srv.wait_for(lambda: h.books.of("XBTUSD")[0].get(50000.0) == 7)
        srv.books["XBTUSD"] = book_rows("XBTUSD", 51000.0, n=3)
        await srv.drop()
        conn2 = await srv.wait_conns(2)
        await srv.wait_for(lambda: h.books.of("XBTUSD") == expected(srv.books["XBTUSD"]))
        assert subscribes(conn2.received) == [["orderBookL2:XBTUSD"]]
        assert len(h.of(Reset)) >= 1
        assert h.client.stats.reconnects == 1
        reset_at = max(i for i, e in enumerate(h.events) if isinstance(e, Reset))
        status_after = [e.state for e in h.events[reset_at:] if isinstance(e, FeedStatus)]
        assert "live" in status_after
        await h.stop()


@pytest.mark.asyncio
async def test_watchdog_stall_reconnects_and_rebuilds_book() -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book_rows("XBTUSD", 50000.0)
        srv.answer_pings = False
        h = Harness(fast_config(srv.url, watchdog_idle=0.05, pong_timeout=0.05)).start()
        await srv.wait_conns(2)
        await srv.wait_for(lambda: h.books.of("XBTUSD") == expected(srv.books["XBTUSD"]))
        states = [e.state for e in h.of(FeedStatus)]
        assert "stale" in states and "reconnecting" in states
        assert h.client.stats.watchdog_reconnects >= 1
        await h.stop()


@pytest.mark.asyncio
async def test_unknown_key_update_resubscribes_that_topic() -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book_rows("XBTUSD", 50000.0)
        srv.books["ETHUSD"] = book_rows("ETHUSD", 3000.0)
        h = Harness(fast_config(srv.url, symbols=["XBTUSD", "ETHUSD"])).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: h.books.of("ETHUSD")[0] != {})
        srv.books["XBTUSD"] = book_rows("XBTUSD", 49000.0, n=4)
        await srv.send(
            {
                "table": "orderBookL2",
                "action": "update",
                "data": [{"symbol": "XBTUSD", "id": 999999, "side": "Buy", "size": 1}],
            },
            conn,
        )
        await srv.wait_for(lambda: h.books.of("XBTUSD") == expected(srv.books["XBTUSD"]))
        assert unsubscribes(conn.received) == [["orderBookL2:XBTUSD"]]
        assert subscribes(conn.received)[-1] == ["orderBookL2:XBTUSD"]
        assert [e.symbol for e in h.of(Resync)] == ["XBTUSD"]
        assert h.books.of("ETHUSD") == expected(srv.books["ETHUSD"])
        assert len(srv.conns) == 1
        assert h.client.stats.resubscribes == 1
        await h.stop()


@pytest.mark.asyncio
async def test_partial_timeout_resubscribes() -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book_rows("XBTUSD", 50000.0)
        srv.withhold_partials = {"orderBookL2:XBTUSD"}
        h = Harness(fast_config(srv.url, partial_timeout=0.1)).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: h.books.of("XBTUSD") == expected(srv.books["XBTUSD"]))
        assert srv.withheld == ["orderBookL2:XBTUSD"]
        assert unsubscribes(conn.received) == [["orderBookL2:XBTUSD"]]
        assert len(subscribes(conn.received)) == 2
        assert h.client.stats.partial_timeouts == 1
        assert any("no snapshot" in e.message for e in h.of(FeedError))
        await asyncio.sleep(0.25)
        assert len(subscribes(conn.received)) == 2
        await h.stop()


@pytest.mark.asyncio
async def test_heartbeat_mode_url_and_pings() -> None:
    async with MiniBitmex() as srv:
        h = Harness(
            fast_config(srv.url, heartbeat_mode=True, heartbeat_interval=0.03, watchdog_idle=5.0)
        ).start()
        conn = await srv.wait_conns(1)
        assert conn.path.endswith("?heartbeat=true")
        await srv.wait_for(lambda: conn.received.count("ping") >= 3)
        assert h.client.stats.rtt_ms is not None
        await h.stop()


@pytest.mark.asyncio
async def test_auth_expires_frame_verified_by_server_and_private_after_auth() -> None:
    async with MiniBitmex(key=KEY, secret=SECRET) as srv:
        creds = ApiCredentials(KEY, SECRET)
        config = fast_config(srv.url, topics=["orderBookL2", "order", "margin"], credentials=creds)
        h = Harness(config).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: len(h.of(SubscriptionAck)) == 3)
        auth = conn.received[0]
        assert auth["op"] == "authKeyExpires"
        key, expires, signature = auth["args"]
        assert key == KEY and isinstance(expires, int) and expires > time.time()
        assert signature == sign(SECRET, "GET", "/realtime", expires)
        assert conn.authenticated
        assert [e.success for e in h.of(AuthResult)] == [True]
        sent = subscribes(conn.received)
        assert sent[0] == ["orderBookL2:XBTUSD"]
        assert sent[1] == ["order:XBTUSD", "margin"]
        assert conn.received.index(auth) < conn.received.index({"op": "subscribe", "args": sent[1]})
        assert SECRET not in repr(h.client.config) and SECRET not in str(h.raw)
        await srv.drop()
        conn2 = await srv.wait_conns(2)
        await srv.wait_for(lambda: conn2.authenticated)
        assert conn2.received[0]["args"][1] >= expires
        await h.stop()


@pytest.mark.asyncio
async def test_legacy_nonce_auth_increases_across_connections() -> None:
    async with MiniBitmex(key=KEY, secret=SECRET) as srv:
        config = fast_config(
            srv.url, topics=["position"], credentials=ApiCredentials(KEY, SECRET), auth_mode="nonce"
        )
        h = Harness(config).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: conn.authenticated)
        await srv.drop()
        conn2 = await srv.wait_conns(2)
        await srv.wait_for(lambda: conn2.authenticated)
        first, second = conn.received[0], conn2.received[0]
        assert first["op"] == second["op"] == "authKey"
        assert second["args"][1] > first["args"][1]
        await h.stop()


@pytest.mark.asyncio
async def test_rejected_auth_is_fatal() -> None:
    async with MiniBitmex(key=KEY, secret=SECRET) as srv:
        config = fast_config(
            srv.url, topics=["order"], credentials=ApiCredentials(KEY, "wrong-secret")
        )
        h = Harness(config)
        with pytest.raises(FeedFatal) as info:
            await asyncio.wait_for(h.client.run(), 2)
        assert info.value.auth
        assert "wrong-secret" not in str(info.value)
        assert [e.success for e in h.of(AuthResult)] == [False]
        assert h.of(FeedStatus)[-1].state == "down"
        assert len(srv.conns) == 1
        assert subscribes(srv.conns[0].received) == []


@pytest.mark.asyncio
async def test_handshake_401_is_fatal_for_the_client() -> None:
    async with MiniBitmex() as srv:
        srv.reject_statuses = [401]
        h = Harness(fast_config(srv.url))
        with pytest.raises(FeedFatal):
            await asyncio.wait_for(h.client.run(), 2)
        assert len(srv.handshake_times) == 1


@pytest.mark.asyncio
async def test_cancel_all_after_round_trip_and_runtime_subscribe() -> None:
    async with MiniBitmex() as srv:
        h = Harness(fast_config(srv.url, topics=[])).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: any(e.state == "live" for e in h.of(FeedStatus)))
        await h.client.cancel_all_after(60000)
        await srv.wait_for(lambda: len(h.of(CancelAllAfterReply)) == 1)
        assert {"op": "cancelAllAfter", "args": 60000} in conn.received
        await h.client.subscribe(["trade", "instrument:XBTUSD"])
        await srv.wait_for(lambda: len(h.of(SubscriptionAck)) == 2)
        assert subscribes(conn.received) == [["trade:XBTUSD", "instrument:XBTUSD"]]
        await h.client.unsubscribe(["trade"])
        await srv.wait_for(lambda: len(h.of(SubscriptionAck)) == 3)
        assert h.client.topics == ["instrument:XBTUSD"]
        await h.stop()
    offline = Harness(fast_config("ws://127.0.0.1:9/realtime"))
    await offline.client.cancel_all_after(0)
    assert any("not connected" in e.message for e in offline.of(FeedError))


@pytest.mark.asyncio
async def test_runtime_subscribe_of_a_second_book_table_is_refused() -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book_rows("XBTUSD", 50000.0)
        h = Harness(fast_config(srv.url, whole_tables=["instrument"])).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: len(h.of(SubscriptionAck)) == 2)
        await h.client.subscribe(["trade", "orderBook10"])
        refused = [e for e in h.of(FeedError) if "subscribe refused" in e.message]
        assert len(refused) == 1
        assert "one book table per symbol" in refused[0].message
        assert "orderBookL2:XBTUSD and orderBook10:XBTUSD" in refused[0].message
        await h.client.subscribe(["orderBook10:ETHUSD"])
        await srv.wait_for(lambda: len(h.of(SubscriptionAck)) == 3)
        assert subscribes(conn.received) == [
            ["orderBookL2:XBTUSD", "instrument"],
            ["orderBook10:ETHUSD"],
        ]
        assert h.client.topics == ["orderBookL2:XBTUSD", "instrument", "orderBook10:ETHUSD"]
        await h.client.unsubscribe(["instrument"])
        await srv.wait_for(lambda: unsubscribes(conn.received) == [["instrument"]])
        await h.stop()


@pytest.mark.asyncio
async def test_malformed_frames_and_errors_never_crash() -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book_rows("XBTUSD", 50000.0)
        h = Harness(fast_config(srv.url)).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: h.books.of("XBTUSD")[0] != {})
        for bad in ("{not json", "[1,2]", "42", '{"table":"nope","action":"insert","data":[]}'):
            await srv.send(bad, conn)
        await srv.send({"status": 400, "error": "Unknown table: x", "meta": {}}, conn)
        await srv.wait_for(lambda: len(h.of(FeedError)) >= 5)
        assert h.books.of("XBTUSD") == expected(srv.books["XBTUSD"])
        assert len(srv.conns) == 1
        await h.stop()


@pytest.mark.asyncio
async def test_no_auth_reply_reconnects() -> None:
    async with MiniBitmex(key=KEY, secret=SECRET) as srv:
        swallowed: list[Any] = []

        async def swallow_first_auth(conn: Any, msg: Any) -> bool:
            if isinstance(msg, dict) and msg.get("op") == "authKeyExpires" and not swallowed:
                swallowed.append(msg)
                return True
            return False

        srv.on_message = swallow_first_auth
        config = fast_config(
            srv.url, topics=["order"], credentials=ApiCredentials(KEY, SECRET), auth_timeout=0.1
        )
        h = Harness(config).start()
        conn2 = await srv.wait_conns(2)
        await srv.wait_for(lambda: conn2.authenticated)
        await srv.wait_for(lambda: subscribes(conn2.received) == [["order:XBTUSD"]])
        assert subscribes(srv.conns[0].received) == []
        assert any(
            isinstance(e, FeedStatus) and "no reply to authentication" in e.detail for e in h.events
        )
        await h.stop()


@pytest.mark.asyncio
async def test_429_handshake_waits_then_connects() -> None:
    async with MiniBitmex() as srv:
        srv.reject_statuses = [429]
        srv.books["XBTUSD"] = book_rows("XBTUSD", 50000.0)
        h = Harness(fast_config(srv.url, rate_limited_wait=0.25)).start()
        await srv.wait_for(lambda: h.books.of("XBTUSD") == expected(srv.books["XBTUSD"]))
        first, second = srv.handshake_times[:2]
        assert second - first >= 0.25
        assert h.client.stats.rate_limited == 1
        assert h.client.snapshot_stats().connects_last_hour >= 2
        await h.stop()


def test_clients_of_one_host_share_the_connection_budget() -> None:
    a = BitmexClient(BitmexConfig(url="wss://ws.example.test/realtime"), lambda e: None)
    b = BitmexClient(BitmexConfig(url="wss://ws.example.test/realtime?x=1"), lambda e: None)
    c = BitmexClient(BitmexConfig(url="wss://other.example.test/realtime"), lambda e: None)
    assert a.handler.budget is b.handler.budget
    assert a.handler.budget is not c.handler.budget
    assert a.handler.budget.limit == 60 and a.handler.budget.window == 3600.0
