"""The compose stack end to end on a real Docker engine (`make compose-test`).

deploy/compose-test.sh prepares the engine, the local base image and the wheelhouse, then runs
`python -m tests.compose_stack`. This driver builds the images (docker-compose.yml with the
docker-compose.test.yml override), then runs the README's compose commands block by block, and
between them checks what the README promises:

- both replicas answer through nginx (its `X-Upstream` header names the replica's address);
- the replicas share state through Redis, checked on each replica directly (from inside
  replica 1, which reaches replica 2 by its address on the compose network): requests
  alternating between them draw on one rate-limit budget until both answer 429, and a write
  through replica 1 is what replica 2 answers right after (created, then patched over a page
  replica 2 had cached), well within the periodic re-read of the dataset version;
- under a steady client load through nginx, one replica killed (SIGKILL) and started again: not
  one failed request (nginx retries the other replica);
- under a load of reads and writes, PostgreSQL stopped for a few seconds and started again:
  only 503s with `Retry-After` meanwhile, then recovery, and every acknowledged write (201) is
  there afterwards;
- `down -v` leaves no container, network or volume of the project.

Every request goes to 127.0.0.1 and every loop is bounded. Docker Compose here is Debian's
v1 (`docker-compose`): README lines say `docker compose` (v2) and are translated.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import shlex
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "lishui-ci"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.test.yml")
README_SECTION = "## Running with docker compose"
REPLICAS = 2
WORKERS = 2
# The per-IP rate limit (RATE_LIMIT_PER_MINUTE, 1200 per replica) must not cut in: the load
# stays near 10 requests per second in total.
LOAD_INTERVAL = 0.2


def log(message: str) -> None:
    print(f"[compose_stack {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ HTTP through nginx


@dataclass
class Reply:
    status: int  # 0: no HTTP response (connection refused, reset, timeout)
    headers: dict[str, str]
    body: bytes
    error: str = ""


def request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    except (OSError, http.client.HTTPException) as exc:
        return Reply(0, {}, b"", f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def answered_by(reply: Reply) -> str:
    """The replica address that produced the response (the last one nginx tried)."""
    return reply.headers.get("x-upstream", "").split(",")[-1].strip()


def upstreams_seen(port: int, count: int = 30) -> Counter[str]:
    return Counter(answered_by(request(port, "GET", "/v1/meta")) for _ in range(count))


# ------------------------------------------------------------------ docker and compose


@dataclass
class Stack:
    port: int
    artifacts: Path
    env_file: Path

    def base(self) -> list[str]:
        files = itertools.chain.from_iterable(("-f", str(ROOT / f)) for f in COMPOSE_FILES)
        # The README's first line writes it; compose v1 refuses a --env-file that is missing.
        env_file = ["--env-file", str(self.env_file)] if self.env_file.exists() else []
        return ["docker-compose", "--compatibility", "-p", PROJECT, *env_file, *files]

    def env(self, placeholder: bool = False) -> dict[str, str]:
        # Two uvicorn worker processes per replica: the image's WORKERS is exercised too.
        env = {"WORKERS": str(WORKERS), **os.environ, "API_PORT": str(self.port)}
        if placeholder:  # before the README's .env exists (build) or if it never did (teardown)
            env["CURSOR_SECRET"] = "placeholder-for-compose-interpolation"
        return env

    def compose(
        self,
        *args: str,
        logfile: str | None = None,
        timeout: float = 900,
        placeholder: bool = False,
    ) -> str:
        command = shlex.join([*self.base(), *args])
        return self.sh(command, logfile=logfile, timeout=timeout, placeholder=placeholder)

    def sh(
        self,
        command: str,
        logfile: str | None = None,
        timeout: float = 900,
        placeholder: bool = False,
    ) -> str:
        """Runs a shell line (pipefail) from the repository root; its output, or raises."""
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=ROOT,
            env=self.env(placeholder),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = done.stdout + done.stderr
        if logfile:
            with (self.artifacts / logfile).open("a") as fh:
                fh.write(f"$ {command}\n{output}\n[exit {done.returncode}]\n")
        if done.returncode != 0:
            raise AssertionError(f"`{command}` exited {done.returncode}:\n{output[-3000:]}")
        return done.stdout

    def containers(self, service: str) -> list[str]:
        labels = [f"project={PROJECT}", f"service={service}"]
        filters = [f"--filter=label=com.docker.compose.{label}" for label in labels]
        out = docker("ps", "--format", "{{.Names}}", *filters)
        return sorted(out.split(), key=lambda name: int(name.rsplit("_", 1)[-1]))


def docker(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def health(container: str) -> str:
    return docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", container)


def address(container: str) -> str:
    template = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return docker("inspect", "-f", template, container)


def wait_for(what: str, check: Callable[[], bool], timeout: float) -> float:
    """Polls `check` once a second until it holds; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_ready(stack: Stack, replicas: int, timeout: float = 240) -> float:
    def ready() -> bool:
        try:
            names = stack.containers("api")
            healthy = len(names) == replicas and all(health(n) == "healthy" for n in names)
        except AssertionError:  # a container removed between `ps` and `inspect` (scaling down)
            return False
        return healthy and request(stack.port, "GET", "/health/ready").status == 200

    return wait_for(f"{replicas} healthy replicas behind nginx", ready, timeout)


