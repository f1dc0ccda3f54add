"""The table algorithm of the official BitMEX Python connector: one list per table, and a
linear scan over it for every update and delete row (find_by_keys). The baseline the engine
is measured against."""

from __future__ import annotations

from typing import Any

import orjson


def _find_by_keys(keys: list[str], table: list[dict[str, Any]], match: dict[str, Any]) -> Any:
    for item in table:
        if all(item[k] == match[k] for k in keys):
            return item
    return None


class NaiveTables:
    """Tables as lists; O(N) per keyed row, as in api-connectors' bitmex_websocket.py."""

    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = {}
        self.keys: dict[str, list[str]] = {}

    def apply(self, frame: str) -> None:
        """Parse and apply one frame."""
        message = orjson.loads(frame)
        table = message.get("table")
        action = message.get("action")
        if table is None:
            return
        if action == "partial":
            self.data[table] = message["data"]
            self.keys[table] = message["keys"]
        elif action == "insert":
            self.data.setdefault(table, []).extend(message["data"])
        elif action == "update":
            for row in message["data"]:
                item = _find_by_keys(self.keys[table], self.data[table], row)
                if item is None:
                    return
                item.update(row)
        elif action == "delete":
            for row in message["data"]:
                item = _find_by_keys(self.keys[table], self.data[table], row)
                self.data[table].remove(item)
