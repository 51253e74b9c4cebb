"""`make mutate`: mutation testing of the query and write-validation code with mutmut.

It mutates the functions in `TARGETS` (filters, sorting, keyset cursors, ETags, write
validation), runs the fast SQLite subset of tests set in `[tool.mutmut]` (pyproject.toml) on
each mutant, prints the mutation score and fails when a mutant survives that
tests/mutation-allowlist.txt does not list with a reason (more than MUTATION_ALLOWANCE of
them, default 0). Survivors are named by what they change (function, original line, mutated
line), not by mutmut's numbers, so the list survives unrelated edits.

    make mutate                                   # the gate
    .venv/bin/python -m tests.mutation_gate --write-allowlist
        # after a code change: keep the reasons, drop entries that no longer survive, add new
        # survivors as UNREVIEWED (the gate fails until each has a reason or a test kills it)
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import difflib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWLIST = ROOT / "tests" / "mutation-allowlist.txt"
MUTANTS = ROOT / "mutants"
UNREVIEWED = "UNREVIEWED"
# mutmut names a mutant <module>.x_<function>__mutmut_<n> (methods: xǁClassǁmethod).
TARGETS = [
    # filters, sorting, keyset pages
    "service.listing.sql.x_filter_clause__mutmut_*",
    "service.listing.sql.x_where_clauses__mutmut_*",
    "service.listing.sql.x_keyset_clause__mutmut_*",
    "service.listing.sql.x_scan_keyset__mutmut_*",
    "service.listing.sql.x_neighbour_cursors__mutmut_*",
    "service.listing.params.x_parse_sort__mutmut_*",
    # cursors
    "service.listing.cursor.x_encode_cursor__mutmut_*",
    "service.listing.cursor.x_decode_cursor__mutmut_*",
    "service.listing.cursor.x_query_binding__mutmut_*",
    # ETags
    "service.listing.handlers.x_make_etag__mutmut_*",
    "service.web.cache.x_etag_matches__mutmut_*",
    # write preconditions and merge patch
    "service.curation.ops.x_merge_patch__mutmut_*",
    "service.curation.ops.x__require_if_match__mutmut_*",
    "service.curation.ops.x__if_match_holds__mutmut_*",
    "service.curation.ops.x__check_if_match__mutmut_*",
]
KILLED = {"killed", "timeout"}


def build_template(path: Path) -> None:
    """A migrated and seeded SQLite file the tests copy instead of building their own."""
    from service.seed import load
    from tests.conftest import fresh_database

    url = f"sqlite+aiosqlite:///{path}"
    fresh_database(url)
    asyncio.run(load(url))


def results() -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*"))


def wanted(name: str) -> bool:
    return any(_glob(p).fullmatch(name) for p in TARGETS)


def _functions(module: str) -> dict[str, str]:
    """Every function of the mutated module by name, as source text (one parse, line slices)."""
    path = MUTANTS / (module.replace(".", "/") + ".py")
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    return {
        node.name: "\n".join(lines[node.lineno - 1 : node.end_lineno])
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def describe(name: str, cache: dict[str, dict[str, str]]) -> str:
    """`module.function :: original => mutated`, from the mutated source mutmut wrote."""
    module, _, mangled = name.rpartition(".")
    function, _, _ = mangled.rpartition("__mutmut_")
    sources = cache.setdefault(module, _functions(module))
    original = sources.get(f"{function}__mutmut_orig", "").splitlines()[1:]
    mutated = sources.get(mangled, "").splitlines()[1:]
    minus = [line[2:].strip() for line in difflib.ndiff(original, mutated) if line[:2] == "- "]
    plus = [line[2:].strip() for line in difflib.ndiff(original, mutated) if line[:2] == "+ "]
    return f"{module}.{function} :: {' / '.join(minus)} => {' / '.join(plus)}"


def read_allowlist() -> dict[str, str]:
    entries = {}
    for line in ALLOWLIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, reason = line.partition(" ## ")
            entries[key.strip()] = reason.strip()
    return entries


def write_allowlist(survivors: list[str], old: dict[str, str]) -> None:
    header = [
        line for line in ALLOWLIST.read_text(encoding="utf-8").splitlines() if line[:1] == "#"
    ]
    body = [f"{key} ## {old.get(key) or UNREVIEWED}" for key in sorted(set(survivors))]
    ALLOWLIST.write_text("\n".join([*header, *body]) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-allowlist", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="report the last run, do not run")
    args = parser.parse_args()
    started = time.monotonic()
    if not args.reuse:
        shutil.rmtree(MUTANTS, ignore_errors=True)
        template = ROOT / "data" / "mutation-template.db"
        template.parent.mkdir(exist_ok=True)
        template.unlink(missing_ok=True)
        build_template(template)
        env = {**os.environ, "TEST_SQLITE_TEMPLATE": str(template), "DATABASE_URL": ""}
        run = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", *TARGETS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        if run.returncode not in (0, 1):
            print(f"mutmut run failed ({run.returncode})")
            return 2
    statuses = {n: s for n, s in results().items() if wanted(n)}
    # A target that matches nothing was renamed or moved: the gate would silently test less.
    missing = [p for p in TARGETS if not any(_glob(p).fullmatch(n) for n in statuses)]
    for pattern in missing:
        print(f"FAIL: no mutant matches {pattern} (renamed or moved? update TARGETS)")
    unchecked = [n for n, s in statuses.items() if s == "not checked"]
    if unchecked:
        print(f"FAIL: {len(unchecked)} mutants not checked (mutmut stopped early?)")
    cache: dict[str, dict[str, str]] = {}
    survivors = [describe(n, cache) for n, s in sorted(statuses.items()) if s not in KILLED]
    allowed = read_allowlist()
    if args.write_allowlist:
        write_allowlist(survivors, allowed)
    killed = sum(s in KILLED for s in statuses.values())
    score = 100 * killed / max(1, len(statuses))
    print(f"mutation score {score:.1f}% ({killed} of {len(statuses)} mutants killed) ", end="")
    print(f"in {time.monotonic() - started:.0f} s")
    unlisted = [s for s in survivors if s not in allowed]
    unreviewed = [s for s in survivors if allowed.get(s) == UNREVIEWED]
    for key in unlisted + unreviewed:
        print(f"SURVIVED (not allowed): {key}")
    for key in sorted(set(allowed) - set(survivors)):
        print(f"stale allow-list entry (now killed or gone): {key}")
    allowance = int(os.environ.get("MUTATION_ALLOWANCE", "0"))
    if len(unlisted) + len(unreviewed) > allowance:
        print(f"FAIL: {len(unlisted) + len(unreviewed)} survivors beyond the allow-list")
        return 1
    return 1 if missing or unchecked else 0


if __name__ == "__main__":
    sys.exit(main())
