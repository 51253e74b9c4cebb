"""Write the generated OpenAPI document: `python -m service.openapi [path]`."""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec

from service.app import create_app
from service.settings import Settings

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi" / "v1.json"


def render() -> bytes:
    """The spec as committed: sorted keys, two-space indent, trailing newline."""
    schema = create_app(Settings()).openapi_schema.to_schema()
    return msgspec.json.format(msgspec.json.encode(schema, order="sorted"), indent=2) + b"\n"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else SPEC_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
