"""The recording file format shared by `depthdesk record` and `depthdesk replay` (and the GUI).

A recording is UTF-8 text, one JSON object per line, written and flushed line by line so a
crash loses nothing that was received:

    {"depthdesk_recording": 1, "venue": "bitmex", "url": "...", "symbols": [...], ...}   header
    {"t": 1618677660.055011, "f": "<text frame exactly as received>"}
    {"t": 1618677660.1, "b": "<base64 of a binary frame>"}
    {"t": 1618677661.2, "mark": "reset", "reason": "connection lost"}             state void

`t` is the local receive time (UNIX seconds). Only frames received from the server are
recorded, never what the client sent, so credentials and signatures never reach the file;
server echoes of authentication requests are redacted as well.

The reader also accepts the cryptofeed recorder format of the real captures under
tests/fixtures (`<ts>: <frame>` server lines, `<url> <- <ts>: ...` client lines, `<url> <-> <ts>`
connect markers), so those can be replayed as they are.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

FORMAT_KEY = "depthdesk_recording"
FORMAT_VERSION = 1
MARK_RESET = "reset"
REDACTED = "<redacted>"
_AUTH_OPS = ("authKeyExpires", "authKey", "login", "access", "auth")
_AUTH_HINTS = (b"authKey", b'"login"', b'"access"', b'"auth"')
_YIELD_EVERY = 256


@dataclass(slots=True)
class RecordEntry:
    """One line of a recording: a received frame, or a marker such as "reset"."""

    t: float
    frame: str | bytes | None = None
    mark: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def redact_frame(frame: str | bytes) -> str | bytes:
    """The frame with the args of echoed authentication requests replaced (other frames as is)."""
    raw = frame.encode() if isinstance(frame, str) else frame
    if not any(hint in raw for hint in _AUTH_HINTS):
        return frame
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return frame
    if not _redact(msg):
        return frame
    text = orjson.dumps(msg).decode()
    return text if isinstance(frame, str) else text.encode()


def _redact(node: Any) -> bool:
    changed = False
    if isinstance(node, dict):
        op = node.get("op")
        if isinstance(op, str) and op in _AUTH_OPS and "args" in node:
            node["args"] = REDACTED
            changed = True
        for value in node.values():
            changed = _redact(value) or changed
    elif isinstance(node, list):
        for value in node:
            changed = _redact(value) or changed
    return changed


class RecordingWriter:
    """Appends entries to a recording file, flushing every line."""

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        self.path = Path(path)
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        self.frames = 0
        self._write({FORMAT_KEY: FORMAT_VERSION, "created": time.time(), **header})

    def _write(self, obj: dict[str, Any]) -> None:
        self._file.write(orjson.dumps(obj).decode())
        self._file.write("\n")
        self._file.flush()

    def frame(self, t: float, frame: str | bytes) -> None:
        """Record one received frame."""
        clean = redact_frame(frame)
        if isinstance(clean, bytes):
            self._write({"t": t, "b": base64.b64encode(clean).decode("ascii")})
        else:
            self._write({"t": t, "f": clean})
        self.frames += 1

    def mark(self, t: float, mark: str, **info: Any) -> None:
        """Record a marker (e.g. "reset" when the connection's state became void)."""
        self._write({"t": t, "mark": mark, **info})

    def close(self) -> None:
        """Close the file (everything is already flushed)."""
        if not self._file.closed:
            self._file.close()


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The header of a depthdesk recording ({} for a foreign capture or an empty file)."""
    with Path(path).open("r", encoding="utf-8") as fh:
        first = fh.readline()
    if not first.startswith("{"):
        return {}
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        return {}
    return obj if isinstance(obj, dict) and FORMAT_KEY in obj else {}


def parse_line(line: str) -> RecordEntry | None:
    """One recording line as an entry; None for headers, client frames, blanks and junk."""
    line = line.rstrip("\r\n")
    if not line.strip() or line.startswith("# "):
        return None
    if line.startswith("{"):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(obj, dict) or FORMAT_KEY in obj:
            return None
        t = obj.get("t")
        if not isinstance(t, (int, float)):
            return None
        if "f" in obj and isinstance(obj["f"], str):
            return RecordEntry(float(t), obj["f"])
        if "b" in obj and isinstance(obj["b"], str):
            try:
                return RecordEntry(float(t), base64.b64decode(obj["b"], validate=True))
            except ValueError:
                return None
        mark = obj.get("mark")
        if isinstance(mark, str):
            info = {k: v for k, v in obj.items() if k not in ("t", "mark")}
            return RecordEntry(float(t), None, mark, info)
        return None
    return _parse_capture_line(line)


def _parse_capture_line(line: str) -> RecordEntry | None:
    """cryptofeed recorder lines: server frames, client frames (skipped), connect markers."""
    if " <-> " in line:
        stamp = line.rsplit(" <-> ", 1)[1].strip()
        try:
            return RecordEntry(float(stamp), None, MARK_RESET, {"reason": "connect"})
        except ValueError:
            return None
    if " <- " in line:
        return None
    stamp, sep, frame = line.partition(": ")
    if not sep:
        return None
    try:
        return RecordEntry(float(stamp), frame)
    except ValueError:
        return None


def read_recording(path: str | os.PathLike[str]) -> Iterator[RecordEntry]:
    """Every entry of a recording file, in file order."""
    with Path(path).open("r", encoding="utf-8") as fh:
        for line in fh:
            entry = parse_line(line)
            if entry is not None:
                yield entry


def recorded_symbols(path: str | os.PathLike[str], frames: int = 2_000) -> list[str]:
    """The symbols a recording is about: its header's list, else those named by its first
    `frames` frames (a partial's filter, a row's or a push's `symbol`), in order of appearance."""
    symbols = read_header(path).get("symbols")
    if isinstance(symbols, list) and symbols:
        return [s for s in symbols if isinstance(s, str)]
    seen: dict[str, None] = {}
    for count, entry in enumerate(read_recording(path)):
        if count >= frames:
            break
        if entry.frame is not None:
            for symbol in _frame_symbols(entry.frame):
                seen.setdefault(symbol, None)
    return list(seen)


def _frame_symbols(frame: str | bytes) -> list[str]:
    try:
        msg = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(msg, dict):
        return []
    found = [msg.get("symbol")]
    filt = msg.get("filter")
    if isinstance(filt, dict):
        found.append(filt.get("symbol"))
    data = msg.get("data")
    if isinstance(data, list):
        found.extend(row.get("symbol") for row in data[:5] if isinstance(row, dict))
    return [s for s in found if isinstance(s, str) and s]


async def iter_recording(
    path: str | os.PathLike[str], speed: float = 1.0
) -> AsyncIterator[RecordEntry]:
    """Entries paced by their recorded times divided by `speed` (0 = as fast as possible).

    At speed 0 control is still yielded to the event loop every few hundred entries, so a
    window stays responsive while a long recording plays.
    """
    loop = asyncio.get_running_loop()
    start_wall: float | None = None
    start_t = 0.0
    for count, entry in enumerate(read_recording(path)):
        if speed > 0:
            if start_wall is None:
                start_wall, start_t = loop.time(), entry.t
            due = start_wall + max(0.0, entry.t - start_t) / speed
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        elif count % _YIELD_EVERY == _YIELD_EVERY - 1:
            await asyncio.sleep(0)
        yield entry


__all__ = [
    "FORMAT_KEY",
    "FORMAT_VERSION",
    "MARK_RESET",
    "RecordEntry",
    "RecordingWriter",
    "iter_recording",
    "parse_line",
    "read_header",
    "read_recording",
    "redact_frame",
]
