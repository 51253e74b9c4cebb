"""`make bench`: the service against Datasette and a bare Litestar app, same data, same run.

    python -m bench.run                       # everything, 10 s per scenario
    python -m bench.run --duration 3 --warmup 1 --servers service,datasette
    BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/h6 python -m bench.run

Each server runs alone under uvicorn (1 worker, uvloop, httptools, no access log), pinned to
CPU 0 while wrk (1 thread, 32 connections) runs on CPU 1, so the two do not compete for a core.
Every scenario is checked first (status 200, the expected rows, the count and facets actually
computed), then warmed up, then measured; a non-2xx response during a measurement marks the
result invalid. Results: a table on stdout and `bench/results/<timestamp>.json`.

Servers
- `service`: the API as deployed (response cache on), except the per-client rate limit, which a
  load generator on one address would hit at once.
- `service-nocache`: the same with `RESPONSE_CACHE_MB=0`, so every request runs its queries: the
  cost of a cache miss, i.e. of the hot path itself.
- `datasette`: Datasette (immutable mode) on the same SQLite file, asked the equivalent
  questions through its table JSON API (see bench/datasette_app.py for its settings).
- `baseline`: bench/baseline_app.py, a constant 50-item list: the ceiling for a Litestar
  endpoint on this machine.
- `postgres`, `postgres-nocache`: the service on PostgreSQL, when BENCH_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from bench.generate import DEFAULT_SEED, ROOT, Scale, ensure_postgres, ensure_sqlite

RESULTS_DIR = ROOT / "bench" / "results"
LOG_DIR = ROOT / "bench" / "data" / "logs"
CURSOR_SECRET = "bench-cursor-secret"
DEEP_ROW = 900_000  # the deep page starts after this many rows
WRK_TIMEOUT = "30s"

# Targets (2 cores, 32 connections, one run).
TARGET_VS_DATASETTE = 20.0
TARGET_VS_BASELINE = 0.60
TARGET_DEEP_VS_FIRST = 1.2
TARGET_P99_MS = 10.0
TARGET_RSS_MB = 250.0


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

LUA = """
local paths = {%(paths)s}
local n = #paths
local i = 0
setup = function(thread)
  thread:set("offset", %(offset)d)
end
init = function(args)
  i = offset or 0
end
request = function()
  i = i + 1
  if i > n then i = 1 end
  return wrk.format("GET", paths[i], {["Accept"] = "application/json"})
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


@dataclass
class WrkConfig:
    connections: int = 32
    threads: int = 1
    duration: float = 10.0
    warmup: float = 3.0
    cpu: str | None = "1"


def run_wrk(port: int, paths: list[str], seconds: float, cfg: WrkConfig) -> dict[str, Any]:
    for p in paths:
        if not p.isascii() or '"' in p or "\\" in p:
            raise ValueError(f"path must be percent-encoded ASCII: {p!r}")
    lua = LUA % {"paths": ",".join(f'"{p}"' for p in paths), "offset": 0}
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

    @classmethod
    def read(cls, db: Path) -> Facts:
        """From `<db>.facts.json` when present: the ordered OFFSET scans cost a sort of a
        million rows, so they run once per generated file."""
        cached = db.with_name(db.name + ".facts.json")
        if cached.exists():
            data = json.loads(cached.read_text())
            data["db"] = db
            data["deep_after"] = tuple(data["deep_after"])
            return cls(**data)
        facts = cls._query(db)
        data = {k: v for k, v in asdict(facts).items() if k != "db"}
        cached.write_text(json.dumps(data, ensure_ascii=False))
        return facts

    @classmethod
    def _query(cls, db: Path) -> Facts:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            detail_ids = [
                r[0] for r in conn.execute("SELECT id FROM metric WHERE rowid % 997 = 3 LIMIT 1000")
            ]
            order = "ORDER BY document_id, span_start, id"
            after = conn.execute(
                f"SELECT document_id, span_start, id FROM metric {order} LIMIT 2 OFFSET ?",
                (DEEP_ROW - 1,),
            ).fetchall()
            pk_after = conn.execute(
                "SELECT id FROM metric ORDER BY id LIMIT 2 OFFSET ?", (DEEP_ROW - 1,)
            ).fetchall()
            subtree = [
                r[0]
                for r in conn.execute(
                    "SELECT r.id FROM region r LEFT JOIN region p ON r.parent_id = p.id "
                    "WHERE r.id = ?1 OR r.parent_id = ?1 OR p.parent_id = ?1 ORDER BY r.id",
                    ("li-shui-shi",),
                )
            ]
        finally:
            conn.close()
        return cls(
            db=db,
            detail_ids=detail_ids,
            deep_after=tuple(after[0]),  # type: ignore[arg-type]
            deep_first_id=after[1][2],
            deep_pk_after=pk_after[0][0],
            deep_pk_first_id=pk_after[1][0],
            li_shui_subtree=subtree,
            datasette_name=db.stem,
        )


