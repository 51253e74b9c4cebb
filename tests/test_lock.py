"""The hash-locked requirements (requirements/*.txt, written by `make lock`) match pyproject.toml.

A dependency added to pyproject.toml without `make lock` fails here, before an install from the
lock (`make run`, `make test`, the image) would silently miss it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"serve": (), "dev": ("dev",), "bench": ("dev", "bench")}
# name==version [; marker] \ then one "--hash=sha256:…" per line.
PIN = re.compile(
    r"^([A-Za-z0-9][\w.-]*)==([^\s;]+)(?: ;[^\\\n]*)?((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})*)",
    re.M,
)


def pins(lock: str) -> dict[str, tuple[Version, int]]:
    """name → (version, number of hashes) of one lock file."""
    text = (ROOT / "requirements" / f"{lock}.txt").read_text()
    return {
        canonicalize_name(m.group(1)): (Version(m.group(2)), m.group(3).count("--hash="))
        for m in PIN.finditer(text)
    }


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_covers_pyproject(lock: str) -> None:
    locked = pins(lock)
    for req in declared(LOCKS[lock]):
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in requirements/{lock}.txt: run `make lock`"
        version, _ = locked[name]
        assert req.specifier.contains(version, prereleases=True), (
            f"requirements/{lock}.txt pins {req.name}=={version}, outside {req.specifier}: "
            "run `make lock`"
        )


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pin_has_hashes(lock: str) -> None:
    text = (ROOT / "requirements" / f"{lock}.txt").read_text()
    lines = [ln for ln in text.splitlines() if re.match(r"^[A-Za-z0-9]", ln)]
    locked = pins(lock)
    assert len(lines) == len(locked), "every requirement line is an exact == pin"
    assert all(count >= 1 for _, count in locked.values())


def test_locks_agree_and_serving_stays_small() -> None:
    serve, dev, bench = pins("serve"), pins("dev"), pins("bench")
    for name, (version, _) in serve.items():
        assert dev[name][0] == version, f"{name}: serve and dev locks differ"
    for name, (version, _) in dev.items():
        assert bench[name][0] == version, f"{name}: dev and bench locks differ"
    # `make run` and the image install only what serving needs.
    assert not {"pytest", "ruff", "mypy", "schemathesis", "datasette"} & set(serve)


def test_makefile_installs_from_the_locks() -> None:
    text = (ROOT / "Makefile").read_text()
    assert "PIP_LOCKED := $(BIN)/pip install --quiet --require-hashes" in text
    assert re.search(r"^\$\(SERVE_STAMP\): \$\(SERVE_LOCK\).*\n\t\$\(PIP_LOCKED\) -r \$\(SERVE_LOCK\)$", text, re.M)  # fmt: skip
    assert re.search(r"^\$\(STAMP\): \$\(DEV_LOCK\).*\n\t\$\(PIP_LOCKED\) -r \$\(DEV_LOCK\)$", text, re.M)  # fmt: skip
    assert re.search(r"^serve: \$\(SERVE_STAMP\)$", text, re.M), "make run installs the serve lock"
    assert re.search(r"^unit: \$\(STAMP\)", text, re.M), "make test installs the dev lock"
    assert re.search(r"^lock:", text, re.M)
