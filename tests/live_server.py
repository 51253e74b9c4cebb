"""A real uvicorn server in a subprocess, for tests that need a socket (browsers, clients).

`tests/conftest.py` starts one per session (`live_url`) on a migrated and seeded SQLite file.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    """A loopback port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/schema/openapi.json", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serve(database_url: str, log_path: Path) -> Iterator[str]:
    """Run `uvicorn service.app:app_from_env` on a free loopback port; yield its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # One test client is not the crowd the per-IP rate limit is for.
    env = {**os.environ, "DATABASE_URL": database_url, "RATE_LIMIT_PER_MINUTE": "0"}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.app:app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not _ready(base_url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"uvicorn did not start on {base_url}:\n{log_path.read_text()[-3000:]}"
                    )
                time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def require_tool(name: str, why: str) -> str:
    """The tool's path; a clear skip where it is absent, but a failure in CI (it must run)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found: {why}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run this test: .ci/run installs it)")
        pytest.skip(message)
    return path
