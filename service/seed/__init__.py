"""Seed loader: validate the curated YAML against the sources and sync it into the database.

    python -m service.seed load      validate, then insert/update/delete to match the files
    python -m service.seed check     validate only
    python -m service.seed report    numbers in the sources not covered by a metric or exclusion,
                                     quoted names not covered by a record or exclusion
    python -m service.seed locate SOURCE QUOTE   print the span(s) of a quote

- reader.py   YAML -> table rows; writable resources through their In Structs and the write
              API's rules (service/curation/rules.py), via the registry
- sync.py     diff-based idempotent sync, curator edits kept; `load`
- report.py   uncovered numbers and quoted names (seed/pending/quoted-names.yaml), `locate`
- __main__.py the command line

Loading is idempotent: rows are compared with the files and only differences are written, so a
second run changes nothing, and a record removed from the files is removed from the database.
The dataset version (used for ETags and caches) only moves when the content changes.
"""

from service.curation.rules import SLUG, span_problem, squash
from service.seed.reader import SEED_DIR, Curated, SeedError, read_curated
from service.seed.report import locate, quoted_spans, uncovered_numbers, uncovered_quoted_names
from service.seed.sync import SyncReport, content_hash, load, sync

__all__ = [
    "SEED_DIR",
    "SLUG",
    "Curated",
    "SeedError",
    "SyncReport",
    "content_hash",
    "load",
    "locate",
    "quoted_spans",
    "read_curated",
    "span_problem",
    "squash",
    "sync",
    "uncovered_numbers",
    "uncovered_quoted_names",
]
