"""Write the generated OpenAPI document: `python -m service.openapi [path]`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec

from service.app import create_app
from service.settings import Settings

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi" / "v1.json"


def _sorted(value: Any, keep_order: bool = False) -> Any:
    """Keys sorted at every level except the paths and their operations, which keep the
    order readers see them in (list → detail → writes; service/openapi_finish.py)."""
    if isinstance(value, dict):
        keys = list(value) if keep_order else sorted(value)
        return {k: _sorted(value[k], keep_order and k.startswith("/")) for k in keys}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def render() -> bytes:
    """The spec as committed: sorted keys (but for paths and operations, which keep their
    order), two-space indent, trailing newline."""
    schema = create_app(Settings()).openapi_schema.to_schema()
    ordered = {k: _sorted(v, keep_order=k == "paths") for k, v in sorted(schema.items())}
    return msgspec.json.format(msgspec.json.encode(ordered), indent=2) + b"\n"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else SPEC_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