def replica_names(stack: Stack) -> dict[str, str]:
    """nginx's upstream address (ip:8000) → container name."""
    return {f"{address(name)}:8000": name for name in stack.containers("api")}


def assert_balanced(stack: Stack, replicas: int, settle: float = 30.0) -> dict[str, int]:
    """Every replica answers. nginx re-admits a server it marked failed only after
    `fail_timeout` (10 s in deploy/nginx.conf) from its last failed try, which can fall
    just before a restarted replica listens, so poll for up to `settle` seconds (CI, stop 19:
    checked 3 s after healthy, only the other replica had answered yet)."""
    deadline = time.monotonic() + settle
    while True:
        names = replica_names(stack)
        seen = upstreams_seen(stack.port, 15 * replicas)
        by_name = {names.get(addr, addr): n for addr, n in seen.items()}
        balanced = len(seen) == replicas and set(seen) <= set(names)
        if balanced or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert len(seen) == replicas, f"answered: {by_name}"
    assert set(seen) <= set(names), f"answered: {by_name}"
    return by_name


# ------------------------------------------------------------------ shared state (Redis)

# Runs inside replica 1 (`compose exec --index 1 api python -c …`, stdlib only): 127.0.0.1:8000
# is replica 1 itself, argv[2] replica 2's address. Prints one JSON document.
SHARED_PROBE = r"""
import http.client, json, sys, time

mode, other = sys.argv[1], sys.argv[2]
replicas = {"1": ("127.0.0.1", 8000), "2": (other, 8000)}
conns = {k: http.client.HTTPConnection(*a, timeout=10) for k, a in replicas.items()}

def call(which, method, path, body=None, headers=None):
    sent = dict(headers or {})
    data = None
    if body is not None:
        data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    conn = conns[which]
    try:
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
    except (OSError, http.client.HTTPException):  # an idle keep-alive closed: once more
        conn.close()
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
    raw = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    return resp.status, headers, raw

if mode == "budget":
    # One client (its X-Forwarded-For, trusted from the proxy network) on both replicas.
    client = {"X-Forwarded-For": sys.argv[3]}
    status, headers, _ = call("1", "GET", "/v1/meta", headers=client)
    limit = int(headers["ratelimit-limit"])
    seen = [["1", status, headers.get("ratelimit-remaining")]]
    for n in range(1, limit + 2):
        which = "2" if n % 2 else "1"
        status, headers, _ = call(which, "GET", "/v1/meta", headers=client)
        seen.append([which, status, headers.get("ratelimit-remaining")])
    print(json.dumps({"limit": limit, "seen": seen}))
else:
    auth = {"Authorization": "Bearer " + sys.argv[3]}
    new_id = sys.argv[4]
    path = "/v1/organisations/" + new_id
    steps = {"before": call("2", "GET", path)[0]}
    body = {"id": new_id, "name": "Redis 共享 " + new_id, "kind": "other"}
    status, _, _ = call("1", "POST", "/v1/organisations", body, auth)
    written = time.monotonic()
    read_status, _, _ = call("2", "GET", path)
    steps.update(created=status, read_after_create=read_status,
                 create_to_read_s=round(time.monotonic() - written, 3))
    _, headers, _ = call("2", "GET", path)
    again_status, again, _ = call("2", "GET", path)  # cached by replica 2 now
    steps["cached_etag_stable"] = again_status == 200 and again["etag"] == headers["etag"]
    patch = {"name_en": "Patched through replica 1"}
    status, _, _ = call("1", "PATCH", path, patch, {**auth, "If-Match": headers["etag"]})
    written = time.monotonic()
    read_status, _, raw = call("2", "GET", path)
    steps.update(patched=status, read_after_patch=read_status,
                 name_en_after_patch=json.loads(raw).get("name_en"),
                 patch_to_read_s=round(time.monotonic() - written, 3))
    print(json.dumps(steps))
"""