FILTER_PARAMS: list[tuple[str, str | int]] = [
    ("unit", "元"),
    ("region", "li-shui-shi"),
    ("value__gte", 1000),
    ("sort", "-value"),
    ("limit", 50),
]
SCENARIOS = {
    "detail": "GET /v1/metrics/{id} (1,000 ids, round robin)",
    "first": "first list page, limit=50 (default sort, exact count)",
    "deep": f"list page after {DEEP_ROW:,} rows, same query (keyset cursor)",
    "filtered": "unit=元&region=li-shui-shi&value__gte=1000&sort=-value&limit=50",
    "list50": "constant 50-item list (bare Litestar)",
    "facet": "facet=unit&facet=region&limit=1",
    "search": "q=工坊&limit=20",
}


def _page_ok(body: Any, limit: int) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return f"unexpected body: {str(body)[:200]}"
    if not 0 < len(body["data"]) <= limit:
        return f"{len(body['data'])} items (expected 1..{limit})"
    return None


def _sign_cursor(template: str, values: list[Any], secret: str) -> str | None:
    """A cursor like `template` (one the service issued for this query) but positioned after
    `values`, signed with the secret the harness started the service with. None when the
    cursor format is not the one this harness knows (base64url(12-byte HMAC tag + JSON))."""
    try:
        blob = base64.urlsafe_b64decode(template + "=" * (-len(template) % 4))
        payload = json.loads(blob[12:])
    except (ValueError, TypeError):
        return None
    if not (isinstance(payload, list) and len(payload) == 3 and payload[0] == "next"):
        return None
    if not isinstance(payload[1], list) or len(payload[1]) != len(values):
        return None
    new = json.dumps(["next", values, payload[2]], separators=(",", ":"), ensure_ascii=False)
    key = hashlib.sha256(secret.encode()).digest()
    tag = hmac.new(key, new.encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(tag + new.encode()).decode().rstrip("=")


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
    return cursor


def prepare_service(port: int, facts: Facts, walk_budget: float) -> dict[str, Prepared]:
    out: dict[str, Prepared] = {}

    def check(name: str, path: str, limit: int, extra: Callable[[Any], str | None] | None = None):
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
            cursor = _walk_cursor(port, [("limit", 50)], DEEP_ROW, walk_budget)
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
        url("/v1/metrics", [("facet", "unit"), ("facet", "region"), ("limit", 1)]),
        1,
        has_facets,
    )
    out["search"] = check("search", url("/v1/metrics", [("q", "工坊"), ("limit", 20)]), 20)
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
        url(f"{table}.json", [("_facet", "unit"), ("_facet", "region_id"), ("_size", 1), *OBJECTS]),
        1,
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


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def sequential(port: int, paths: list[str], count: int) -> tuple[list[float], int]:
    """`count` requests one after another on one keep-alive connection: (latencies ms, non-200)."""
    latencies: list[float] = []
    bad = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for k in range(count):
            started = time.perf_counter()
            _send(conn, paths[k % len(paths)])
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


