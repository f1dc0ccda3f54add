"""Simulator configuration and the scheduled-fault syntax of `depthdesk sim --faults`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["drop", "stall", "malformed", "unknown-row", "delay-partials", "burst"]
FAULT_KINDS: tuple[str, ...] = (
    "drop",
    "stall",
    "malformed",
    "unknown-row",
    "delay-partials",
    "burst",
)


@dataclass(frozen=True)
class FaultSpec:
    """One scheduled fault: `kind` at `at` seconds after start, with optional arguments.

    Syntax (comma-separated list): `drop@5`, `stall@10:3` (3 s), `malformed@7`,
    `unknown-row@4` or `unknown-row@4:XBTUSD`, `delay-partials@0:2` (2 s from t=0),
    `burst@20:5000:3` (5000 actions/s for 3 s).
    """

    kind: str
    at: float
    args: tuple[str, ...] = ()

    @staticmethod
    def parse_list(text: str) -> list[FaultSpec]:
        """Parse the `--faults` value; raises ValueError with a readable message."""
        specs: list[FaultSpec] = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            kind, sep, rest = item.partition("@")
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULT_KINDS)})")
            if not sep:
                raise ValueError(f"fault {item!r} needs a time: {kind}@SECONDS[:ARG...]")
            at_text, *args = rest.split(":")
            try:
                at = float(at_text)
            except ValueError:
                raise ValueError(
                    f"fault {item!r}: {at_text!r} is not a number of seconds"
                ) from None
            specs.append(FaultSpec(kind, at, tuple(args)))
        return specs


@dataclass
class SimConfig:
    """Everything a `SimServer` needs. port 0 picks a free port."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    rate: float = 50.0  # market actions per second (each is at least one orderBookL2 message)
    symbols: list[str] = field(default_factory=lambda: ["XBTUSD", "ETHUSD"])
    accounts: list[tuple[str, str]] | None = None
    freeze_after: float | None = None
    heartbeat_close_after: float = 35.0
    connection_limit_per_minute: int | None = None
    funding_interval: float = 8 * 3600.0
    demo_activity: bool = True
    demo_interval: float = 1.2  # mean seconds between a demo account's own order actions
    burst_every: float | None = None  # periodic burst mode: a burst every N seconds
    burst_rate: float = 5000.0
    burst_seconds: float = 2.0
    faults: list[FaultSpec] = field(default_factory=list)
    tick_interval: float = 0.01
    close_timeout: float = 2.0
    max_write_buffer: int = 64 * 1024 * 1024

    def __repr__(self) -> str:
        keys = [k for k, _ in self.accounts] if self.accounts else None
        return (
            f"SimConfig(host={self.host!r}, port={self.port}, seed={self.seed}, rate={self.rate}, "
            f"symbols={self.symbols}, account_keys={keys}, freeze_after={self.freeze_after})"
        )
