"""`make loadtest`: 60 s of mixed GET traffic against a real uvicorn server; fails on any 5xx.

    python -m bench.loadtest                      # fresh SQLite DB, 60 s, 32 concurrent clients
    python -m bench.loadtest --duration 10 --concurrency 8
    python -m bench.loadtest --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/h5

The server is the service as deployed (`uvicorn service.app:app_from_env --factory`, one
worker, response cache on, JSON access log to a file) on 127.0.0.1 and a free port, except the
per-client rate limit: every request here comes from one address (`--rate-limit` sets it).
The traffic mix: list pages with filters and sorts, cursor walks, details, 304 revalidations,
each with a random `Accept-Encoding` (br, gzip, identity); plus 404s, bad parameters (400)
and `Accept: text/html` (406). Concurrency is bounded by the number of client tasks. The
report gives status counts, requests per second and latency percentiles; the exit code is 1 if
any response was a 5xx or any request failed outright.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ("articles", "documents", "initiatives", "metrics", "organisations", "regions")
LISTS = [
    "/v1/metrics?limit=20",
    "/v1/metrics?unit=元&value__gte=100000000&sort=-value",
    "/v1/metrics?kind=money&sort=-value&limit=50",
    "/v1/metrics?region=li-shui-shi&limit=10",
    "/v1/metrics?subject__contains=农&count=none",
    "/v1/articles?limit=5",
    "/v1/articles?initiative=gong-fu-gong-fang",
    "/v1/articles?sort=-headline&limit=10",
    "/v1/organisations?kind=bank",
    "/v1/organisations?sort=-name&limit=25",
    "/v1/initiatives?sort=name",
    "/v1/regions",
    "/v1/regions?level=county",
    "/v1/documents",
]
BAD = [
    "/v1/metrics?limit=0",
    "/v1/metrics?limit=1000",
    "/v1/metrics?bogus=1",
    "/v1/metrics?value__gte=lots",
    "/v1/metrics?sort=nope",
    "/v1/metrics?cursor=not-a-cursor",
    "/v1/articles?kind__in=" + ",".join(["x"] * 3),
]
MISSING = ["/v1/metrics/no-such-metric", "/v1/articles/nope", "/no/such/route"]
ENCODINGS = ("br", "gzip", "identity")


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare_database(url: str) -> None:
    """Migrate and seed, exactly as `make seed` does."""
    env = {**os.environ, "DATABASE_URL": url}
    for command in (["-m", "alembic", "upgrade", "head"], ["-m", "service.seed", "load"]):
        subprocess.run(
            [sys.executable, *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )


def start_server(url: str, port: int, rate_limit: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "RATE_LIMIT_PER_MINUTE": str(rate_limit)}
    log = log_path.open("wb")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.app:app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",  # the service writes its own JSON access log
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


async def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"server exited with {server.returncode}")
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("server did not become ready")


async def discover(client: httpx.AsyncClient) -> tuple[list[str], list[str]]:
    """Detail URLs of real records, and cursor URLs from walking each list."""
    details: list[str] = []
    cursors: list[str] = []
    for resource in RESOURCES:
        url: str | None = f"/v1/{resource}?limit=7"
        while url:
            body = (await client.get(url)).json()
            details += [f"/v1/{resource}/{item['id']}" for item in body["data"]]
            url = body["links"]["next"]
            if url:
                cursors.append(url.removeprefix(str(client.base_url).rstrip("/")))
    return details, cursors


def pick(rng: random.Random, details: list[str], cursors: list[str]) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(LISTS)
    if roll < 0.65:
        return rng.choice(details)
    if roll < 0.80:
        return rng.choice(cursors)
    if roll < 0.90:
        return rng.choice(BAD)
    return rng.choice(MISSING)


async def worker(
    client: httpx.AsyncClient,
    stop_at: float,
    details: list[str],
    cursors: list[str],
    tally: Tally,
    seed: int,
) -> None:
    rng = random.Random(seed)
    etags: dict[str, str] = {}
    while time.monotonic() < stop_at:
        url = pick(rng, details, cursors)
        headers = {"Accept-Encoding": rng.choice(ENCODINGS)}
        key = url + headers["Accept-Encoding"]
        if key in etags and rng.random() < 0.5:
            headers["If-None-Match"] = etags[key]
        if rng.random() < 0.02:
            headers["Accept"] = "text/html"
        started = time.perf_counter()
        try:
            response = await client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            tally.errors[type(exc).__name__] += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.statuses[response.status_code] += 1
        if "etag" in response.headers:
            etags[key] = response.headers["etag"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def drive(base: str, duration: float, concurrency: int) -> tuple[Tally, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        details, cursors = await discover(client)
        tally = Tally()
        started = time.monotonic()
        stop_at = started + duration
        await asyncio.gather(
            *(worker(client, stop_at, details, cursors, tally, seed) for seed in range(concurrency))
        )
        return tally, time.monotonic() - started


def report(tally: Tally, elapsed: float) -> int:
    total = sum(tally.statuses.values())
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    print(f"requests: {total} in {elapsed:.1f} s = {total / elapsed:.0f} req/s")
    print("status counts: " + ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items())))
    ms = [x * 1000 for x in tally.latencies]
    print(
        "latency ms: "
        + ", ".join(f"p{int(q * 100)} {percentile(ms, q):.1f}" for q in (0.5, 0.9, 0.99))
        + f", max {max(ms, default=0):.1f}"
    )
    print(f"5xx: {server_errors}; transport errors: {dict(tally.errors) or 0}")
    return 1 if server_errors or tally.errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--concurrency", type=int, default=32, help="client tasks (32)")
    parser.add_argument("--database-url", help="serve this database as is (default: fresh SQLite)")
    parser.add_argument("--rate-limit", type=int, default=0, help="RATE_LIMIT_PER_MINUTE (0: off)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        url = args.database_url
        if url is None:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'service.db'}"
            prepare_database(url)
        port = free_port()
        log_path = Path(tmp) / "server.log"
        server = start_server(url, port, args.rate_limit, log_path)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(wait_ready(base, server))
            print(
                f"server {base} ({url.split('://')[0]}); {args.concurrency} clients for {args.duration:.0f} s"
            )
            tally, elapsed = asyncio.run(drive(base, args.duration, args.concurrency))
            status = report(tally, elapsed)
        finally:
            server.terminate()
            server.wait(timeout=10)
        log_lines = log_path.read_text(errors="replace").splitlines()
        noisy = [line for line in log_lines if '"level":"ERROR"' in line or "Traceback" in line]
        print(f"server log: {len(log_lines)} lines, {len(noisy)} errors")
        # The server's own view (its access log), without the client's queueing.
        served = [
            float(entry["duration_ms"])
            for line in log_lines
            if '"service.access"' in line
            for entry in [json.loads(line)]
        ]
        print(
            "server-side ms: "
            + ", ".join(f"p{int(q * 100)} {percentile(served, q):.1f}" for q in (0.5, 0.9, 0.99))
        )
        for line in noisy[:5]:
            print("  " + line[:300])
        return status or (1 if noisy else 0)


if __name__ == "__main__":
    raise SystemExit(main())