def measure(server: Server, scenario: str, prep: Prepared, cfg: WrkConfig) -> Result:
    name = server.spec.name
    if prep.skip:
        log(f"  {name:17} {scenario:9} {prep.skip}")
        return Result(name, scenario, "skipped", note=prep.skip)
    # Service time of one request on an idle server (warm: the check already ran once).
    single, _ = sequential(server.port, prep.paths, 2)
    single_ms = min(single)
    result = Result(
        name, scenario, "ok", note=prep.note, check_ms=round(single_ms, 2),
        example_path=prep.paths[0][:300],
    )  # fmt: skip
    if single_ms * cfg.connections > cfg.duration * 1000 / 2:
        # Too slow for 32 connections to complete a meaningful number of requests in the
        # window (every latency would be queueing): measure one connection instead.
        count = max(5, min(50, int(cfg.duration * 1000 / single_ms)))
        latencies, bad = sequential(server.port, prep.paths, count)
        result.status = "invalid" if bad else "ok"
        result.rps = round(len(latencies) / (sum(latencies) / 1000), 2)
        result.p50_ms = round(_percentile(latencies, 50), 2)
        result.p90_ms = round(_percentile(latencies, 90), 2)
        result.p99_ms = round(_percentile(latencies, 99), 2)
        result.max_ms = round(max(latencies), 2)
        result.requests = len(latencies)
        result.errors = {"status": bad} if bad else None
        result.mode = "sequential"
        note = f"{single_ms:,.0f} ms per request: measured on 1 connection, {count} requests"
        result.note = f"{result.note}; {note}" if result.note else note
    else:
        if len(prep.paths) > 1:
            # Touch every URL once first (1,000 detail ids): the warm-up should leave caches,
            # the service's and SQLite's, as warm as a long-running server's.
            sequential(server.port, prep.paths, len(prep.paths))
        if cfg.warmup > 0:
            run_wrk(server.port, prep.paths, cfg.warmup, cfg)
            wait_idle(server.port, server.spec.ready_path)
        data = run_wrk(server.port, prep.paths, cfg.duration, cfg)
        waited = wait_idle(server.port, server.spec.ready_path)
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
    result.load_average = round(os.getloadavg()[0], 2)
    log(
        f"  {name:17} {scenario:9} {result.rps:>9,.1f} rps  p50 {result.p50_ms:8.2f} ms  "
        f"p99 {result.p99_ms:8.2f} ms  (1 request: {single_ms:.1f} ms)"
        + (f"  errors {result.errors}" if result.errors else "")
        + ("  [sequential]" if result.mode == "sequential" else "")
    )
    return result


