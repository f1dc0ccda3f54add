"""Reading the BitMart fixture files: "> " request lines and "< " server frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "bitmart"


def frames(name: str, direction: str = "<") -> list[str]:
    """The raw text of every frame in `name` going in `direction` ("<" server, ">" client)."""
    out = []
    for line in (FIXTURE_DIR / name).read_text().splitlines():
        if line.startswith(direction + " "):
            out.append(line[2:])
    return out


def requests(name: str) -> list[dict[str, Any]]:
    """The decoded client requests of a fixture file."""
    return [json.loads(text) for text in frames(name, ">")]


def all_fixture_names(prefix: str) -> list[str]:
    """Every fixture file of one protocol."""
    return sorted(p.name for p in FIXTURE_DIR.glob(f"{prefix}*.jsonl"))
