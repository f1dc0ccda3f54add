"""Regression guard: PySide6 6.12.0 on Python 3.11 aborted after a few hundred Signal.emit calls.

Runs the emits in a child process so an abort shows up as a failed test, not a dead test run.
"""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    ticked = Signal(float)
    flagged = Signal(bool)

app = QCoreApplication([])
emitter = Emitter()
seen = []
emitter.ticked.connect(seen.append)
emitter.flagged.connect(seen.append)
for i in range(10_000):
    emitter.ticked.emit(float(i))
    emitter.flagged.emit(i % 2 == 0)
print(len(seen))
"""


def test_twenty_thousand_signal_emits_do_not_abort() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "20000"