def service_specs(db: Path, pg_url: str | None) -> list[ServerSpec]:
    base = {
        "CURSOR_SECRET": CURSOR_SECRET,
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


def targets(results: list[Result], memory: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    datasette = _find(results, "datasette", "filtered")
    baseline = _find(results, "baseline", "list50")
    for server in sorted(
        {r.server for r in results if r.server.startswith(("service", "postgres"))}
    ):
        filtered = _find(results, server, "filtered")

        def add(name: str, ok: bool | None, detail: str, server: str = server) -> None:
            out.append({"server": server, "target": name, "pass": ok, "detail": detail})

        if filtered and datasette and datasette.rps:
            ratio = filtered.rps / datasette.rps  # type: ignore[operator]
            add(
                f"filtered rps >= {TARGET_VS_DATASETTE:.0f}x Datasette",
                ratio >= TARGET_VS_DATASETTE,
                f"{filtered.rps:,.1f} / {datasette.rps:,.1f} = {ratio:,.1f}x",
            )
        else:
            add(f"filtered rps >= {TARGET_VS_DATASETTE:.0f}x Datasette", None, "not measured")
        if filtered and baseline and baseline.rps:
            ratio = filtered.rps / baseline.rps  # type: ignore[operator]
            add(
                f"filtered rps >= {TARGET_VS_BASELINE:.0%} of bare Litestar",
                ratio >= TARGET_VS_BASELINE,
                f"{filtered.rps:,.1f} / {baseline.rps:,.1f} = {ratio:.0%}",
            )
        else:
            add(f"filtered rps >= {TARGET_VS_BASELINE:.0%} of bare Litestar", None, "not measured")
        first, deep = _find(results, server, "first"), _find(results, server, "deep")
        if first and deep and first.p50_ms:
            ratio = deep.p50_ms / first.p50_ms  # type: ignore[operator]
            add(
                f"deep page p50 <= {TARGET_DEEP_VS_FIRST}x first page",
                ratio <= TARGET_DEEP_VS_FIRST,
                f"{deep.p50_ms:.2f} / {first.p50_ms:.2f} ms = {ratio:.2f}x "
                f"(p99 {deep.p99_ms:.2f} / {first.p99_ms:.2f} ms)",
            )
        else:
            add(f"deep page p50 <= {TARGET_DEEP_VS_FIRST}x first page", None, "not measured")
        mine = [r for r in results if r.server == server and r.status == "ok"]
        if mine:
            worst = max(mine, key=lambda r: r.p99_ms or 0)
            misses = [
                f"{r.scenario} {r.p99_ms:.1f}" for r in mine if (r.p99_ms or 0) >= TARGET_P99_MS
            ]
            add(
                f"p99 < {TARGET_P99_MS:.0f} ms (every scenario)",
                not misses,
                f"worst {worst.scenario} {worst.p99_ms:.2f} ms"
                + (f"; over: {', '.join(misses)} ms" if misses else ""),
            )
        hwm = memory.get(server, {}).get("VmHWM")
        add(
            f"RSS < {TARGET_RSS_MB:.0f} MB",
            None if hwm is None else hwm < TARGET_RSS_MB,
            "not measured"
            if hwm is None
            else f"VmHWM {hwm:.0f} MB, VmRSS {memory[server].get('VmRSS', 0):.0f} MB after the run",
        )
    return out


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
    print(f"{'scenario':10}" + "".join(f"{s:>{width}}" for s in servers))
    for scenario in scenarios:
        row = f"{scenario:10}"
        for server in servers:
            match = [r for r in results if r.server == server and r.scenario == scenario]
            best = _find(results, server, scenario) or (match[0] if match else None)
            row += f"{_cell(best):>{width}}" if match else f"{'':>{width}}"
        print(row)
    print()
    for r in results:
        if r.note:
            print(f"  {r.server} {r.scenario}: {r.note}")
    print()
    print("memory after the run (MB): " + ", ".join(f"{s} {m}" for s, m in memory.items()))
    print()
    print("targets")
    for g in goals:
        verdict = {True: "PASS", False: "MISS", None: "n/a "}[g["pass"]]
        print(f"  {verdict}  {g['server']:17} {g['target']:44} {g['detail']}")


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the service against Datasette.")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--servers", help="comma-separated subset of servers to run")
    parser.add_argument("--scenarios", help="comma-separated subset of scenarios")
    parser.add_argument("--scale", type=float, default=1.0, help="dataset size (1 = 1M metrics)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server/wrk to CPUs")
    parser.add_argument("--walk-budget", type=float, default=300.0, help="seconds")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL"))
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
    args = parser.parse_args(argv)

    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk (make bench does this)")
    pinned = not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
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
    if args.postgres:
        ensure_postgres(args.postgres, scale, DEFAULT_SEED)
    log(f"data: {db}")
    facts = Facts.read(db)
    wanted_servers = set(args.servers.split(",")) if args.servers else None
    wanted_scenarios = set(args.scenarios.split(",")) if args.scenarios else None

    results: list[Result] = []
    memory: dict[str, dict[str, float]] = {}
    configs: dict[str, str] = {}
    specs = [
        s for s in all_specs(db, args.postgres) if not wanted_servers or s.name in wanted_servers
    ]
    # All servers run side by side (idle ones cost nothing) and are measured scenario by
    # scenario, so the numbers a ratio compares are taken minutes apart, not a whole run apart:
    # this machine is shared, and its load drifts.
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
                prepared = prepare_service(server.port, facts, args.walk_budget)
            elif spec.kind == "datasette":
                prepared = prepare_datasette(server.port, facts)
            else:
                prepared = prepare_baseline(server.port)
            running.append((server, prepared))
        order = [s for s in SCENARIOS if not wanted_scenarios or s in wanted_scenarios]
        if "filtered" in order and "list50" in order:
            # The baseline right before and right after the filtered pages it is compared with;
            # the better of the two counts (the stricter comparison on a noisy machine).
            order.remove("list50")
            at = order.index("filtered")
            order[at:at] = ["list50"]
            order.insert(at + 2, "list50")
        for scenario in order:
            for server, prepared in running:
                if scenario in prepared:
                    results.append(measure(server, scenario, prepared[scenario], cfg))
        for server, _ in running:
            memory[server.spec.name] = server.memory_mb()

    goals = targets(results, memory)
    print_report(results, memory, goals)
    elapsed = time.monotonic() - started
    print(f"\nbench run took {elapsed:.0f} s")
    if not args.no_save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS_DIR / f"{stamp}.json"
        document = {
            "timestamp": stamp,
            "environment": environment(db, cfg),
            "servers": configs,
            "scenarios": SCENARIOS,
            "results": [asdict(r) for r in results],
            "memory_mb": memory,
            "targets": goals,
            "seconds": round(elapsed),
        }
        out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
