"""Timestamp parsing used by the engine: the fast path agrees with datetime.fromisoformat."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from app.feeds.bitmex.timeparse import parse_ts, parse_ts_or_none


def test_fast_path_matches_fromisoformat_on_random_millisecond_stamps() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        stamp = datetime(2014, 1, 1, tzinfo=UTC).timestamp() + rng.uniform(0, 4e8)
        text = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        assert parse_ts(text) == pytest.approx(datetime.fromisoformat(text).timestamp(), abs=1e-6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-04-17T16:41:00.033Z", 1618677660.033),
        ("2020-07-22T10:50:00.794000Z", 1595415000.794),  # 6-digit fraction (edited fixture)
        ("2021-04-17T16:41:07Z", 1618677667.0),
        ("2021-04-17T17:41:07.000+01:00", 1618677667.0),
        ("2021-04-17T16:41:07", 1618677667.0),  # naive text is read as UTC
        ("2000-01-01T08:00:00.000Z", 946713600.0),  # a BitMEX timespan of 8 h
    ],
)
def test_other_shapes_fall_back_correctly(text: str, expected: float) -> None:
    assert parse_ts(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "text", ["", "soon", "2021-13-17T16:41:07.000Z", "2021-04-17T25:00:00.000Z"]
)
def test_garbage_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ts(text)


def test_optional_variant() -> None:
    assert parse_ts_or_none(None) is None
    assert parse_ts_or_none(0) is None
    assert parse_ts_or_none("nope") is None
    assert parse_ts_or_none("2021-04-17T16:41:00.033Z") == pytest.approx(1618677660.033)
