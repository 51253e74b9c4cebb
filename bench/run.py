"""`make bench`: the service against Datasette and a bare Litestar app, same data, same run.

    python -m bench.run                       # everything, 8 s per scenario (+ 2 s warm-up)
    python -m bench.run --duration 3          # quick mode
    python -m bench.run --servers service,datasette --scenarios filtered,facet
    BENCH_POSTGRES_URL=off python -m bench.run                # SQLite only

Each server runs alone under uvicorn (1 worker, uvloop, httptools, no access log), pinned to
CPU 0 while wrk (1 thread, 32 connections) runs on CPU 1, so the two do not compete for a core.
Every scenario is checked first (status 200, the expected rows, the count and facets actually
computed), then warmed up, then measured; a non-2xx response during a measurement marks the
result invalid. The service's response-cache hits and misses during each measurement are read
from its /metrics. Results: a table and issue #13's targets (bench/targets.py) on stdout,
`bench/results/<timestamp>.json` and a chart next to it (bench/chart.py).

Servers
- `service`: the API as deployed (response cache on), except the per-client rate limit, which a
  load generator on one address would hit at once.
- `service-nocache`: the same with `RESPONSE_CACHE_MB=0`, so every request runs its queries.
- `datasette`: Datasette (immutable mode) on the same SQLite file, asked the equivalent
  questions through its table JSON API (see bench/datasette_app.py for its settings).
- `baseline`: bench/baseline_app.py, a constant 50-item list: the ceiling for a Litestar
  endpoint on this machine.
- `postgres`, `postgres-nocache`: the service on PostgreSQL: BENCH_POSTGRES_URL, or by default
  the database bench_1m on 127.0.0.1:5432 when a server answers there.

Scenarios: SCENARIOS below; the `*-miss` ones run on the cache-on servers with a URL of its own
for every request (LUA numbers the requests), so the response cache never answers them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import http.client
import itertools
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from bench.generate import DEFAULT_SEED, ROOT, Scale, ensure_postgres, ensure_sqlite
from bench.targets import evaluate, summary, table

RESULTS_DIR = ROOT / "bench" / "results"
LOG_DIR = ROOT / "bench" / "data" / "logs"
CURSOR_SECRET = "bench-cursor-secret"
METRICS_TOKEN = "bench-metrics-token-0123456789"  # the service's /metrics (cache hit counts)
DEEP_ROW = 900_000  # the deep page starts after this many rows (90 % of them, if fewer)
FACTS_VERSION = 3  # of `<db>.facts.json`
MISS_URLS = 50_000  # distinct ids and cursors for the cache-miss scenarios
MISS_WORDS = 400  # distinct search words for search-miss
FACET_FIELDS = ("unit", "region", "kind", "qualifier", "period", "cumulative")  # facet-miss pairs
WRK_TIMEOUT = "30s"


# ---------------------------------------------------------------- HTTP helpers


def http_get(port: int, path: str, timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        _send(conn, path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _send(conn: http.client.HTTPConnection, path: str) -> None:
    """The request wrk sends: GET, Host, Accept: application/json, no Accept-Encoding (http.client
    would add `identity`, and the service's response cache keys on that header)."""
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.putheader("Accept", "application/json")
    conn.endheaders()


def get_json(port: int, path: str) -> tuple[int, Any, float]:
    started = time.perf_counter()
    status, _, body = http_get(port, path)
    elapsed = time.perf_counter() - started
    try:
        return status, json.loads(body), elapsed
    except ValueError:
        return status, body[:300].decode(errors="replace"), elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def url(path: str, params: Sequence[tuple[str, str | int]] = ()) -> str:
    return f"{path}?{urlencode(params, quote_via=quote)}" if params else path


# ---------------------------------------------------------------- servers


@dataclass
class ServerSpec:
    name: str
    kind: str  # service | datasette | baseline
    app: str  # uvicorn app import string
    env: dict[str, str]
    ready_path: str
    factory: bool = False
    description: str = ""
    idle_path: str | None = None  # polled after a run (default: ready_path); never cached


class Server:
    def __init__(self, spec: ServerSpec, cpu: str | None, cwd: Path = ROOT) -> None:
        self.spec = spec
        self.cwd = cwd
        self.port = free_port()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{spec.name}.log"
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            spec.app,
            *(["--factory"] if spec.factory else []),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
        ]
        if cpu is not None and shutil.which("taskset"):
            argv = ["taskset", "-c", cpu, *argv]
        self.argv = argv
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = {**os.environ, **self.spec.env}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.spec.name} exited; see {self.log_path}")
            try:
                status, _, _ = http_get(self.port, self.spec.ready_path, timeout=5)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.spec.name} did not become ready; see {self.log_path}")

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        # Under taskset the Popen pid is the server itself (taskset execs it).
        return self.proc.pid

    def cache_events(self) -> dict[str, int] | None:
        """The service's response-cache lookups so far (Prometheus), or None."""
        if self.spec.kind != "service":
            return None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
        except OSError:
            return None
        finally:
            conn.close()
        if response.status != 200:
            return None
        found = re.findall(r'^http_response_cache_total\{result="(\w+)"\}\s+(\S+)', text, re.M)
        return {result: int(float(value)) for result, value in found}

    def memory_mb(self) -> dict[str, float]:
        out: dict[str, float] = {}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in {"VmHWM", "VmRSS"}:
                    out[key] = round(int(value.split()[0]) / 1024, 1)
        except OSError:
            pass
        return out


# ---------------------------------------------------------------- wrk

# Request i (counted from `offset`, per thread) is paths[i % #paths] with every "{n}" replaced
# by i: a path list of templates gives every request its own URL, however many are sent.
LUA = """
local paths = {%(paths)s}
local n = #paths
local threads = 0
local i = 0
local headers = {["Accept"] = "application/json"}
setup = function(thread)
  thread:set("offset", %(offset)d + threads * %(stride)d)
  threads = threads + 1
end
init = function(args)
  i = offset or 0
end
request = function()
  local p = paths[(i %% n) + 1]
  if %(templated)s then p = (p:gsub("{n}", tostring(i))) end
  i = i + 1
  return wrk.format("GET", p, headers)
end
done = function(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"latency_us":{"min":%%.1f,"mean":%%.1f,"max":%%.1f,"stdev":%%.1f,' ..
    '"p50":%%.1f,"p90":%%.1f,"p99":%%.1f,"p999":%%.1f}}\\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
"""
# Thread t of a distinct-URL run starts at offset + t * STRIDE, so threads never share a URL.
STRIDE = 10_000_000


