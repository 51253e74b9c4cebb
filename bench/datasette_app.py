"""Datasette on the benchmark SQLite file, as an ASGI app for uvicorn (`--factory`).

Equivalent to `datasette serve -i FILE --setting ...`, but served by the same uvicorn command
line as the service (`datasette serve` hard-codes uvicorn's access log and `log_level=info`).

- Immutable mode (`-i`): Datasette opens the file with `?immutable=1` (no locking, no change
  checks), its fastest mode for a read-only file; the service only reads the file too.
- `suggest_facets off`: otherwise every table page runs extra facet-suggestion queries.
- `default_page_size 50`, like the benchmark's `limit=50`.
- Time limits raised to 10 s so Datasette completes the same work as the service (counts and
  facets over a million rows); with its defaults (1 s, 200 ms) it would abandon them part-way
  and answer without a count or facet, which is less work, not a faster server.
"""

from __future__ import annotations

import os
from typing import Any

from datasette.app import Datasette

SETTINGS: dict[str, Any] = {
    "suggest_facets": False,
    "default_page_size": 50,
    "sql_time_limit_ms": 10_000,
    "facet_time_limit_ms": 10_000,
}


def create() -> Any:
    path = os.environ["BENCH_DATASETTE_DB"]
    datasette = Datasette(immutables=[path], settings=SETTINGS)
    return datasette.app()
