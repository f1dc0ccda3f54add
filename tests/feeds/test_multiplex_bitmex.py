"""/realtimemd multiplexing: several accounts and a public stream over one loopback socket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from headless.loopback import MiniBitmex, l2_row

from app.feeds.bitmex.auth import ApiCredentials, sign
from app.feeds.bitmex.client import BitmexConfig
from app.feeds.bitmex.multiplex import MultiplexClient, StreamConfig, multiplex_url
from app.feeds.connection import FeedFatal
from app.feeds.events import (
    AuthResult,
    BookLevels,
    Event,
    FeedStatus,
    Reset,
    SubscriptionAck,
    TableRows,
)

ACCOUNTS = {"KEYA": "secret-a", "KEYB": "secret-b"}


def base(url: str) -> BitmexConfig:
    return BitmexConfig(url=url, backoff_initial=0.01, backoff_max=0.05, open_timeout=2.0)


def packets(received: list[Any], stream_id: str) -> list[Any]:
    return [p for p in received if isinstance(p, list) and p[1] == stream_id]


def test_multiplex_url() -> None:
    assert multiplex_url("wss://ws.bitmex.com/realtime") == "wss://ws.bitmex.com/realtimemd"
    assert multiplex_url("ws://127.0.0.1:5/realtimemd") == "ws://127.0.0.1:5/realtimemd"


@pytest.mark.asyncio
async def test_two_accounts_and_public_stream_share_one_socket() -> None:
    async with MiniBitmex() as srv:
        srv.accounts = dict(ACCOUNTS)
        srv.books["XBTUSD"] = [
            l2_row("XBTUSD", 1, "Sell", 10, 101.0),
            l2_row("XBTUSD", 2, "Buy", 20, 100.0),
        ]
        events: dict[str, list[Event]] = {"a": [], "b": [], "pub": []}
        specs = [
            StreamConfig("a", topics=["order"], credentials=ApiCredentials("KEYA", "secret-a")),
            StreamConfig("b", topics=["order"], credentials=ApiCredentials("KEYB", "secret-b")),
            StreamConfig("pub", symbols=["XBTUSD"], topics=["orderBookL2"]),
        ]
        client = MultiplexClient(base(srv.url), [(s, events[s.topic].append) for s in specs])
        task = asyncio.create_task(client.run())
        conn = await srv.wait_conns(1)
        assert conn.path == "/realtimemd"
        await srv.wait_for(
            lambda: all(any(isinstance(e, SubscriptionAck) for e in v) for v in events.values())
        )
        await srv.wait_for(lambda: any(isinstance(e, BookLevels) for e in events["pub"]))
        for spec, key in ((specs[0], "KEYA"), (specs[1], "KEYB")):
            mine = packets(conn.received, spec.stream_id)
            assert mine[0] == [1, spec.stream_id, spec.topic]
            auth = mine[1][3]
            assert auth["op"] == "authKeyExpires" and auth["args"][0] == key
            expires = auth["args"][1]
            assert auth["args"][2] == sign(ACCOUNTS[key], "GET", "/realtime", expires)
            assert mine[2][3] == {"op": "subscribe", "args": ["order"]}
            assert [e.success for e in events[spec.topic] if isinstance(e, AuthResult)] == [True]
        assert not any(isinstance(e, BookLevels) for e in events["a"] + events["b"])
        book = next(e for e in events["pub"] if isinstance(e, BookLevels))
        assert book.bids == [(100.0, 20.0)] and book.asks == [(101.0, 10.0)]
        assert not any(isinstance(e, AuthResult) for e in events["pub"])

        # a private row routed to account a only
        sid_a = specs[0].stream_id
        row = {"orderID": "o1", "symbol": "XBTUSD", "ordStatus": "New", "leavesQty": 5}
        await srv.send([0, sid_a, "a", {"table": "order", "action": "insert", "data": [row]}], conn)

        def has_o1(got: list[Event]) -> bool:
            return any(
                isinstance(e, TableRows) and any(r.get("orderID") == "o1" for r in e.rows)
                for e in got
            )

        await srv.wait_for(lambda: has_o1(events["a"]))
        assert not has_o1(events["b"])

        # reconnect: every stream reopened, re-authenticated, resubscribed
        await srv.drop()
        conn2 = await srv.wait_conns(2)
        await srv.wait_for(lambda: len([p for p in conn2.received if p[0] == 1]) == 3)

        def resubscribed(spec: StreamConfig) -> bool:
            return any(
                len(p) == 4 and p[3].get("op") == "subscribe"
                for p in packets(conn2.received, spec.stream_id)
            )

        await srv.wait_for(lambda: all(resubscribed(s) for s in specs))
        assert all(any(isinstance(e, Reset) for e in v) for v in events.values())
        assert any(isinstance(e, FeedStatus) and e.state == "reconnecting" for e in events["a"])
        await client.close()
        await asyncio.wait_for(task, 2)


@pytest.mark.asyncio
async def test_one_bad_account_goes_down_alone() -> None:
    async with MiniBitmex() as srv:
        srv.accounts = dict(ACCOUNTS)
        events: dict[str, list[Event]] = {"good": [], "bad": []}
        specs = [
            StreamConfig(
                "good", topics=["position"], credentials=ApiCredentials("KEYA", "secret-a")
            ),
            StreamConfig("bad", topics=["position"], credentials=ApiCredentials("KEYB", "nope")),
        ]
        client = MultiplexClient(base(srv.url), [(s, events[s.topic].append) for s in specs])
        task = asyncio.create_task(client.run())
        conn = await srv.wait_conns(1)
        await srv.wait_for(lambda: [2, specs[1].stream_id, "bad"] in conn.received)
        assert [e.state for e in events["bad"] if isinstance(e, FeedStatus)][-1] == "down"
        await srv.wait_for(lambda: any(isinstance(e, SubscriptionAck) for e in events["good"]))
        assert not task.done()
        await client.close()
        await asyncio.wait_for(task, 2)


@pytest.mark.asyncio
async def test_all_streams_rejected_is_fatal() -> None:
    async with MiniBitmex() as srv:
        srv.accounts = dict(ACCOUNTS)
        got: list[Event] = []
        spec = StreamConfig("only", topics=["order"], credentials=ApiCredentials("KEYA", "x"))
        client = MultiplexClient(base(srv.url), [(spec, got.append)])
        with pytest.raises(FeedFatal):
            await asyncio.wait_for(client.run(), 2)
        assert [e for e in got if isinstance(e, FeedStatus)][-1].state == "down"
