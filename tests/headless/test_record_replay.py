"""`depthdesk record` then `depthdesk replay`, the recording format, and the real capture."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import FIXTURES

from app.cli import build_parser
from app.feeds.events import BookLevels, Event, FeedStatus, Reset
from app.headless import feed, record, replay
from app.headless.recording import (
    RecordingWriter,
    iter_recording,
    parse_line,
    read_header,
    read_recording,
    redact_frame,
)
from app.state.book import L2Book
from headless.loopback import MiniBitmex, l2_row

from .test_feed_cli import DELETE, TRADE, UPDATE, book

KEY, SECRET = "RECKEY", "rec-secret-value"
CAPTURE = FIXTURES / "bitmex" / "capture_2021-04-17.log"


def parse(*argv: str) -> Any:
    return build_parser().parse_args(list(argv))


def test_writer_and_reader_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path, {"venue": "bitmex", "symbols": ["XBTUSD"]})
    writer.frame(1.5, '{"a":1}')
    writer.frame(2.0, "text with\nnewline")
    writer.frame(2.5, b"\x00\x01binary")
    writer.mark(3.0, "reset", reason="connection lost")
    # flushed per line: readable before close
    assert len(path.read_text().splitlines()) == 5
    writer.close()
    assert read_header(path)["venue"] == "bitmex"
    entries = list(read_recording(path))
    assert [(e.t, e.frame, e.mark) for e in entries] == [
        (1.5, '{"a":1}', None),
        (2.0, "text with\nnewline", None),
        (2.5, b"\x00\x01binary", None),
        (3.0, None, "reset"),
    ]
    assert entries[3].info == {"reason": "connection lost"}
    assert parse_line("garbage") is None
    assert parse_line('{"t": "x"}') is None


def test_redaction_of_echoed_auth_requests() -> None:
    ack = '{"success":true,"request":{"op":"authKeyExpires","args":["K",123,"signature"]}}'
    clean = redact_frame(ack)
    assert isinstance(clean, str) and "signature" not in clean and '"K"' not in clean
    assert orjson.loads(clean)["success"] is True
    packet = (
        '[0,"s","t",{"status":401,"error":"x","request":{"op":"authKey","args":["K",1,"sig"]}}]'
    )
    assert "sig" not in str(redact_frame(packet))
    table = '{"table":"trade","action":"insert","data":[]}'
    assert redact_frame(table) is table


def test_reads_cryptofeed_capture_format() -> None:
    entries = list(read_recording(CAPTURE))
    assert entries[0].mark == "reset"
    frames = [e for e in entries if e.frame is not None]
    assert len(frames) > 2000
    assert orjson.loads(frames[0].frame or "")["info"].startswith("Welcome")


@pytest.mark.asyncio
async def test_iter_recording_paces_by_speed(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    writer = RecordingWriter(path, {"venue": "bitmex"})
    for i in range(5):
        writer.frame(100.0 + i, "{}")
    writer.close()
    start = time.monotonic()
    got = [e.t async for e in iter_recording(path, speed=20.0)]
    assert got == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert time.monotonic() - start >= 4 / 20.0 - 0.01
    fast = [e.t async for e in iter_recording(path, speed=0)]
    assert fast == got


def quick_reconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registry seam: the bitmex client of the CLI reconnects after milliseconds, not seconds."""
    spec = feed.VENUES["bitmex"]

    def make_client(request: Any, on_event: Any, on_raw: Any) -> Any:
        client = spec.make_client(request, on_event, on_raw)
        client.handler.backoff.initial = 0.01
        client.handler.backoff.maximum = 0.05
        return client

    monkeypatch.setitem(feed.VENUES, "bitmex", dataclasses.replace(spec, make_client=make_client))


