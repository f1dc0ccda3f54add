"""`depthdesk feed` rebuilds a book left crossed by lost messages from a fresh partial."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.headless import feed
from headless.loopback import MiniBitmex, l2_row

from .test_feed_cli import book, drive, parse

SYM = "XBTUSD"


def update(level_id: int, side: str, size: int) -> dict[str, Any]:
    row = {"symbol": SYM, "id": level_id, "side": side, "size": size}
    return {"table": "orderBookL2", "action": "update", "data": [row]}


@pytest.mark.asyncio
async def test_feed_requests_a_fresh_book_when_it_stays_crossed(
    tmp_path: Path, capfdbinary: Any
) -> None:
    out = tmp_path / "book.json"
    async with MiniBitmex() as srv:
        srv.books[SYM] = book()
        args = parse(
            "feed", "--url", srv.url, "--symbol", SYM, "--topics", "orderBookL2",
            "--idle-exit", "0.6", "--events", "--book-out", str(out),
        )  # fmt: skip
        task = asyncio.create_task(feed.run_async(args))
        # a bid at 101.0 while the ask at 100.5 is still there: its delete was lost
        crossing = {
            "table": "orderBookL2",
            "action": "insert",
            "data": [l2_row(SYM, 5, "Buy", 7, 101.0)],
        }
        await drive(srv, [crossing])
        srv.books[SYM] = [l2_row(SYM, 10, "Sell", 5, 101.5), l2_row(SYM, 11, "Buy", 6, 101.0)]
        conn = srv.conns[-1]

        def unsubscribed() -> bool:
            return any(isinstance(m, dict) and m.get("op") == "unsubscribe" for m in conn.received)

        for size in range(41, 61):  # updates that leave it crossed, until the feed asks
            await asyncio.sleep(0.1)
            if unsubscribed():
                break
            await srv.send(update(4, "Buy", size))
        assert unsubscribed()
        code = await asyncio.wait_for(task, 5)
    assert code == 0
    result = orjson.loads(out.read_bytes())
    assert result["bids"] == [[101.0, 6.0]] and result["asks"] == [[101.5, 5.0]]
    assert result["resyncs"] == 1 and result["reconnects"] == 0
    events = [orjson.loads(line) for line in capfdbinary.readouterr().out.splitlines()]
    kinds = [e["kind"] for e in events]
    first = kinds.index("resync")
    resync = events[first]
    assert resync["symbol"] == SYM and resync["table"] == "orderBookL2"
    assert resync["reason"].startswith("book crossed for ")
    assert kinds[first - 1] == "book"  # printed after the event that made the guard ask
    assert kinds.count("resync") == 1
    snapshots = [e for e in events[first:] if e["kind"] == "book" and e["snapshot"]]
    assert snapshots and snapshots[0]["bids"] == [[101.0, 6]]
