"""`depthdesk --demo --screenshot FILE --quit-after S` runs the real window and exits cleanly."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from app.gui import launch, venues
from app.gui.runner import initial_spec
from tests.gui.conftest import keep_artifact

REPO = Path(__file__).resolve().parents[2]


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_arguments_choose_the_first_session() -> None:
    spec = initial_spec(_args("--demo", "--symbol", "ethusd"), "", "")
    assert (spec.venue_key, spec.symbol) == (venues.DEMO, "ETHUSD")  # type: ignore[attr-defined]
    spec = initial_spec(_args("--url", "ws://127.0.0.1:9/realtime"), "", "")
    assert spec.venue_key == venues.CUSTOM and spec.url == "ws://127.0.0.1:9/realtime"  # type: ignore[attr-defined]
    assert initial_spec(_args("--testnet"), "", "").venue_key == venues.TESTNET  # type: ignore[attr-defined]
    assert initial_spec(_args(), venues.LIVE, "ETHUSD").symbol == "ETHUSD"  # type: ignore[attr-defined]
    assert initial_spec(_args(), "", "").venue_key == venues.DEMO  # type: ignore[attr-defined]


def test_cli_imports_no_qt() -> None:
    code = (
        "import sys, app.cli, app.gui.launch; "
        "print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "False", out.stderr


def test_demo_screenshot_and_clean_quit(tmp_path: Path) -> None:
    picture = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), PYTHONWARNINGS="error")
    result = subprocess.run(
        [
            sys.executable, "-m", "app", "--demo", "--screenshot", str(picture),
            "--quit-after", "3", "--settings", str(tmp_path / "s.ini"),
        ],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert picture.stat().st_size > 20_000
    keep_artifact(picture)
    noise = [
        line for line in result.stderr.splitlines()
        if line.strip() and "propagateSizeHints" not in line and " INFO " not in line
    ]  # fmt: skip
    assert noise == [], "\n".join(noise)