@dataclass
class WrkConfig:
    connections: int = 32
    threads: int = 1
    duration: float = 8.0
    warmup: float = 2.0
    cpu: str | None = "1"


def expand(path: str, n: int) -> str:
    """Path number n of a scenario whose paths are templates (see LUA)."""
    return path.replace("{n}", str(n))


def run_wrk(
    port: int, paths: list[str], seconds: float, cfg: WrkConfig, offset: int = 0
) -> dict[str, Any]:
    for p in paths:
        if not p.isascii() or '"' in p or "\\" in p:
            raise ValueError(f"path must be percent-encoded ASCII: {p!r}")
    templated = any("{n}" in p for p in paths)
    lua = LUA % {
        "paths": ",".join(f'"{p}"' for p in paths),
        "offset": offset,
        "stride": STRIDE if templated else max(1, len(paths) // max(1, cfg.threads)),
        "templated": "true" if templated else "false",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        argv = [
            "wrk",
            f"-t{cfg.threads}",
            f"-c{cfg.connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={WRK_TIMEOUT}",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}",
        ]
        if cfg.cpu is not None and shutil.which("taskset"):
            argv = ["taskset", "-c", cfg.cpu, *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    finally:
        os.unlink(script.name)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data: dict[str, Any] = json.loads(line.removeprefix("BENCHJSON "))
            return data
    raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")


# ---------------------------------------------------------------- scenarios


@dataclass
class Prepared:
    """One scenario on one server: the paths wrk cycles through, or why it cannot run."""

    paths: list[str] = field(default_factory=list)
    skip: str | None = None
    note: str = ""
    check_ms: float | None = None
    # Every request a URL of its own (templates with "{n}", or a list longer than the run), so
    # a response cache cannot answer it: the cost of a cache miss with the cache on.
    distinct: bool = False


@dataclass
class Facts:
    """What the harness knows about the data, read from the SQLite file (the ground truth)."""

    db: Path
    detail_ids: list[str]
    deep_after: tuple[str, int, str]  # (document_id, span_start, id) of row DEEP_ROW
    deep_first_id: str  # the row right after it: the deep page's first item
    deep_pk_after: str  # DEEP_ROW-th id in primary-key order (Datasette's default order)
    deep_pk_first_id: str
    li_shui_subtree: list[str]
    datasette_name: str
    deep_row: int = DEEP_ROW
    # For the distinct-URL (cache-miss) scenarios:
    miss_ids: list[str] = field(default_factory=list)  # MISS_URLS ids, none of detail_ids
    positions: list[list[Any]] = field(default_factory=list)  # (document_id, span_start, id)
    units: list[list[Any]] = field(default_factory=list)  # [unit, median value] most used first
    words: list[str] = field(default_factory=list)  # frequent 2-character words of subjects

    @classmethod
    def read(cls, db: Path) -> Facts:
        """From `<db>.facts.json` when present: the ordered OFFSET scans cost a sort of a
        million rows, so they run once per generated file."""
        cached = db.with_name(db.name + ".facts.json")
        data = json.loads(cached.read_text()) if cached.exists() else {}
        if data.get("version") == FACTS_VERSION:
            del data["version"]
            data["db"] = db
            data["deep_after"] = tuple(data["deep_after"])
            return cls(**data)
        facts = cls._query(db)
        data = {k: v for k, v in asdict(facts).items() if k != "db"}
        cached.write_text(json.dumps({**data, "version": FACTS_VERSION}, ensure_ascii=False))
        return facts

    @classmethod
    def _query(cls, db: Path) -> Facts:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            (rows,) = conn.execute("SELECT count(*) FROM metric").fetchone()
            deep_row = min(DEEP_ROW, rows * 9 // 10)
            detail_ids = [
                r[0] for r in conn.execute("SELECT id FROM metric WHERE rowid % 997 = 3 LIMIT 1000")
            ]
            order = "ORDER BY document_id, span_start, id"
            after = conn.execute(
                f"SELECT document_id, span_start, id FROM metric {order} LIMIT 2 OFFSET ?",
                (deep_row - 1,),
            ).fetchall()
            pk_after = conn.execute(
                "SELECT id FROM metric ORDER BY id LIMIT 2 OFFSET ?", (deep_row - 1,)
            ).fetchall()
            subtree = [
                r[0]
                for r in conn.execute(
                    "SELECT r.id FROM region r LEFT JOIN region p ON r.parent_id = p.id "
                    "WHERE r.id = ?1 OR r.parent_id = ?1 OR p.parent_id = ?1 ORDER BY r.id",
                    ("li-shui-shi",),
                )
            ]
            miss = _miss_facts(conn, set(detail_ids))
        finally:
            conn.close()
        return cls(
            db=db,
            detail_ids=detail_ids,
            deep_after=tuple(after[0]),
            deep_first_id=after[1][2],
            deep_pk_after=pk_after[0][0],
            deep_pk_first_id=pk_after[1][0],
            li_shui_subtree=subtree,
            datasette_name=db.stem,
            deep_row=deep_row,
            **miss,
        )


def postgres_facts(url: str, base: Facts) -> Facts:
    """`base` (read from the SQLite file) with the row-level facts read from the PostgreSQL
    database instead: its ids and keyset positions need not be the SQLite file's, and its text
    order is the database collation's. Cached in bench/data/<database>.facts.json while the
    database's marker (see bench/generate.py) stays the same."""
    return asyncio.run(_postgres_facts(url, base))


async def _postgres_facts(url: str, base: Facts) -> Facts:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(re.sub(r"^postgresql\+asyncpg://", "postgresql://", url))
    try:
        marker = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        name = await conn.fetchval("SELECT current_database()")
        cached = LOG_DIR.parent / f"{name}.facts.json"
        data = json.loads(cached.read_text()) if cached.exists() else {}
        if data.get("marker") != marker or data.get("version") != FACTS_VERSION:
            data = await _postgres_rows(conn, base.deep_row)
            data.update(marker=marker, version=FACTS_VERSION)
            cached.write_text(json.dumps(data, ensure_ascii=False))
    finally:
        await conn.close()
    del data["marker"], data["version"]
    data["deep_after"] = tuple(data["deep_after"])
    return replace(base, **data)


async def _postgres_rows(conn: Any, deep_row: int) -> dict[str, Any]:
    # md5(id) orders: deterministic, spread over the table, none shared between the lists.
    ids = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM metric ORDER BY md5(id) LIMIT $1", 1000 + MISS_URLS
        )
    ]
    after = await conn.fetch(
        "SELECT document_id, span_start, id FROM metric ORDER BY document_id, span_start, id "
        "LIMIT 2 OFFSET $1",
        deep_row - 1,
    )
    positions = await conn.fetch(
        "SELECT document_id, span_start, id FROM metric ORDER BY md5(id || 'position') LIMIT $1",
        MISS_URLS,
    )
    return {
        "detail_ids": ids[:1000],
        "miss_ids": ids[1000:],
        "deep_after": list(after[0].values()),
        "deep_first_id": after[1]["id"],
        "positions": [list(r.values()) for r in positions],
    }


def _miss_facts(conn: sqlite3.Connection, detail_ids: set[str]) -> dict[str, Any]:
    """Ids, keyset positions, units and words for the distinct-URL scenarios, spread over the
    whole table and shuffled (fixed seed), so consecutive requests touch unrelated rows."""
    rng = random.Random(DEFAULT_SEED)
    ids = [
        r[0]
        for r in conn.execute("SELECT id FROM metric WHERE rowid % 17 = 5 LIMIT ?", (MISS_URLS,))
        if r[0] not in detail_ids
    ]
    positions = [
        list(r)
        for r in conn.execute(
            "SELECT document_id, span_start, id FROM metric WHERE rowid % 19 = 7 LIMIT ?",
            (MISS_URLS,),
        )
    ]
    rng.shuffle(ids)
    rng.shuffle(positions)
    units = []
    for unit, n in conn.execute(
        "SELECT unit, count(*) FROM metric WHERE unit IS NOT NULL GROUP BY unit "
        "ORDER BY 2 DESC LIMIT 3"
    ).fetchall():
        (median,) = conn.execute(
            "SELECT value FROM metric WHERE unit = ? ORDER BY value LIMIT 1 OFFSET ?",
            (unit, n // 2),
        ).fetchone()
        units.append([unit, float(median)])
    bigrams: dict[str, int] = {}
    for (subject,) in conn.execute("SELECT subject FROM metric WHERE rowid % 53 = 1"):
        for a, b in itertools.pairwise(subject or ""):
            if "\u4e00" <= a <= "\u9fff" and "\u4e00" <= b <= "\u9fff":
                bigrams[a + b] = bigrams.get(a + b, 0) + 1
    # Spread over the commonest 5 x MISS_WORDS: a few very common words (whose counts cover
    # much of the table), most of them rarer, as people search.
    words = sorted(bigrams, key=lambda w: (-bigrams[w], w))[: 5 * MISS_WORDS : 5]
    return {"miss_ids": ids, "positions": positions, "units": units, "words": words}


FILTER_PARAMS: list[tuple[str, str | int]] = [
    ("unit", "元"),
    ("region", "li-shui-shi"),
    ("value__gte", 1000),
    ("sort", "-value"),
    ("limit", 50),
]
SCENARIOS = {
    "detail": "GET /v1/metrics/{id} (1,000 ids, round robin)",
    "first": "first list page, limit=50 (default sort and count)",
    "deep": f"list page after {DEEP_ROW:,} rows, same query (keyset cursor)",
    "filtered": "unit=元&region=li-shui-shi&value__gte=1000&sort=-value&limit=50",
    "list50": "constant 50-item list (bare Litestar)",
    "facet": "facet=unit&facet=region&limit=20 (a page and its facets, whole table)",
    "search": "q=工坊&limit=20",
    # Cache on, every request a URL of its own (never a cache hit): the cost of a miss.
    "detail-miss": f"GET /v1/metrics/{{id}}, a different id per request ({MISS_URLS:,}, shuffled)",
    "deep-miss": f"first-page query with a cursor at a different row per request ({MISS_URLS:,})",
    "filtered-miss": "unit=<one of the 3 commonest>&region=<li-shui-shi or a region in it>"
    "&value__gte=<that unit's median, a distinct decimal per request>&sort=-value&limit=50",
    "facet-miss": "[region=<none, li-shui-shi or a region in it>&]facet=<a>&facet=<b>"
    f"&limit=<1..100>: {12 * 15 * 100:,} combinations of 2 of {len(FACET_FIELDS)} facet fields, "
    "shuffled",
    "search-miss": f"q=<one of {MISS_WORDS} words of the subjects>&limit=<1..50>: "
    f"{MISS_WORDS * 50:,} combinations, shuffled",
}
MISS_SCENARIOS = [s for s in SCENARIOS if s.endswith("-miss")]


def _page_ok(body: Any, limit: int) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return f"unexpected body: {str(body)[:200]}"
    if not 0 < len(body["data"]) <= limit:
        return f"{len(body['data'])} items (expected 1..{limit})"
    return None


def _sign_cursor(template: str, values: list[Any], secret: str) -> str | None:
    """A cursor like `template` (one the service issued for this query) but positioned after
    `values`, signed with the secret the harness started the service with. None when the
    cursor format is not one this harness knows: base64url(HMAC tag + JSON
    ["next", values, binding]), the tag truncated to 16 bytes (12 before).

    Cheap for many positions: the tag length is found once per template (lru_cache)."""
    tag_bytes = _cursor_tag_bytes(template)
    if tag_bytes is None:
        return None
    blob = base64.urlsafe_b64decode(template + "=" * (-len(template) % 4))
    payload = json.loads(blob[tag_bytes:])
    if len(payload[1]) != len(values):
        return None
    new = json.dumps(["next", values, payload[2]], separators=(",", ":"), ensure_ascii=False)
    key = hashlib.sha256(secret.encode()).digest()
    tag = hmac.new(key, new.encode(), hashlib.sha256).digest()[:tag_bytes]
    return base64.urlsafe_b64encode(tag + new.encode()).decode().rstrip("=")


@functools.lru_cache
def _cursor_tag_bytes(template: str) -> int | None:
    try:
        blob = base64.urlsafe_b64decode(template + "=" * (-len(template) % 4))
    except (ValueError, TypeError):
        return None
    for tag_bytes in (16, 12):
        try:
            payload = json.loads(blob[tag_bytes:])
        except ValueError:
            continue
        if (
            isinstance(payload, list)
            and len(payload) == 3
            and payload[0] == "next"
            and isinstance(payload[1], list)
        ):
            return tag_bytes
    return None


def _walk_cursor(port: int, params: list[tuple[str, str | int]], rows: int, budget: float) -> str:
    """Follow next_cursor with limit=100 (count=none) until `rows` rows are behind the cursor."""
    walk = [(k, v) for k, v in params if k not in {"limit", "count"}]
    walk += [("limit", 100), ("count", "none")]
    cursor: str | None = None
    seen = 0
    deadline = time.monotonic() + budget
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        while seen < rows:
            if time.monotonic() > deadline:
                raise TimeoutError(f"walked {seen:,} rows in {budget:.0f} s")
            step = min(100, rows - seen)
            query = [*walk[:-2], ("limit", step), ("count", "none")]
            if cursor:
                query.append(("cursor", cursor))
            _send(conn, url("/v1/metrics", query))
            response = conn.getresponse()
            body = json.loads(response.read())
            if response.status != 200:
                raise RuntimeError(f"walk: {response.status} {body}")
            seen += len(body["data"])
            cursor = body["page"]["next_cursor"]
            if cursor is None:
                raise RuntimeError(f"walk: the list ended after {seen:,} rows")
    finally:
        conn.close()
    assert cursor is not None  # rows > 0
    return cursor


def prepare_service(
    port: int, facts: Facts, walk_budget: float, miss: bool = True
) -> dict[str, Prepared]:
    out: dict[str, Prepared] = {}

    def check(
        name: str, path: str, limit: int, extra: Callable[[Any], str | None] | None = None
    ) -> Prepared:
        status, body, elapsed = get_json(port, path)
        if status == 400 and name in {"facet", "search"}:
            return Prepared(skip="n/a (not implemented: 400)")
        problem = f"HTTP {status}: {str(body)[:200]}" if status != 200 else _page_ok(body, limit)
        if problem is None and extra is not None:
            problem = extra(body)
        if problem:
            return Prepared(skip=f"check failed: {problem}")
        return Prepared(paths=[path], check_ms=round(elapsed * 1000, 1))

    # detail
    paths = [f"/v1/metrics/{quote(i)}" for i in facts.detail_ids]
    status, body, elapsed = get_json(port, paths[0])
    if status == 200 and isinstance(body, dict) and body.get("id") == facts.detail_ids[0]:
        out["detail"] = Prepared(paths=paths, check_ms=round(elapsed * 1000, 1))
    else:
        out["detail"] = Prepared(skip=f"check failed: HTTP {status} {str(body)[:200]}")

    first_path = url("/v1/metrics", [("limit", 50)])
    out["first"] = check("first", first_path, 50)

    # deep: a cursor after DEEP_ROW rows of the first page's own query
    _, first_body, _ = get_json(port, first_path)
    template: str | None
    template = (
        first_body.get("page", {}).get("next_cursor") if isinstance(first_body, dict) else None
    )
    cursor = None
    how = ""
    if template:
        cursor = _sign_cursor(template, list(facts.deep_after), CURSOR_SECRET)
        how = "cursor signed by the harness (same secret as the server)"
    deep: Prepared | None = None
    if cursor:
        deep = check(
            "deep",
            url("/v1/metrics", [("limit", 50), ("cursor", cursor)]),
            50,
            lambda b: (
                None
                if b["data"][0]["id"] == facts.deep_first_id
                else f"starts at {b['data'][0]['id']}, expected {facts.deep_first_id}"
            ),
        )
    if deep is None or deep.skip:
        try:
            started = time.monotonic()
            cursor = _walk_cursor(port, [("limit", 50)], facts.deep_row, walk_budget)
            how = f"cursor reached by walking next_cursor ({time.monotonic() - started:.0f} s)"
            deep = check(
                "deep",
                url("/v1/metrics", [("limit", 50), ("cursor", cursor)]),
                50,
                lambda b: (
                    None
                    if b["data"][0]["id"] == facts.deep_first_id
                    else f"starts at {b['data'][0]['id']}, expected {facts.deep_first_id}"
                ),
            )
        except (TimeoutError, RuntimeError) as exc:
            deep = Prepared(skip=f"no deep cursor: {exc}")
    deep.note = how
    out["deep"] = deep

    def sorted_desc(body: Any) -> str | None:
        values = [item["value"] for item in body["data"]]
        if values != sorted(values, reverse=True) or min(values) < 1000:
            return "not sorted by -value or value < 1000"
        if any(item["unit"] != "元" for item in body["data"]):
            return "unit filter not applied"
        return None

    out["filtered"] = check("filtered", url("/v1/metrics", FILTER_PARAMS), 50, sorted_desc)

    def has_facets(body: Any) -> str | None:
        facets = body.get("facets") or {}
        if not facets.get("unit") or not facets.get("region"):
            return f"no facets in the response: {sorted(body)}"
        return None

    out["facet"] = check(
        "facet",
        url("/v1/metrics", [("facet", "unit"), ("facet", "region"), ("limit", 20)]),
        20,
        has_facets,
    )
    out["search"] = check("search", url("/v1/metrics", [("q", "工坊"), ("limit", 20)]), 20)
    if miss:  # with the cache off every request is a miss already
        out.update(prepare_service_miss(port, facts, template))
    return out


def template_url(path: str, params: Sequence[tuple[str, str | int]]) -> str:
    """`url`, keeping the "{n}" placeholder (see LUA) unencoded."""
    return url(path, params).replace("%7Bn%7D", "{n}")


def prepare_service_miss(port: int, facts: Facts, cursor: str | None) -> dict[str, Prepared]:
    """The distinct-URL scenarios (MISS_SCENARIOS), each checked on its first URL (n = 0; the
    measurement starts further on, so that check is no cache hit for it)."""

    def check(paths: list[str], limit: int, facets: tuple[str, ...] = ()) -> Prepared:
        status, body, elapsed = get_json(port, expand(paths[0], 0))
        if status == 400 and ("q=" in paths[0] or facets):
            return Prepared(skip="n/a (not implemented: 400)")
        problem = f"HTTP {status}: {str(body)[:200]}" if status != 200 else _page_ok(body, limit)
        if problem is None and limit > 1 and "data" in body and "id" not in body["data"][0]:
            problem = "items without ids"
        if problem is None and any(f not in (body.get("facets") or {}) for f in facets):
            problem = f"facets {facets} missing: {sorted(body)}"
        if problem:
            return Prepared(skip=f"check failed: {problem}", distinct=True)
        return Prepared(paths=paths, check_ms=round(elapsed * 1000, 1), distinct=True)

    out: dict[str, Prepared] = {}
    details = [f"/v1/metrics/{quote(i)}" for i in facts.miss_ids]
    status, body, elapsed = get_json(port, details[0])
    ok = status == 200 and isinstance(body, dict) and body.get("id") == facts.miss_ids[0]
    out["detail-miss"] = (
        Prepared(paths=details, check_ms=round(elapsed * 1000, 1), distinct=True)
        if ok
        else Prepared(skip=f"check failed: HTTP {status} {str(body)[:200]}", distinct=True)
    )
    signed = (
        [_sign_cursor(cursor, list(p), CURSOR_SECRET) for p in facts.positions] if cursor else []
    )
    if signed and all(signed):
        deep = [url("/v1/metrics", [("limit", 50), ("cursor", c)]) for c in signed if c]
        out["deep-miss"] = check(deep, 50)
    else:
        out["deep-miss"] = Prepared(skip="cursor format unknown to the harness", distinct=True)
    filtered: list[str] = [
        template_url(
            "/v1/metrics",
            [
                ("unit", unit),
                ("region", region),
                ("value__gte", f"{int(median)}.{{n}}1"),
                ("sort", "-value"),
                ("limit", 50),
            ],
        )
        for region in facts.li_shui_subtree
        for unit, median in facts.units
    ]
    out["filtered-miss"] = check(filtered, 50)
    rng = random.Random(DEFAULT_SEED)
    combos = [
        (region, pair, limit)
        for region in [None, *facts.li_shui_subtree]
        for pair in itertools.combinations(FACET_FIELDS, 2)
        for limit in range(1, 101)
    ]
    rng.shuffle(combos)
    facet_paths = [
        url(
            "/v1/metrics",
            [*([("region", r)] if r else []), ("facet", a), ("facet", b), ("limit", limit)],
        )
        for r, (a, b), limit in combos
    ]
    out["facet-miss"] = check(facet_paths, combos[0][2], combos[0][1])
    queries = [(w, limit) for w in facts.words for limit in range(1, 51)]
    rng.shuffle(queries)
    search = [url("/v1/metrics", [("q", w), ("limit", limit)]) for w, limit in queries]
    out["search-miss"] = check(search, queries[0][1])
    return out


# Rows as JSON objects, like the service (Datasette 0.65 defaults to arrays); counts still run.
OBJECTS: list[tuple[str, str | int]] = [("_shape", "objects")]


def prepare_datasette(port: int, facts: Facts) -> dict[str, Prepared]:
    table = f"/{quote(facts.datasette_name)}/metric"
    out: dict[str, Prepared] = {}

    def check(path: str, rows: int, extra: Callable[[Any], str | None] | None = None) -> Prepared:
        status, body, elapsed = get_json(port, path)
        problem = None
        if status != 200 or not isinstance(body, dict):
            problem = f"HTTP {status}: {str(body)[:200]}"
        elif not 0 < len(body.get("rows", [])) <= rows:
            problem = f"{len(body.get('rows', []))} rows"
        elif "filtered_table_rows_count" in body and body["filtered_table_rows_count"] is None:
            problem = "count not computed (time limit?)"
        elif extra is not None:
            problem = extra(body)
        if problem:
            return Prepared(skip=f"check failed: {problem}")
        return Prepared(paths=[path], check_ms=round(elapsed * 1000, 1))

    paths = [f"{table}/{quote(i)}.json?_shape=objects" for i in facts.detail_ids]
    status, body, elapsed = get_json(port, paths[0])
    rows = body.get("rows") if isinstance(body, dict) else None
    first_row = rows[0] if rows else None
    if isinstance(first_row, list):  # the row page answers arrays + "columns"
        first_row = dict(zip(body.get("columns", []), first_row, strict=False))
    if status == 200 and first_row and first_row.get("id") == facts.detail_ids[0]:
        out["detail"] = Prepared(paths=paths, check_ms=round(elapsed * 1000, 1))
    else:
        out["detail"] = Prepared(skip=f"check failed: HTTP {status} {str(body)[:200]}")
    out["first"] = check(url(f"{table}.json", [("_size", 50), *OBJECTS]), 50)
    out["first"].note = "primary-key order (Datasette sorts by one column)"
    out["deep"] = check(
        url(f"{table}.json", [("_size", 50), ("_next", facts.deep_pk_after), *OBJECTS]),
        50,
        lambda b: (
            None
            if b["rows"][0]["id"] == facts.deep_pk_first_id
            else f"starts at {b['rows'][0]['id']}"
        ),
    )
    out["deep"].note = "_next keyset token, primary-key order"
    out["filtered"] = check(
        url(
            f"{table}.json",
            [
                ("unit__exact", "元"),
                ("region_id__in", ",".join(facts.li_shui_subtree)),
                ("value__gte", 1000),
                ("_sort_desc", "value"),
                ("_size", 50),
                *OBJECTS,
            ],
        ),
        50,
    )

    def has_facets(body: Any) -> str | None:
        results = body.get("facet_results") or {}
        if not results.get("unit") or not results.get("region_id"):
            return "facets missing"
        if body.get("facets_timed_out"):
            return f"facets timed out: {body['facets_timed_out']}"
        return None

    out["facet"] = check(
        url(
            f"{table}.json", [("_facet", "unit"), ("_facet", "region_id"), ("_size", 20), *OBJECTS]
        ),
        20,
        has_facets,
    )
    out["search"] = check(
        url(
            f"{table}.json",
            [("_where", "subject LIKE '%工坊%' OR quote LIKE '%工坊%'"), ("_size", 20), *OBJECTS],
        ),
        20,
    )
    out["search"].note = "no FTS for Chinese: LIKE scan of subject and quote"
    return out


def prepare_baseline(port: int) -> dict[str, Prepared]:
    status, body, elapsed = get_json(port, "/baseline")
    if status == 200 and isinstance(body, list) and len(body) == 50:
        return {"list50": Prepared(paths=["/baseline"], check_ms=round(elapsed * 1000, 1))}
    return {"list50": Prepared(skip=f"check failed: HTTP {status}")}


# ---------------------------------------------------------------- the run


@dataclass
class Result:
    server: str
    scenario: str
    status: str  # ok | skipped | invalid
    rps: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    requests: int | None = None
    errors: dict[str, int] | None = None
    note: str = ""
    check_ms: float | None = None  # one request on the idle server, ms
    example_path: str | None = None
    mode: str = "wrk"  # wrk (32 connections) | sequential (1 connection; too slow for 32)
    drain_s: float | None = None  # time the server needed to finish in-flight requests
    load_average: float | None = None  # 1-minute load average right after the measurement
    distinct_urls: bool = False  # every request its own URL (a cache-miss scenario)
    cache: dict[str, int] | None = None  # the service's response-cache hits/misses meanwhile


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def sequential(port: int, paths: list[str], count: int, offset: int = 0) -> tuple[list[float], int]:
    """`count` requests one after another on one keep-alive connection: (latencies ms, non-200).
    Request k is path number offset + k, as in LUA."""
    latencies: list[float] = []
    bad = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for k in range(offset, offset + count):
            started = time.perf_counter()
            _send(conn, expand(paths[k % len(paths)], k))
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            bad += response.status != 200
    finally:
        conn.close()
    return latencies, bad


def wait_idle(port: int, path: str, limit: float = 300.0) -> float:
    """Wait until the server has finished what wrk left in flight (a server keeps running the
    requests of closed connections): three quick answers in a row. Returns seconds waited."""
    started = time.monotonic()
    quick = 0
    while quick < 3 and time.monotonic() - started < limit:
        t = time.perf_counter()
        try:
            http_get(port, path, timeout=limit)
        except OSError:
            time.sleep(0.5)
            continue
        quick = quick + 1 if time.perf_counter() - t < 0.1 else 0
    return time.monotonic() - started


_T0 = time.monotonic()


def log(message: str) -> None:
    elapsed = int(time.monotonic() - _T0)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


# Request numbers of a distinct-URL scenario: the check used 0, the probe uses 1-3, the
# warm-up starts here, the measurement after the warm-up's last request.
WARMUP_OFFSET = 10


def measure(server: Server, scenario: str, prep: Prepared, cfg: WrkConfig) -> Result:
    name = server.spec.name
    if prep.skip:
        log(f"  {name:17} {scenario:13} {prep.skip}")
        return Result(name, scenario, "skipped", note=prep.skip, distinct_urls=prep.distinct)
    # Service time of one request on an idle server (warm: the check already ran once).
    # Up to 3 requests (their best), fewer when one alone is slow.
    single: list[float] = []
    while len(single) < 3 and sum(single) < 1000:
        more, _ = sequential(server.port, prep.paths, 1, offset=len(single) + int(prep.distinct))
        single += more
    single_ms = min(single)
    result = Result(
        name, scenario, "ok", note=prep.note, check_ms=round(single_ms, 2),
        example_path=expand(prep.paths[0], 0)[:300], distinct_urls=prep.distinct,
    )  # fmt: skip
    if single_ms * cfg.connections > cfg.duration * 1000 / 2:
        # Too slow for 32 connections to complete a meaningful number of requests in the
        # window (every latency would be queueing): measure one connection instead.
        _measure_sequential(server, prep, cfg, single_ms, result)
    else:
        _measure_wrk(server, prep, cfg, result)
    result.load_average = round(os.getloadavg()[0], 2)
    log(
        f"  {name:17} {scenario:13} {result.rps:>9,.1f} rps  p50 {result.p50_ms:8.2f} ms  "
        f"p99 {result.p99_ms:8.2f} ms  (1 request: {single_ms:.1f} ms)"
        + (f"  errors {result.errors}" if result.errors else "")
        + (f"  cache {result.cache}" if result.cache else "")
        + ("  [sequential]" if result.mode == "sequential" else "")
    )
    return result


def cache_delta(
    before: dict[str, int] | None, after: dict[str, int] | None
) -> dict[str, int] | None:
    """Response-cache hits and misses between two readings (the measured requests only)."""
    if before is None or after is None:
        return None
    return {k: after.get(k, 0) - before.get(k, 0) for k in ("hit", "miss")}


def _measure_sequential(
    server: Server, prep: Prepared, cfg: WrkConfig, single_ms: float, result: Result
) -> None:
    count = max(3, min(50, int(cfg.duration * 1000 / single_ms)))
    offset = WARMUP_OFFSET if prep.distinct else 0
    latencies: list[float] = []
    bad = 0
    before = server.cache_events()
    started = time.monotonic()
    # At least 3 requests; beyond that, stop when the time of a measurement is spent.
    while len(latencies) < count and (
        len(latencies) < 3 or time.monotonic() - started < cfg.duration
    ):
        more, failed = sequential(server.port, prep.paths, 1, offset + len(latencies))
        latencies += more
        bad += failed
    result.status = "invalid" if bad else "ok"
    result.rps = round(len(latencies) / (sum(latencies) / 1000), 2)
    result.p50_ms = round(_percentile(latencies, 50), 2)
    result.p90_ms = round(_percentile(latencies, 90), 2)
    result.p99_ms = round(_percentile(latencies, 99), 2)
    result.max_ms = round(max(latencies), 2)
    result.requests = len(latencies)
    result.errors = {"status": bad} if bad else None
    result.mode = "sequential"
    result.cache = cache_delta(before, server.cache_events())
    note = f"{single_ms:,.0f} ms per request: measured on 1 connection, {len(latencies)} requests"
    result.note = f"{result.note}; {note}" if result.note else note


def _measure_wrk(server: Server, prep: Prepared, cfg: WrkConfig, result: Result) -> None:
    idle_path = server.spec.idle_path or server.spec.ready_path
    offset = WARMUP_OFFSET if prep.distinct else 0
    if len(prep.paths) > 1 and not prep.distinct:
        # Touch every URL once first (1,000 detail ids): the warm-up should leave caches,
        # the service's and SQLite's, as warm as a long-running server's.
        sequential(server.port, prep.paths, len(prep.paths))
    if cfg.warmup > 0:
        warm = run_wrk(server.port, prep.paths, cfg.warmup, cfg, offset)
        wait_idle(server.port, idle_path)
        if prep.distinct:  # past every URL the warm-up sent, and those still in flight
            offset += warm["requests"] + 4 * cfg.connections
    before = server.cache_events()
    data = run_wrk(server.port, prep.paths, cfg.duration, cfg, offset)
    waited = wait_idle(server.port, idle_path)
    result.cache = cache_delta(before, server.cache_events())
    lat = data["latency_us"]
    errors = {k: v for k, v in data["errors"].items() if v}
    bad = data["errors"]["status"] or data["requests"] == 0
    result.status = "invalid" if bad else "ok"
    result.rps = round(data["requests"] / (data["duration_us"] / 1e6), 1)
    result.p50_ms = round(lat["p50"] / 1000, 2)
    result.p90_ms = round(lat["p90"] / 1000, 2)
    result.p99_ms = round(lat["p99"] / 1000, 2)
    result.max_ms = round(lat["max"] / 1000, 2)
    result.requests = data["requests"]
    result.errors = errors or None
    result.drain_s = round(waited, 1)
    templated = any("{n}" in p for p in prep.paths)
    used = offset + data["requests"] + cfg.connections
    if prep.distinct and not templated and used > len(prep.paths):
        note = f"only {len(prep.paths):,} distinct URLs for {used:,} requests: some repeated"
        result.note = f"{result.note}; {note}" if result.note else note


def service_specs(db: Path, pg_url: str | None) -> list[ServerSpec]:
    base = {
        "CURSOR_SECRET": CURSOR_SECRET,
        "METRICS_TOKEN": METRICS_TOKEN,
        # One load generator on one address would hit the per-client limit at once.
        "RATE_LIMIT_PER_MINUTE": "0",
    }
    specs = []
    backends = [("service", f"sqlite+aiosqlite:///{db}")]
    if pg_url:
        backends.append(("postgres", pg_url))
    for name, database_url in backends:
        env = {**base, "DATABASE_URL": database_url}
        specs.append(
            ServerSpec(
                name,
                "service",
                "service.app:app_from_env",
                env,
                "/v1/regions",
                factory=True,
                description=f"{name}: as deployed (response cache on)",
                idle_path="/health/live",
            )
        )
        specs.append(
            ServerSpec(
                f"{name}-nocache",
                "service",
                "service.app:app_from_env",
                {**env, "RESPONSE_CACHE_MB": "0"},
                "/v1/regions",
                factory=True,
                description=f"{name}: RESPONSE_CACHE_MB=0 (every request runs its queries)",
                idle_path="/health/live",
            )
        )
    return specs


def all_specs(db: Path, pg_url: str | None) -> list[ServerSpec]:
    return [
        *service_specs(db, None),
        ServerSpec(
            "datasette",
            "datasette",
            "bench.datasette_app:create",
            {"BENCH_DATASETTE_DB": str(db)},
            "/-/versions.json",
            factory=True,
            description="Datasette, immutable mode, same SQLite file",
        ),
        ServerSpec(
            "baseline",
            "baseline",
            "bench.baseline_app:app",
            {"BENCH_BASELINE_DB": str(db)},
            "/baseline",
            description="bare Litestar, constant 50-item list",
        ),
        *[s for s in service_specs(db, pg_url) if s.name.startswith("postgres")],
    ]


# ---------------------------------------------------------------- report


def _find(results: list[Result], server: str, scenario: str) -> Result | None:
    """The measurement of a scenario on a server (the best, when it was measured twice)."""
    found = [r for r in results if r.server == server and r.scenario == scenario]
    ok = [r for r in found if r.status == "ok"]
    return max(ok, key=lambda r: r.rps or 0) if ok else None


def _cell(r: Result | None) -> str:
    if r is None:
        return "-"
    if r.status == "skipped":
        return "n/a" if r.note.startswith("n/a") else "FAILED CHECK"
    flag = ("!" if r.status == "invalid" else "") + ("*" if r.mode == "sequential" else "")
    rps = f"{r.rps:,.0f}" if (r.rps or 0) >= 10 else f"{r.rps:.2f}"
    return f"{rps}{flag} / {r.p50_ms:.1f} / {r.p99_ms:.1f}"


def print_report(
    results: list[Result], memory: dict[str, dict[str, float]], goals: list[dict[str, Any]]
) -> None:
    servers = list(dict.fromkeys(r.server for r in results))
    scenarios = list(dict.fromkeys(r.scenario for r in results))
    width = 26
    print()
    print(
        "rps / p50 ms / p99 ms  (wrk, 32 connections; * = over 150 ms per request, measured on "
        "1 connection; ! = non-2xx responses, invalid)"
    )
    print(f"{'scenario':14}" + "".join(f"{s:>{width}}" for s in servers))
    for scenario in scenarios:
        row = f"{scenario:14}"
        for server in servers:
            match = [r for r in results if r.server == server and r.scenario == scenario]
            best = _find(results, server, scenario) or (match[0] if match else None)
            row += f"{_cell(best):>{width}}" if match else f"{'':>{width}}"
        print(row)
    print()
    for r in results:
        if r.note:
            print(f"  {r.server} {r.scenario}: {r.note}")
        if r.cache and r.distinct_urls and r.cache.get("hit"):
            print(f"  {r.server} {r.scenario}: {r.cache['hit']} cache hits on distinct URLs!")
    print()
    print("memory after the run (MB): " + ", ".join(f"{s} {m}" for s, m in memory.items()))
    print()
    print("targets (issue #13; bench/targets.py defines each)")
    print("\n".join("  " + line for line in table(goals)))


def environment(db: Path, cfg: WrkConfig) -> dict[str, Any]:
    def version(module: str) -> str | None:
        try:
            from importlib.metadata import version as v

            return v(module)
        except Exception:
            return None

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty_files": len([x for x in git("status", "--porcelain").splitlines() if x]),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "load_average_at_start": os.getloadavg(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": {
            p: version(p)
            for p in (
                "litestar",
                "msgspec",
                "uvicorn",
                "uvloop",
                "httptools",
                "sqlalchemy",
                "aiosqlite",
                "asyncpg",
                "datasette",
            )
        },
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0:1],
        "wrk_config": asdict(cfg),
        "server_cpu": "0" if cfg.cpu is not None else None,
        "database": db.name,
        "database_mb": round(db.stat().st_size / 2**20),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the service against Datasette.")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--servers", help="comma-separated subset of servers to run")
    parser.add_argument("--scenarios", help="comma-separated subset of scenarios")
    parser.add_argument("--scale", type=float, default=1.0, help="dataset size (1 = 1M metrics)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server/wrk to CPUs")
    parser.add_argument("--walk-budget", type=float, default=300.0, help="seconds")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="PostgreSQL URL to benchmark too (default: $BENCH_POSTGRES_URL, else "
        f"{PG_DEFAULT_HOST}:{PG_DEFAULT_PORT}/bench_1m when a server answers there; "
        "'off' to skip)",
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the service servers (e.g. LOG_LEVEL=WARNING); repeatable",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="use this SQLite file instead of the generated one (e.g. a copy with an extra index)",
    )
    parser.add_argument(
        "--service-root",
        type=Path,
        default=ROOT,
        help="run the service from this checkout (to measure a patched copy against the same data)",
    )
    return parser.parse_args(argv)


