"""Raw DEFLATE (zlib wbits -15, no header) used by the v3 feed for its binary data frames."""

from __future__ import annotations

import zlib

RAW_WBITS = -zlib.MAX_WBITS


class InflateError(ValueError):
    """A binary frame that is not a complete raw-DEFLATE stream of UTF-8 text."""


def inflate(data: bytes) -> str:
    """Decompress one binary frame to text."""
    decomp = zlib.decompressobj(RAW_WBITS)
    try:
        raw = decomp.decompress(data) + decomp.flush()
    except zlib.error as exc:
        raise InflateError(f"bad deflate frame ({len(data)} bytes): {exc}") from None
    if not decomp.eof:
        raise InflateError(f"truncated deflate frame ({len(data)} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InflateError(f"deflate frame is not UTF-8: {exc}") from None


def deflate(text: str, level: int = 6) -> bytes:
    """Compress text the way the server does (raw DEFLATE, no zlib header)."""
    comp = zlib.compressobj(level, zlib.DEFLATED, RAW_WBITS)
    return comp.compress(text.encode("utf-8")) + comp.flush()