@pytest.mark.asyncio
async def test_record_then_replay_gives_the_same_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_reconnects(monkeypatch)
    monkeypatch.setenv("DEPTHDESK_BITMEX_KEY", KEY)
    monkeypatch.setenv("DEPTHDESK_BITMEX_SECRET", SECRET)
    rec = tmp_path / "session.rec"
    live_out = tmp_path / "live.json"
    replay_out = tmp_path / "replay.json"
    async with MiniBitmex(key=KEY, secret=SECRET) as srv:
        srv.books["XBTUSD"] = book()
        record_args = parse(
            "record", "--url", srv.url, "--symbol", "XBTUSD",
            "--topics", "orderBookL2,trade,order", "--out", str(rec), "--idle-exit", "0.4",
        )  # fmt: skip
        feed_args = parse(
            "feed", "--url", srv.url, "--symbol", "XBTUSD",
            "--topics", "orderBookL2,trade,order", "--idle-exit", "0.4",
            "--book-out", str(live_out),
        )  # fmt: skip
        rec_task = asyncio.create_task(record.run_async(record_args))
        await srv.wait_conns(1)
        feed_task = asyncio.create_task(feed.run_async(feed_args))
        await srv.wait_conns(2)
        await srv.wait_for(lambda: all(c.authenticated for c in srv.conns[:2]))
        await asyncio.sleep(0.05)
        for conn in srv.conns[:2]:
            await srv.send(UPDATE, conn)
        # both clients lose their connection; the server's book changes meanwhile
        srv.books["XBTUSD"] = [*book(), l2_row("XBTUSD", 5, "Buy", 50, 99.0)]
        await srv.drop()
        await srv.wait_conns(4)
        await srv.wait_for(lambda: all(c.authenticated for c in srv.conns[2:4]))
        await asyncio.sleep(0.05)
        for conn in srv.conns[2:4]:
            await srv.send(DELETE, conn)
            await srv.send(TRADE, conn)
        assert await asyncio.wait_for(rec_task, 5) == 0
        assert await asyncio.wait_for(feed_task, 5) == 0

    text = rec.read_text()
    assert SECRET not in text and KEY not in text
    assert '"op":"subscribe"' not in text  # only received frames are recorded
    assert read_header(rec)["symbols"] == ["XBTUSD"]
    marks = [e for e in read_recording(rec) if e.mark is not None]
    assert len(marks) == 1

    replay_args = parse("replay", str(rec), "--speed", "0", "--book-out", str(replay_out))
    assert await replay.run_async(replay_args) == 0
    live = orjson.loads(live_out.read_bytes())
    replayed = orjson.loads(replay_out.read_bytes())
    assert live["bids"] == [[100.0, 30.0], [99.5, 40.0], [99.0, 50.0]]
    assert live["asks"] == [[100.5, 10.0]]
    assert live["reconnects"] == 1
    for field in ("bids", "asks", "trades", "last_trade", "reconnects", "resyncs"):
        assert replayed[field] == live[field], field


@pytest.mark.asyncio
async def test_replay_feed_of_the_real_capture() -> None:
    books: dict[str, L2Book] = {}
    statuses: list[str] = []
    resets = 0

    def on_event(event: Event) -> None:
        nonlocal resets
        if isinstance(event, BookLevels):
            books.setdefault(event.symbol, L2Book(event.symbol)).apply(event)
        elif isinstance(event, FeedStatus):
            statuses.append(event.state)
        elif isinstance(event, Reset):
            resets += 1

    player = replay.ReplayFeed(CAPTURE, on_event, speed=0, venue="bitmex")
    await player.run()
    assert statuses == ["live", "down"]
    assert resets == 1 and player.stats.reconnects == 0
    assert len(books) == 10
    assert all(len(b) > 0 and not b.is_crossed() for b in books.values())
    assert player.engine.stats.unknown_keys == 0
    assert player.engine.stats.resyncs == 0


@pytest.mark.asyncio
async def test_replay_cli_errors(tmp_path: Path, capfd: Any) -> None:
    missing = tmp_path / "missing.rec"
    assert await replay.run_async(parse("replay", str(missing), "--speed", "0")) == 1
    assert "cannot read" in capfd.readouterr().err
    empty = tmp_path / "empty.rec"
    empty.write_text("")
    out = tmp_path / "o.json"
    code = await replay.run_async(
        parse("replay", str(empty), "--speed", "0", "--book-out", str(out))
    )
    assert code == 1
    assert "no symbols" in capfd.readouterr().err


def written_books(folder: Path) -> list[dict[str, Any]]:
    """The `--book-out` objects written in `folder`, each checked against its file name."""
    books = []
    for path in sorted(folder.glob("book-*.json")):
        result = orjson.loads(path.read_bytes())
        assert path.name == f"book-{result['symbol']}.json"
        books.append(result)
    return books


@pytest.mark.asyncio
async def test_replay_book_out_of_several_symbols(tmp_path: Path, capfd: Any) -> None:
    pattern = str(tmp_path / "book-{symbol}.json")
    args = parse("replay", str(CAPTURE), "--speed", "0", "--book-out", pattern)
    assert await replay.run_async(args) == 0
    books = written_books(tmp_path)
    assert len(books) == 10  # the capture's ten orderBookL2 symbols
    assert all(book["bids"] and book["asks"] for book in books)
    one_file = tmp_path / "all.json"
    args = parse("replay", str(CAPTURE), "--speed", "0", "--book-out", str(one_file))
    assert await replay.run_async(args) == 1
    assert "{symbol}" in capfd.readouterr().err
    assert not written_books(tmp_path / "none") and "all.json" not in os.listdir(tmp_path)