PG_DEFAULT_HOST = "127.0.0.1"
PG_DEFAULT_PORT = 5432


def postgres_url(given: str | None, scale: Scale) -> tuple[str | None, bool]:
    """(URL, explicit): the given URL, or the local server's `bench_1m` database when something
    listens on 127.0.0.1:5432; None when told 'off' or nothing listens."""
    if given and given.strip().lower() in {"off", "none", "0", "no"}:
        return None, True
    if given:
        return given, True
    try:
        with socket.create_connection((PG_DEFAULT_HOST, PG_DEFAULT_PORT), timeout=1):
            pass
    except OSError:
        return None, False
    name = "bench_1m" if scale == Scale() else f"bench_m{scale.metrics}"
    return f"postgresql+asyncpg://postgres@{PG_DEFAULT_HOST}:{PG_DEFAULT_PORT}/{name}", False


def scenario_order(wanted: set[str] | None) -> list[str]:
    """The bare list first, between the cached scenarios and the distinct-URL ones, and last:
    the best of the three is the reference (this machine is shared; its load drifts)."""
    core = [s for s in SCENARIOS if s != "list50" and s not in MISS_SCENARIOS]
    order = ["list50", *core, "list50", *MISS_SCENARIOS, "list50"]
    return [s for s in order if not wanted or s in wanted]


