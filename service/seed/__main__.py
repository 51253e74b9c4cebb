"""`python -m service.seed load|check|report|locate` (see service/seed/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import service.seed
from service.seed.reader import SeedError, read_curated
from service.seed.report import locate, uncovered_numbers, uncovered_quoted_names
from service.seed.sync import SyncReport, load
from service.settings import Settings
from service.web.shared import SharedState


async def load_and_announce(settings: Settings, url: str, force: bool) -> SyncReport:
    """Load; when the version moved and the replicas share Redis, tell them at once (else they
    see it when they next re-read it, within VERSION_CHECK_SECONDS)."""
    report = await load(url, force=force)
    if report.changed and settings.redis_url:
        shared = SharedState(settings.redis_url, settings.redis_namespace)
        try:
            await shared.publish(report.version)
        finally:
            await shared.close()
    return report


def report() -> int:
    """Both coverage sections; exit 1 when either lists anything."""
    curated = read_curated()
    numbers = uncovered_numbers(curated)
    for doc_id, start, end, description in numbers:
        print(f"{doc_id} [{start}, {end}] {description}")
    print(f"{len(numbers)} number(s) not covered by a metric or an exclusion")
    print("quoted names not covered (seed/pending/quoted-names.yaml):")
    names = uncovered_quoted_names(curated)
    for doc_id, start, end, description in names:
        print(f"{doc_id} [{start}, {end}] {description}")
    print(f"{len(names)} quoted name(s) not covered by a record or an exclusion")
    return 1 if numbers or names else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.seed", description=(service.seed.__doc__ or "").split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    load_cmd = sub.add_parser("load", help="validate and sync the curated data into the database")
    load_cmd.add_argument("--database-url", default=None)
    load_cmd.add_argument(
        "--force",
        action="store_true",
        help="take the files' version of records edited through the API (discards curator edits)",
    )
    sub.add_parser("check", help="validate the curated data only")
    sub.add_parser(
        "report",
        help="list numbers not covered by a metric or exclusion, and quoted names not covered "
        "by a record or exclusion",
    )
    locate_cmd = sub.add_parser("locate", help="print the span(s) of a quote in a source file")
    locate_cmd.add_argument("source")
    locate_cmd.add_argument("quote")
    args = parser.parse_args(argv)
    try:
        if args.command == "load":
            settings = Settings.from_env()
            url = args.database_url or settings.database_url
            print(asyncio.run(load_and_announce(settings, url, args.force)).summary())
        elif args.command == "check":
            curated = read_curated()
            counts = ", ".join(f"{name}: {len(rows)}" for name, rows in curated.tables.items())
            print(f"ok — {counts}")
        elif args.command == "report":
            return report()
        else:
            for start, end in locate(args.source, args.quote):
                print(f"[{start}, {end}]")
    except SeedError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
