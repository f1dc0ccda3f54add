"""The whole real 2021 BitMEX capture through a loopback WebSocket server into BitmexClient.

The server plays every recorded server frame in order once the client has subscribed. The
client's books (through the engine and the L2Book store) must equal a straightforward fold of
the raw orderBookL2 frames computed here, with no crossed book and no unknown-key update.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import orjson
import pytest
from conftest import FIXTURES
from websockets.asyncio.server import ServerConnection, serve

from app.feeds.bitmex.client import BitmexClient, BitmexConfig
from app.feeds.events import BookLevels, Event, FeedError, Resync, Trades
from app.state.book import L2Book

CAPTURE = FIXTURES / "bitmex" / "capture_2021-04-17.log"


def capture_frames() -> tuple[list[str], list[dict[str, Any]]]:
    """(server frames, client messages) of the recorder format `<ts>: <json>` / `... <- ...`."""
    server: list[str] = []
    client: list[dict[str, Any]] = []
    for line in CAPTURE.read_text().splitlines():
        if not line.strip() or " <-> " in line:
            continue
        if " <- " in line:
            client.append(orjson.loads(line.split(": ", 1)[1]))
            continue
        server.append(line.split(": ", 1)[1])
    return server, client


def fold_books(frames: list[str]) -> dict[str, tuple[list[list[float]], list[list[float]]]]:
    """Independent reference: rows by (symbol, side, id) -> [price, size], then price levels."""
    rows: dict[str, dict[tuple[str, int], list[float]]] = defaultdict(dict)
    for frame in frames:
        msg = orjson.loads(frame)
        if not isinstance(msg, dict) or msg.get("table") != "orderBookL2":
            continue
        action = msg["action"]
        if action == "partial":
            symbol = msg["filter"]["symbol"]
            rows[symbol] = {}
        for row in msg["data"]:
            book = rows[row["symbol"]]
            key = (row["side"], row["id"])
            if action in ("partial", "insert"):
                assert key not in book, "duplicate insert in the capture"
                book[key] = [row["price"], row["size"]]
            elif action == "update":
                level = book[key]
                if "price" in row:
                    level[0] = row["price"]
                level[1] = row["size"]
            elif action == "delete":
                del book[key]
    result = {}
    for symbol, book in rows.items():
        bids: dict[float, float] = defaultdict(float)
        asks: dict[float, float] = defaultdict(float)
        for (side, _), (price, size) in book.items():
            (bids if side == "Buy" else asks)[price] += size
        result[symbol] = (
            [[p, bids[p]] for p in sorted(bids, reverse=True)],
            [[p, asks[p]] for p in sorted(asks)],
        )
    return result


@pytest.mark.asyncio
async def test_whole_capture_through_loopback_client() -> None:
    server_frames, client_messages = capture_frames()
    assert len(server_frames) > 2000
    recorded_topics = [t for m in client_messages for t in m["args"]]
    symbols = list(dict.fromkeys(t.split(":")[1] for t in recorded_topics))
    tables = list(dict.fromkeys(t.split(":")[0] for t in recorded_topics))
    assert len(symbols) == 10

    played = asyncio.Event()
    subscribed: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            msg = orjson.loads(raw) if raw != "ping" else None
            if isinstance(msg, dict) and msg.get("op") == "subscribe":
                subscribed.extend(msg["args"])
            if sorted(subscribed) == sorted(recorded_topics) and not played.is_set():
                for frame in server_frames:
                    await ws.send(frame)
                played.set()

    books: dict[str, L2Book] = defaultdict(L2Book)
    crossed: list[str] = []
    errors: list[Event] = []
    trades_seen = 0

    def on_event(event: Event) -> None:
        nonlocal trades_seen
        if isinstance(event, BookLevels):
            book = books[event.symbol]
            book.apply(event)
            if book.is_crossed():
                crossed.append(event.symbol)
        elif isinstance(event, Trades):
            trades_seen += len(event.trades)
        elif isinstance(event, (Resync, FeedError)):
            errors.append(event)

    async with serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        config = BitmexConfig(url=f"ws://127.0.0.1:{port}/realtime", symbols=symbols, topics=tables)
        client = BitmexClient(config, on_event)
        task = asyncio.create_task(client.run())
        async with asyncio.timeout(30):
            await played.wait()
            while client.stats.messages < len(server_frames):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await client.close()
        await asyncio.wait_for(task, 5)

    assert sorted(subscribed) == sorted(recorded_topics)
    assert client.stats.reconnects == 0
    assert errors == []
    assert crossed == []
    stats = client.engine.stats
    assert stats.unknown_keys == 0 and stats.resyncs == 0 and stats.malformed == 0
    assert client.engine.waiting_for_partial() == []

    reference = fold_books(server_frames)
    assert sorted(reference) == sorted(symbols)
    for symbol, (bids, asks) in reference.items():
        book = books[symbol]
        assert [list(level) for level in book.bids()] == bids, symbol
        assert [list(level) for level in book.asks()] == asks, symbol
        assert bids and asks and bids[0][0] < asks[0][0]

    trade_rows = sum(
        len(m["data"])
        for m in map(orjson.loads, server_frames)
        if isinstance(m, dict) and m.get("table") == "trade"
    )
    assert trades_seen == trade_rows