def run_all(
    specs: list[ServerSpec],
    facts: Facts,
    cfg: WrkConfig,
    args: argparse.Namespace,
    pinned: bool,
    pg_facts: Facts | None = None,
) -> tuple[list[Result], dict[str, dict[str, float]], dict[str, str]]:
    results: list[Result] = []
    memory: dict[str, dict[str, float]] = {}
    configs: dict[str, str] = {}
    wanted = set(args.scenarios.split(",")) if args.scenarios else None
    # All servers run side by side (idle ones cost nothing) and are measured scenario by
    # scenario, so the numbers a ratio compares are taken minutes apart, not a whole run apart.
    with contextlib.ExitStack() as stack:
        running: list[tuple[Server, dict[str, Prepared]]] = []
        extra_env = dict(item.split("=", 1) for item in args.env)
        for spec in specs:
            if spec.kind == "service" and args.service_root.resolve() != ROOT:
                spec.description += f" [code from {args.service_root}]"
            if spec.kind == "service" and extra_env:
                spec.env.update(extra_env)
                spec.description += " [" + " ".join(args.env) + "]"
            log(f"{spec.name}: {spec.description}")
            configs[spec.name] = spec.description
            cwd = args.service_root.resolve() if spec.kind == "service" else ROOT
            server = stack.enter_context(Server(spec, "0" if pinned else None, cwd))
            if spec.kind == "service":
                cached = spec.env.get("RESPONSE_CACHE_MB") != "0"
                on_pg = spec.env["DATABASE_URL"].startswith("postgresql")
                mine = pg_facts if on_pg and pg_facts else facts
                prepared = prepare_service(server.port, mine, args.walk_budget, miss=cached)
            elif spec.kind == "datasette":
                prepared = prepare_datasette(server.port, facts)
            else:
                prepared = prepare_baseline(server.port)
            running.append((server, prepared))
        for scenario in scenario_order(wanted):
            for server, prepared in running:
                if scenario in prepared:
                    results.append(measure(server, scenario, prepared[scenario], cfg))
        for server, _ in running:
            memory[server.spec.name] = server.memory_mb()
    return results, memory, configs


