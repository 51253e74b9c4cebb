"""`python -m service.seed load|check|report|locate` (see service/seed/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import service.seed
from service.seed.reader import SeedError, read_curated
from service.seed.report import locate, uncovered_numbers
from service.seed.sync import load
from service.settings import Settings


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
        "report", help="list numbers in the sources not covered by a metric or exclusion"
    )
    locate_cmd = sub.add_parser("locate", help="print the span(s) of a quote in a source file")
    locate_cmd.add_argument("source")
    locate_cmd.add_argument("quote")
    args = parser.parse_args(argv)
    try:
        if args.command == "load":
            url = args.database_url or Settings.from_env().database_url
            print(asyncio.run(load(url, force=args.force)).summary())
        elif args.command == "check":
            curated = read_curated()
            counts = ", ".join(f"{name}: {len(rows)}" for name, rows in curated.tables.items())
            print(f"ok — {counts}")
        elif args.command == "report":
            missing = uncovered_numbers(read_curated())
            for doc_id, start, end, description in missing:
                print(f"{doc_id} [{start}, {end}] {description}")
            print(f"{len(missing)} number(s) not covered by a metric or an exclusion")
            return 1 if missing else 0
        else:
            for start, end in locate(args.source, args.quote):
                print(f"[{start}, {end}]")
    except SeedError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
