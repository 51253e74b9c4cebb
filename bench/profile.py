"""`make profile`: py-spy on the service while wrk drives one scenario, top of the profile to text.

    python -m bench.profile                                  # deep-miss, cache on, SQLite, 15 s
    python -m bench.profile --scenario first --cache off     # the first page, every request a miss
    python -m bench.profile --scenario detail-miss --postgres postgresql+asyncpg://...bench_1m
    python -m bench.profile --path '/v1/metrics?limit=50&count=none'   # any URL ("{n}": request no.)

The service runs under uvicorn as in `make bench` (pinned to CPU 0; wrk and py-spy on CPU 1) on
the benchmark data. py-spy samples every thread (the event loop and the database driver's
worker thread alike) without pausing the process, for `--seconds` in the middle of the load.
Writes to bench/results/:

- `profile-<scenario>-<cache>-<stamp>.txt`: what was measured (rps during the profile, commit),
  then the top functions by self time and by inclusive time, and the split per thread;
- `profile-<...>.collapsed.txt`: the raw collapsed stacks (speedscope or flamegraph.pl read it).

Use a cache-miss load (the default): a cache hit never reaches the handlers. py-spy needs to read
the server's memory (root, or CAP_SYS_PTRACE), as it has here.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import DEFAULT_SEED, ROOT, Scale, ensure_postgres, ensure_sqlite
from bench.run import (
    RESULTS_DIR,
    SCENARIOS,
    Facts,
    Server,
    WrkConfig,
    log,
    postgres_facts,
    prepare_service,
    run_wrk,
    service_specs,
)

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*)\)$")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="py-spy profile of the service under load")
    parser.add_argument("--scenario", default="deep-miss", help="a service scenario of make bench")
    parser.add_argument(
        "--path", help="profile this URL instead of a scenario ('{n}': request no.)"
    )
    parser.add_argument("--cache", choices=["on", "off"], default="on", help="response cache")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of sampling")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=40, help="rows per table")
    parser.add_argument("--scale", type=float, default=1.0, help="dataset size (1 = 1M metrics)")
    parser.add_argument("--postgres", help="profile on this PostgreSQL URL instead of SQLite")
    parser.add_argument("--db", type=Path, help="SQLite file instead of the generated one")
    parser.add_argument(
        "--service-root", type=Path, default=ROOT, help="run the service from this checkout"
    )
    return parser.parse_args(argv)


def split(frame: str) -> tuple[str, str]:
    """(function, file) of a py-spy frame `func (file)`."""
    m = FRAME.match(frame)
    return (m["func"], m["file"]) if m else (frame, "")


# Frames every stack of the event loop passes through: not worth a row in the inclusive table.
BOOTSTRAP = (
    "<frozen runpy>",
    "click/",
    "uvicorn/main",
    "uvicorn/__main__",
    "uvicorn/server",
    "uvicorn/_compat",
)
BOOTSTRAP_FUNCS = {"Runner.run", "run", "run_until_complete", "_run_once", "Handle._run"}
BOOTSTRAP_FUNCS |= {"Thread._bootstrap", "Thread._bootstrap_inner", "Thread.run"}


def package(file: str) -> str:
    """The top-level package of a py-spy file name (`service/http.py` -> `service`)."""
    head = file.split("/", 1)[0]
    return head.removesuffix(".py") if "/" in file or head.startswith("<") else f"{head} (stdlib)"


def tally(collapsed: str) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """(samples, self per frame, inclusive per frame, per thread) from collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames and frames[0].startswith(("thread ", "process ")):
            threads[frames[0]] += count
            frames = [f for f in frames if not f.startswith(("thread ", "process "))]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return total, own, inclusive, threads


def summarise(collapsed: str, top: int) -> list[str]:
    """Self and inclusive time per function, per package and per thread."""
    total, own, inclusive, threads = tally(collapsed)
    if not total:
        return ["no samples (is py-spy allowed to read the process?)"]

    def pct(n: int) -> str:
        return f"{100 * n / total:6.1f} %  {n:7d}"

    def rows(counter: Counter[str], keep: Any = lambda func, file: True) -> list[str]:
        picked = [(f, n) for f, n in counter.most_common() if keep(*split(f))][:top]
        head = "     %   samples  function                                    file"
        return [head] + [f"{pct(n)}  {split(f)[0]:42.42}  {split(f)[1]}" for f, n in picked]

    packages: Counter[str] = Counter()
    for frame, n in own.items():
        packages[package(split(frame)[1])] += n
    lines = [f"{total} samples over all threads (idle excluded)", "", "per thread:"]
    # Threads by name without their ids: a driver that starts a thread per connection shows
    # as one row with the number of threads it started.
    named: Counter[str] = Counter()
    started: dict[str, set[str]] = {}
    for thread, n in threads.items():
        name = re.sub(r"^thread \(\w+\): |-\d+(?= \()", "", thread)
        named[name] += n
        started.setdefault(name, set()).add(thread)
    lines += [f"{pct(n)}  {t}  ({len(started[t])} threads)" for t, n in named.most_common()]
    lines += ["", "self time per package (where the CPU was, by code owner):"]
    lines += [f"{pct(n)}  {p}" for p, n in packages.most_common(top)]
    lines += ["", f"top {top} functions by self time:", *rows(own)]
    lines += ["", f"top {top} by inclusive time (the function and what it called; no bootstrap):"]
    lines += rows(
        inclusive,
        lambda func, file: not file.startswith(BOOTSTRAP) and func not in BOOTSTRAP_FUNCS,
    )
    lines += ["", f"top {top} service/ functions by inclusive time:"]
    lines += rows(inclusive, lambda func, file: file.startswith("service/"))
    return lines


