"""The collector tuning of service/runtime.py: once per process, long-lived objects frozen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_collector_is_tuned_once_per_process() -> None:
    code = (
        "import gc; from service import runtime\n"
        "runtime.tune_garbage_collector()\n"
        "assert gc.get_threshold() == runtime.GC_THRESHOLDS, gc.get_threshold()\n"
        "frozen = gc.get_freeze_count(); assert frozen > 1000, frozen\n"
        "gc.set_threshold(700, 10, 10); runtime.tune_garbage_collector()\n"
        "assert gc.get_threshold() == (700, 10, 10)  # the second call does nothing\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