def probe_from_replica_1(stack: Stack, *args: str) -> dict[str, Any]:
    names = stack.containers("api")
    assert len(names) >= 2, names
    out = stack.compose(
        "exec", "-T", "--index", "1", "api", "python", "-c", SHARED_PROBE, args[0],
        address(names[1]), *args[1:], logfile="shared-state.log", timeout=300,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def shared_rate_limit(stack: Stack) -> dict[str, Any]:
    """Alternating between the replicas, one client spends one budget: the remaining count
    falls by one per request whichever replica answers, then both answer 429."""
    client_ip = f"198.51.100.{int(time.time()) % 250 + 1}"  # TEST-NET-2: a fresh window
    result = probe_from_replica_1(stack, "budget", client_ip)
    limit, seen = result["limit"], result["seen"]
    allowed, refused = seen[:limit], seen[limit:]
    assert all(status == 200 for _, status, _ in allowed), allowed[-5:]
    remaining = [int(r) for _, _, r in allowed]
    assert remaining == list(range(limit - 1, -1, -1)), "one budget across both replicas"
    assert {which for which, _, _ in allowed} == {"1", "2"}
    assert [(w, s) for w, s, _ in refused] == [("1", 429), ("2", 429)], refused
    return {"limit": limit, "requests": len(seen), "client": client_ip, "refused": refused}


def shared_writes(stack: Stack, token: str) -> dict[str, Any]:
    """A write through replica 1 is what replica 2 answers next: a created record, and a patch
    over a page replica 2 had cached. Within `VERSION_CHECK_SECONDS` (1 s) the periodic
    re-read could explain it, so the read must also come well before that."""
    new_id = f"ci-redis-{int(time.time())}"
    steps = probe_from_replica_1(stack, "write", token, new_id)
    assert steps["before"] == 404, steps
    assert steps["created"] == 201, steps
    assert steps["read_after_create"] == 200, steps
    assert steps["cached_etag_stable"], steps
    assert steps["patched"] == 200, steps
    assert steps["read_after_patch"] == 200, steps
    assert steps["name_en_after_patch"] == "Patched through replica 1", steps
    assert max(steps["create_to_read_s"], steps["patch_to_read_s"]) < 0.5, steps
    return steps


# ------------------------------------------------------------------ client load


@dataclass
class Sample:
    kind: str  # "read" or "write"
    start: float
    end: float
    status: int
    retry_after: str | None
    upstream: str
    error: str
    write_id: str | None = None


READ_PATHS = ("/v1/meta", "/v1/metrics?limit=5", "/v1/articles?limit=2", "/health/ready")


@dataclass
class Load:
    """Client threads sending requests through nginx until stopped (at most `max_each` each)."""

    port: int
    readers: int = 2
    token: str | None = None  # with a token, one more thread writes organisations
    max_each: int = 1500
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    stopped: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        targets = [self._reads] * self.readers + ([self._writes] if self.token else [])
        self._threads = [threading.Thread(target=t, daemon=True) for t in targets]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self.stopped = time.monotonic()

    def _record(self, kind: str, start: float, reply: Reply, write_id: str | None = None) -> None:
        sample = Sample(
            kind, start, time.monotonic(), reply.status, reply.headers.get("retry-after"),
            answered_by(reply), reply.error, write_id,
        )  # fmt: skip
        with self._lock:
            self.samples.append(sample)
        time.sleep(max(0.0, LOAD_INTERVAL - (sample.end - start)))

    def _reads(self) -> None:
        paths = itertools.cycle(READ_PATHS)
        for _ in range(self.max_each):
            if self._stop.is_set():
                return
            start = time.monotonic()
            self._record("read", start, request(self.port, "GET", next(paths)))

    def _writes(self) -> None:
        tag = f"{int(time.time())}-{os.getpid()}"
        auth = {"Authorization": f"Bearer {self.token}"}
        for n in range(self.max_each):
            if self._stop.is_set():
                return
            write_id = f"ci-{tag}-{n}"
            body = {"id": write_id, "name": f"CI compose write {tag} {n}", "kind": "other"}
            start = time.monotonic()
            reply = request(self.port, "POST", "/v1/organisations", body, auth)
            self._record("write", start, reply, write_id)

    def since(self, moment: float, kind: str, ok: Callable[[Sample], bool]) -> bool:
        with self._lock:
            return any(s.kind == kind and s.start > moment and ok(s) for s in self.samples)


def succeeded(sample: Sample) -> bool:
    return 200 <= sample.status < 400


def longest_pause(samples: list[Sample], start: float, stop: float) -> float:
    """The longest time without a successful response, over the whole load."""
    ends = sorted(s.end for s in samples if succeeded(s))
    return max(b - a for a, b in itertools.pairwise([start, *ends, stop]))


def tally(load: Load) -> dict[str, Any]:
    samples = load.samples
    errors = [s for s in samples if not succeeded(s)]
    return {
        "requests": len(samples),
        "errors": len(errors),
        "error_statuses": dict(Counter(s.status for s in errors)),
        "longest_pause_s": round(longest_pause(samples, load.started, load.stopped), 2),
        "slowest_request_s": round(max((s.end - s.start for s in samples), default=0.0), 2),
        "seconds": round(load.stopped - load.started, 1),
    }


# ------------------------------------------------------------------ failovers


def replica_failover(stack: Stack) -> dict[str, Any]:
    """Reads through nginx while one replica is SIGKILLed, then started again."""
    victim = stack.containers("api")[0]
    with Load(stack.port, readers=2) as load:
        time.sleep(3)
        log(f"killing {victim}")
        kill_at = time.monotonic()
        docker("kill", victim)
        time.sleep(5)
        docker("start", victim)
        back = wait_for(f"{victim} healthy", lambda: health(victim) == "healthy", 120)
        log(f"{victim} started again, healthy after {back:.1f} s")
        time.sleep(3)
    result = tally(load) | {"killed": victim, "down_s": round(back + 5, 1)}
    failed = [s for s in load.samples if not succeeded(s)]
    assert not failed, f"requests failed while {victim} was down: {failed[:5]}"
    result["answering_after"] = assert_balanced(stack, REPLICAS)
    result["killed_at_s"] = round(kill_at - load.started, 1)
    return result


def postgres_restart(stack: Stack, token: str, outage: float = 5.0) -> dict[str, Any]:
    """Reads and writes through nginx while PostgreSQL is stopped for `outage` s, then started."""
    with Load(stack.port, readers=1, token=token) as load:
        time.sleep(3)
        log("stopping postgres")
        stopping = time.monotonic()
        stack.compose("stop", "postgres", logfile="failover.log")
        stopped = time.monotonic()
        time.sleep(outage)
        stack.compose("start", "postgres", logfile="failover.log")
        started = time.monotonic()
        recovered = wait_for(
            "a write to succeed after PostgreSQL started",
            lambda: load.since(started, "write", lambda s: s.status == 201),
            90,
        )
        log(f"postgres started; writes succeed again after {recovered:.1f} s")
        time.sleep(3)
    samples = load.samples
    unavailable = [s for s in samples if s.status == 503]
    other = [s for s in samples if not succeeded(s) and s.status != 503]
    # While PostgreSQL shuts down, new connections fail with "the database system is shutting
    # down" (a bare DBAPIError); service/web/unavailable.py answers it with 503. Those 500s were
    # a known defect until then: COMPOSE_TEST_KNOWN_SHUTDOWN_500=1 still reports instead of
    # failing on them, for bisecting older commits; CI does not set it.
    shutdown_500 = [s for s in other if s.status == 500 and stopping <= s.start <= stopped]
    if os.environ.get("COMPOSE_TEST_KNOWN_SHUTDOWN_500") == "1":
        other = [s for s in other if s not in shutdown_500]
    assert unavailable, "no 503 while PostgreSQL was down"
    assert all(s.retry_after for s in unavailable), "a 503 without Retry-After"
    assert not other, f"failures other than 503 ({len(other)}): {other[:5]}"
    acknowledged = [s.write_id for s in samples if s.status == 201 and s.write_id]
    time.sleep(2)  # the dataset version is re-read at most once a second
    lost = [
        i
        for i in acknowledged
        if request(stack.port, "GET", f"/v1/organisations/{i}").status != 200
    ]
    assert not lost, f"acknowledged writes missing after the restart: {lost}"
    writes = [s for s in samples if s.kind == "write"]
    return tally(load) | {
        "unavailable_503": len(unavailable),
        "known_defect_500_while_shutting_down": len(shutdown_500),
        "writes": len(writes),
        "writes_acknowledged": len(acknowledged),
        "writes_lost": 0,
        "write_longest_pause_s": round(longest_pause(writes, load.started, load.stopped), 2),
        "recovered_after_start_s": round(recovered, 1),
        "outage_s": outage,
    }


# ------------------------------------------------------------------ README commands


def readme_blocks() -> list[list[str]]:
    """The command lines of each ```sh block in the README's compose section."""
    section = (ROOT / "README.md").read_text().split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [[ln for ln in b.splitlines() if ln.strip() and not ln.startswith("#")] for b in blocks]


def translate(line: str, stack: Stack) -> str:
    """A README line (Compose v2, port 8000, ./.env) as it runs here (v1, the test port)."""
    compose = shlex.join(stack.base())
    if not line.startswith("docker compose"):  # inside a container, the API's port stays 8000
        line = line.replace("127.0.0.1:8000", f"127.0.0.1:{stack.port}")
    line = line.replace("> .env", f"> {shlex.quote(str(stack.env_file))}")
    # Compose v1 allocates a TTY for exec and run unless told not to (v2 sees there is none).
    line = re.sub(r"docker compose (exec|run)\b", rf"{compose} \1 -T", line)
    return line.replace("docker compose", compose)


def run_readme_line(stack: Stack, line: str, replicas: int) -> tuple[int, str | None]:
    """Runs one README line and checks its effect: (replicas now expected, API token if any)."""
    if line.startswith("open "):
        path = "/" + line.split()[1].split("/", 3)[3]
        reply = request(stack.port, "GET", path)
        assert reply.status == 200, f"{line}: {reply.status}"
        assert reply.headers["content-type"].startswith("text/html"), line
        return replicas, None
    started = time.monotonic()
    out = stack.sh(translate(line, stack), logfile="readme-commands.log")
    log(f"ok ({time.monotonic() - started:5.1f} s): {line[:90]}")
    if "| jq" in line or "| grep" in line:
        assert out.strip(), f"no output from: {line}"
    scaled = re.search(r"--scale api=(\d+)", line)
    if scaled:
        replicas = int(scaled.group(1))
    if re.search(r"\bup\b.* -d\b", line):
        wait_ready(stack, replicas)
        if scaled:
            log(f"{replicas} replicas answer: {assert_balanced(stack, replicas)}")
    token = out.strip().splitlines()[-1] if "service.keys create" in line else None
    return replicas, token


# ------------------------------------------------------------------ the run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def teardown(stack: Stack) -> None:
    try:
        stack.compose("down", "-v", "--remove-orphans", logfile="teardown.log", placeholder=True)
    except AssertionError as exc:
        log(f"teardown: {exc}")


def exercise(stack: Stack, timings: dict[str, float]) -> dict[str, Any]:
    blocks = readme_blocks()
    assert len(blocks) == 3, "README compose section: start, operate and stop blocks"
    results: dict[str, Any] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    stack.compose("build", logfile="build.log", placeholder=True)
    lap("build")
    for line in blocks[0]:
        run_readme_line(stack, line, REPLICAS)
    results["balanced"] = assert_balanced(stack, REPLICAS)
    results["workers_per_replica"] = worker_processes(stack)
    lap("start")
    token = None
    for line in blocks[1]:
        replicas, new_token = run_readme_line(stack, line, REPLICAS)
        token = new_token or token
    assert replicas == REPLICAS, "the README's operate block ends with two replicas"
    assert token, "the README creates an API key"
    lap("operate")
    results["shared_rate_limit"] = shared_rate_limit(stack)
    log(f"shared rate limit: {json.dumps(results['shared_rate_limit'])}")
    results["shared_writes"] = shared_writes(stack, token)
    log(f"shared writes: {json.dumps(results['shared_writes'])}")
    lap("shared_state")
    results["replica_failover"] = replica_failover(stack)
    log(f"replica failover: {json.dumps(results['replica_failover'])}")
    lap("replica_failover")
    results["postgres_restart"] = postgres_restart(stack, token)
    log(f"postgres restart: {json.dumps(results['postgres_restart'])}")
    lap("postgres_restart")
    results["server_errors"] = server_errors(stack)
    for line in blocks[2]:
        run_readme_line(stack, line, REPLICAS)
    lap("stop")
    return results


def worker_processes(stack: Stack) -> dict[str, int]:
    """uvicorn worker processes (multiprocessing children) in each replica."""
    counts = {
        name: sum("--multiprocessing-fork" in ln for ln in docker("top", name).splitlines())
        for name in stack.containers("api")
    }
    expected = int(stack.env()["WORKERS"])
    assert all(n == expected for n in counts.values()) or expected == 1, counts
    return counts


def server_errors(stack: Stack) -> dict[str, int]:
    """ERROR lines the replicas logged over the whole run, by message (the log: api.log)."""
    out = stack.compose("logs", "--no-color", "api")
    (stack.artifacts / "api.log").write_text(out)
    found = Counter(m.group(1) for m in re.finditer(r'"level":"ERROR".*?"message":"([^"]*)"', out))
    return dict(found)


def leftovers() -> list[str]:
    label = f"label=com.docker.compose.project={PROJECT}"
    found = docker("ps", "-a", "-q", "--filter", label).split()
    found += docker("volume", "ls", "-q", "--filter", label).split()
    found += docker("network", "ls", "-q", "--filter", label).split()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.compose_stack")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "tests/artifacts/compose")
    parser.add_argument("--port", type=int, default=0, help="host port for nginx (0: a free one)")
    args = parser.parse_args(argv)
    artifacts: Path = args.artifacts.resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.log"):
        if old.name not in {"apt.log", "dockerd.log"}:
            old.unlink()
    stack = Stack(args.port or free_port(), artifacts, artifacts / "compose.env")
    stack.env_file.unlink(missing_ok=True)
    timings: dict[str, float] = {}
    started = time.monotonic()
    try:
        results = exercise(stack, timings)
    except BaseException:
        logs = f"{shlex.join(stack.base())} logs --no-color > {artifacts}/stack.log || true"
        stack.sh(logs, placeholder=True)
        log(f"FAILED: container logs in {artifacts}/stack.log")
        raise
    finally:
        teardown(stack)
    left = leftovers()
    assert not left, f"left behind: {left}"
    results["timings_s"] = timings | {"total": round(time.monotonic() - started, 1)}
    (artifacts / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