def load(server: Server, paths: list[str], seconds: float, cfg: WrkConfig) -> dict[str, Any]:
    """wrk in a thread for `seconds`, from request number 100 on (distinct URLs stay unused)."""
    out: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: out.update(run_wrk(server.port, paths, seconds, cfg, offset=100))
    )
    thread.start()
    out["thread"] = thread
    return out


def profile(server: Server, paths: list[str], args: argparse.Namespace, raw: Path) -> str:
    cfg = WrkConfig(connections=args.connections, threads=1, duration=args.seconds, warmup=0)
    cfg.cpu = "1" if (shutil.which("taskset") and (sys.platform == "linux")) else None
    run_wrk(server.port, paths, 2, cfg, offset=10_000_000)  # warm up on other URLs
    result = load(server, paths, args.seconds + 4, cfg)
    time.sleep(2)  # sample the steady state, not the ramp
    argv = [
        str(Path(sys.executable).with_name("py-spy")),
        "record", "--pid", str(server.pid), "--duration", str(round(args.seconds)),
        "--rate", str(args.rate), "--format", "raw", "--output", str(raw),
        "--threads", "--nolineno", "--nonblocking",
    ]  # fmt: skip
    if cfg.cpu:
        argv = ["taskset", "-c", cfg.cpu, *argv]
    spy = subprocess.run(argv, capture_output=True, text=True, check=False)
    result["thread"].join()
    if spy.returncode != 0 or not raw.exists():
        raise SystemExit(f"py-spy failed ({spy.returncode}): {spy.stderr.strip()[-500:]}")
    rps = result.get("requests", 0) / max(1e-9, result.get("duration_us", 1) / 1e6)
    p99 = result.get("latency_us", {}).get("p99", 0) / 1000
    return f"load: wrk {args.connections} connections, {rps:,.0f} rps, p99 {p99:,.1f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk (make bench does this)")
    scale = Scale().times(args.scale)
    db = args.db.resolve() if args.db else ensure_sqlite(scale, DEFAULT_SEED)
    if args.postgres:
        ensure_postgres(args.postgres, scale, DEFAULT_SEED)
    facts = Facts.read(db)
    if args.postgres:
        facts = postgres_facts(args.postgres, facts)
    specs = service_specs(db, args.postgres)
    base = "postgres" if args.postgres else "service"
    name = base if args.cache == "on" else f"{base}-nocache"
    spec = next(s for s in specs if s.name == name)
    cpu = "0" if shutil.which("taskset") else None
    with Server(spec, cpu, args.service_root.resolve()) as server:
        if args.path:
            label, paths = "path", [args.path]
        else:
            prepared = prepare_service(server.port, facts, 300.0, miss=True).get(args.scenario)
            if prepared is None or prepared.skip:
                known = [s for s in SCENARIOS if s != "list50"]
                raise SystemExit(f"{args.scenario}: {prepared.skip if prepared else known}")
            label, paths = args.scenario, prepared.paths
        if args.cache == "on" and not (args.path or label.endswith("-miss")):
            log(f"warning: {label} with the cache on is a cache-HIT load")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stem = RESULTS_DIR / f"profile-{label}-cache{args.cache}-{stamp}"
        raw = stem.with_suffix(".collapsed.txt")
        log(f"profiling {name} on {label} for {args.seconds:.0f} s")
        measured = profile(server, paths, args, raw)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    header = [
        f"py-spy profile of {name} ({'SQLite' if not args.postgres else 'PostgreSQL'}), "
        f"commit {commit}, {stamp}",
        f"scenario {label}: {args.path or SCENARIOS.get(label, '')}",
        f"{measured}; py-spy {args.rate} Hz for {args.seconds:.0f} s, --nonblocking",
        f"raw stacks: {raw.relative_to(ROOT)}",
        "",
    ]
    text = "\n".join(header + summarise(raw.read_text(), args.top)) + "\n"
    out = stem.with_suffix(".txt")
    out.write_text(text)
    print(text)
    print(f"profile: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