def save(document: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{document['timestamp']}.json"
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    try:
        from bench.chart import render

        print(f"chart: {render(document, out.with_suffix('.png')).relative_to(ROOT)}")
    except ImportError as exc:  # matplotlib comes with the bench extra
        print(f"no chart ({exc}): pip install -e '.[bench]'")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk (make bench does this)")
    pinned = bool(not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset"))
    cfg = WrkConfig(
        connections=args.connections,
        threads=args.threads,
        duration=args.duration,
        warmup=args.warmup,
        cpu="1" if pinned else None,
    )
    scale = Scale().times(args.scale)
    started = time.monotonic()
    db = args.db.resolve() if args.db else ensure_sqlite(scale, DEFAULT_SEED)
    pg_url, explicit = postgres_url(args.postgres, scale)
    if pg_url:
        try:
            built = ensure_postgres(pg_url, scale, DEFAULT_SEED)
            log(f"PostgreSQL: {pg_url} ({'built' if built else 'cached: marker matches'})")
        except Exception as exc:  # a server found by probing, not asked for: skip it
            if explicit:
                raise
            log(f"PostgreSQL at {pg_url} skipped: {exc!r}")
            pg_url = None
    log(f"data: {db}")
    facts = Facts.read(db)
    wanted = set(args.servers.split(",")) if args.servers else None
    specs = [s for s in all_specs(db, pg_url) if not wanted or s.name in wanted]
    pg_facts = postgres_facts(pg_url, facts) if pg_url else None
    results, memory, configs = run_all(specs, facts, cfg, args, pinned, pg_facts)
    goals = evaluate([asdict(r) for r in results], memory, cfg.connections)
    print_report(results, memory, goals)
    elapsed = time.monotonic() - started
    print(f"\nbench run took {elapsed:.0f} s")
    if not args.no_save:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        env = environment(db, cfg)
        env["postgres"] = pg_url
        save(
            {
                "timestamp": stamp,
                "environment": env,
                "servers": configs,
                "scenarios": SCENARIOS,
                "results": [asdict(r) for r in results],
                "memory_mb": memory,
                "targets": goals,
                "targets_summary": summary(goals),
                "seconds": round(elapsed),
            }
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
