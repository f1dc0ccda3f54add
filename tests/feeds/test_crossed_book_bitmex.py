"""A BitMEX book that stays crossed is rebuilt from a fresh partial: engine, protocol, and the
client with the crossed-book guard over real loopback sockets against a scripted server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from headless.loopback import Conn, MiniBitmex, l2_row

from app.feeds.bitmex.client import BitmexClient, BitmexConfig, BitmexProtocol
from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import BookLevels, Event, Resync
from app.state.crossed_guard import CROSSED_GRACE_S, CrossedBookGuard
from app.state.market import MarketState

SYM = "XBTUSD"
ETH = "ETHUSD"


def rows(symbol: str, base: float, n: int = 4) -> list[dict[str, Any]]:
    """A consistent book: asks base+0.5.., bids base.. (ids 1000+i asks, 2000+i bids)."""
    out = []
    for i in range(n):
        out.append(l2_row(symbol, 1000 + i, "Sell", 100 + i, base + 0.5 * (i + 1)))
        out.append(l2_row(symbol, 2000 + i, "Buy", 200 + i, base - 0.5 * i))
    return out


def levels(data: list[dict[str, Any]], symbol: str) -> tuple[list[Any], list[Any]]:
    """(bids, asks) best first, as `L2Book.bids()/asks()` list them."""
    mine = [r for r in data if r["symbol"] == symbol]
    bids = sorted(((r["price"], r["size"]) for r in mine if r["side"] == "Buy"), reverse=True)
    asks = sorted((r["price"], r["size"]) for r in mine if r["side"] == "Sell")
    return bids, asks


def l2(action: str, *data: dict[str, Any]) -> dict[str, Any]:
    return {"table": "orderBookL2", "action": action, "data": list(data)}


def ops(conn: Conn, op: str) -> list[list[str]]:
    return [m["args"] for m in conn.received if isinstance(m, dict) and m.get("op") == op]


class Feed:
    """BitmexClient -> MarketState -> CrossedBookGuard, as `depthdesk feed` and the window
    wire them: every event is applied, then the guard looks."""

    def __init__(self, config: BitmexConfig, **guard: Any) -> None:
        self.state = MarketState("bitmex")
        self.events: list[Event] = []
        self.client = BitmexClient(config, self.on_event)
        self.guard = CrossedBookGuard(self.state, self.client.request_fresh_book, **guard)
        self.task: asyncio.Task[None] | None = None

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self.state.apply(event)
        self.guard.after_event(event)

    def book(self, symbol: str = SYM) -> tuple[list[Any], list[Any]]:
        book = self.state.book(symbol)
        return book.bids(), book.asks()

    def resyncs(self) -> list[Resync]:
        return [e for e in self.events if isinstance(e, Resync)]

    def start(self) -> Feed:
        self.task = asyncio.create_task(self.client.run())
        return self

    async def stop(self) -> None:
        await self.client.close()
        assert self.task is not None
        await asyncio.wait_for(self.task, 2)


def config(url: str, **overrides: Any) -> BitmexConfig:
    values: dict[str, Any] = {
        "url": url,
        "symbols": [SYM],
        "topics": ["orderBookL2"],
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "partial_timeout": 5.0,
        # Nothing but a frame or the protocol's own deadline may wake the receive loop.
        "watchdog_idle": 30.0,
        "open_timeout": 2.0,
    }
    values.update(overrides)
    return BitmexConfig(**values)


def unsubscribe_times(srv: MiniBitmex) -> list[float]:
    """Record when the server receives each unsubscribe (monotonic)."""
    times: list[float] = []

    async def note(_conn: Conn, msg: Any) -> bool:
        if isinstance(msg, dict) and msg.get("op") == "unsubscribe":
            times.append(time.monotonic())
        return False  # the server answers as usual

    srv.on_message = note
    return times


# ------------------------------------------------------------------------- engine/protocol


def partial(symbol: str | None, data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "table": "orderBookL2",
        "action": "partial",
        "keys": ["symbol", "id", "side"],
        "filter": {"symbol": symbol} if symbol else {},
        "data": data,
    }


def test_engine_voids_one_symbol_of_a_filtered_table() -> None:
    engine = BitmexEngine()
    engine.apply_message(partial(SYM, rows(SYM, 100.0)))
    engine.apply_message(partial(ETH, rows(ETH, 10.0)))
    resync = engine.void_book("orderBookL2", SYM, "book crossed")
    assert resync == Resync("bitmex", "orderBookL2", SYM, "book crossed")
    assert engine.take_resubscribe() == ["orderBookL2:XBTUSD"]
    assert engine.stats.resyncs == 1
    assert engine.apply_message(l2("update", l2_row(SYM, 2000, "Buy", 5, 100.0))) == []
    assert engine.stats.dropped_before_partial == 1 and engine.stats.unknown_keys == 0
    (eth,) = engine.apply_message(l2("update", l2_row(ETH, 2000, "Buy", 5, 10.0)))
    assert isinstance(eth, BookLevels) and eth.bids == [(10.0, 5)]
    assert engine.void_book("orderBookL2", SYM, "again") is None  # no partial held now
    assert engine.void_book("orderBookL2_25", ETH, "other table") is None


def test_engine_voids_the_whole_unfiltered_table() -> None:
    engine = BitmexEngine()
    engine.apply_message(partial(None, rows(SYM, 100.0) + rows(ETH, 10.0)))
    resync = engine.void_book("orderBookL2", ETH, "book crossed")
    assert resync == Resync("bitmex", "orderBookL2", None, "ETHUSD: book crossed")
    assert engine.take_resubscribe() == ["orderBookL2"]
    assert engine.book_symbols("orderBookL2") == []


def test_protocol_requests_only_for_l2_books_it_holds() -> None:
    now = 50.0
    events: list[Event] = []
    cfg = BitmexConfig(symbols=[SYM, ETH], topics=["orderBookL2_25", "trade"])
    protocol = BitmexProtocol(cfg, BitmexEngine(), events.append)
    protocol.open_messages(now)
    assert not protocol.request_fresh_book(SYM, "no partial yet", now)
    protocol.handle_message(now, {**partial(SYM, rows(SYM, 100.0)), "table": "orderBookL2_25"})
    assert protocol.deadline() == now + cfg.partial_timeout  # ETH's partial still awaited
    assert not protocol.request_fresh_book("SOLUSD", "not subscribed", now)
    assert protocol.request_fresh_book(SYM, "book crossed", now + 1.0)
    assert events[-1] == Resync("bitmex", "orderBookL2_25", SYM, "book crossed")
    assert protocol.deadline() == now + 1.0  # due at once
    messages = protocol.tick(now + 1.0)
    assert messages == [
        {"op": "unsubscribe", "args": ["orderBookL2_25:XBTUSD"]},
        {"op": "subscribe", "args": ["orderBookL2_25:XBTUSD"]},
    ]
    assert protocol.tick(now + 1.0) == [] and protocol.stats.resubscribes == 1
    book10 = BitmexProtocol(
        BitmexConfig(symbols=[SYM], topics=["orderBook10"]), BitmexEngine(), events.append
    )
    book10.open_messages(now)
    assert not book10.request_fresh_book(SYM, "each push is a whole book", now)


def test_client_not_connected_requests_nothing() -> None:
    client = BitmexClient(BitmexConfig(symbols=[SYM], topics=["orderBookL2"]), lambda _e: None)
    assert not client.request_fresh_book(SYM, "book crossed")


# ------------------------------------------------------------------------- over sockets


@pytest.mark.asyncio
async def test_a_book_left_crossed_is_resubscribed_and_rebuilt_from_a_fresh_partial() -> None:
    async with MiniBitmex() as srv:
        srv.books[SYM] = rows(SYM, 50000.0)
        received = unsubscribe_times(srv)
        feed = Feed(config(srv.url)).start()  # the guard's own thresholds: 1 s, 2 updates
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: feed.book() == levels(srv.books[SYM], SYM))
        srv.books[SYM] = rows(SYM, 50100.0, n=3)  # what the venue's book is by now
        # the delete of ask 50000.5 was lost; a bid at 50001.0 crosses it
        crossed_at = time.monotonic()
        await srv.send(l2("insert", l2_row(SYM, 3000, "Buy", 7, 50001.0)))
        await srv.wait_for(lambda: feed.state.crossed == {SYM})
        for level_id, side in ((2001, "Buy"), (1001, "Sell")):  # two more updates, still crossed
            await asyncio.sleep(0.05)
            await srv.send(l2("update", {"symbol": SYM, "id": level_id, "side": side, "size": 9}))
        await asyncio.sleep(crossed_at + CROSSED_GRACE_S + 0.05 - time.monotonic())
        assert received == [] and feed.state.crossed == {SYM}  # two updates, but < 1 s
        last_frame_at = time.monotonic()
        await srv.send(l2("update", {"symbol": SYM, "id": 2002, "side": "Buy", "size": 11}))
        # that was the last frame: the resubscribe must go out without another one
        await srv.wait_for(lambda: feed.book() == levels(srv.books[SYM], SYM), within=2.0)
        assert ops(conn, "unsubscribe") == [["orderBookL2:XBTUSD"]]
        assert ops(conn, "subscribe")[-1] == ["orderBookL2:XBTUSD"]
        (resync,) = feed.resyncs()
        assert resync.symbol == SYM and resync.table == "orderBookL2"
        assert resync.reason.startswith("book crossed for 1.")
        assert "bid 50001.0 >= ask 50000.5" in resync.reason
        assert feed.state.crossed == set() and feed.state.crossed_events == 1
        assert not feed.state.book(SYM).stale
        assert feed.guard.requests == 1 and feed.guard.pending() == []
        assert feed.client.engine.stats.resyncs == 1 and feed.client.stats.resubscribes == 1
        assert len(srv.conns) == 1  # rebuilt on the same connection
        (unsubscribed_at,) = received
        assert unsubscribed_at - last_frame_at < 0.3
        assert unsubscribed_at - crossed_at < CROSSED_GRACE_S + 0.4
        await feed.stop()


@pytest.mark.asyncio
async def test_a_crossed_symbol_of_an_unfiltered_table_resubscribes_the_table() -> None:
    async with MiniBitmex() as srv:
        srv.books[""] = rows(SYM, 50000.0) + rows(ETH, 3000.0)  # the unfiltered partial
        feed = Feed(config(srv.url, symbols=[]), grace_s=0.2).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: feed.book(ETH) == levels(srv.books[""], ETH))
        srv.books[""] = rows(SYM, 50100.0, n=2) + rows(ETH, 3010.0, n=2)
        await srv.send(l2("insert", l2_row(SYM, 3000, "Buy", 7, 50001.0)))
        for size in (8, 9, 10):
            await asyncio.sleep(0.1)
            await srv.send(l2("update", {"symbol": SYM, "id": 3000, "side": "Buy", "size": size}))
        await srv.wait_for(
            lambda: (
                feed.book(SYM) == levels(srv.books[""], SYM)
                and feed.book(ETH) == levels(srv.books[""], ETH)
            ),
            within=2.0,
        )
        assert ops(conn, "unsubscribe") == [["orderBookL2"]]
        assert ops(conn, "subscribe")[-1] == ["orderBookL2"]
        (resync,) = feed.resyncs()
        assert resync.symbol is None and resync.reason.startswith("XBTUSD: book crossed")
        assert feed.state.crossed == set() and feed.guard.requests == 1
        await feed.stop()


@pytest.mark.asyncio
async def test_a_crossing_the_next_message_repairs_triggers_nothing() -> None:
    async with MiniBitmex() as srv:
        srv.books[SYM] = rows(SYM, 50000.0)
        feed = Feed(config(srv.url)).start()
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: feed.book() == levels(srv.books[SYM], SYM))
        await srv.send(l2("insert", l2_row(SYM, 3000, "Buy", 7, 50001.0)))
        await srv.send(l2("delete", {"symbol": SYM, "id": 1000, "side": "Sell"}))
        await srv.send(l2("delete", {"symbol": SYM, "id": 1001, "side": "Sell"}))
        await srv.wait_for(lambda: feed.state.crossed_events == 1 and not feed.state.crossed)
        for i in range(14):  # well past the grace, with plenty of updates
            await asyncio.sleep(0.1)
            await srv.send(l2("update", {"symbol": SYM, "id": 2001, "side": "Buy", "size": i + 1}))
        await srv.wait_for(lambda: feed.state.book(SYM).size_at("Buy", 49999.5) == 14)
        assert ops(conn, "unsubscribe") == [] and feed.resyncs() == []
        assert feed.guard.requests == 0 and feed.client.engine.stats.resyncs == 0
        assert feed.state.book(SYM).best_bid() == (50001.0, 7)
        assert feed.state.book(SYM).best_ask() == (50001.5, 102)
        await feed.stop()
