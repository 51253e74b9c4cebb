"""docker-compose.yml, the test override, the Dockerfiles, nginx.conf and the lock files hold
together, checked structurally (fast, no Docker engine needed).

The stack itself runs end to end in `make compose-test` (tests/compose_stack.py): built, started,
failed over and torn down on a real engine.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_services_and_start_up_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "proxy"}

    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "PostgreSQL data lives in a named volume"

    redis = services["redis"]
    assert redis["image"] == "redis:7-alpine"
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    assert "ports" not in redis, "Redis is reached on the private network only"
    options = " ".join(redis["command"])
    assert "--maxmemory-policy volatile-lru" in options, "every key the service writes expires"

    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["redis"]["condition"] == "service_healthy"
    command = " ".join(migrate["command"])
    assert "alembic upgrade head" in command
    assert "python -m service.seed load" in command
    assert command.index("alembic") < command.index("service.seed")

    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in api, "replicas cannot share a host port; the proxy publishes it"
    assert "/health/ready" in " ".join(api["healthcheck"]["test"])

    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    assert any(p.endswith(":8000") and "8000" in p for p in proxy["ports"])


def test_replicas_share_database_redis_and_cursor_secret(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api_env = services["api"]["environment"]
    # One mapping for the job and both replicas (a YAML anchor), so they cannot drift.
    assert api_env is services["migrate"]["environment"]
    assert api_env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in api_env["DATABASE_URL"]
    # Required, never a baked-in default: a cursor signed by one replica must verify on the other.
    assert re.fullmatch(r"\$\{CURSOR_SECRET:\?.+\}", api_env["CURSOR_SECRET"])
    # One Redis for every replica: one rate-limit budget, one cache, writes seen at once.
    assert api_env["REDIS_URL"] == "redis://redis:6379/0"
    db = services["postgres"]["environment"]
    assert f"/{db['POSTGRES_DB']}" in api_env["DATABASE_URL"]
    assert f"//{db['POSTGRES_USER']}:" in api_env["DATABASE_URL"]


def test_environment_names_are_settings(compose: dict[str, Any]) -> None:
    # Every variable passed to the API is one the service reads (WORKERS: the image's command).
    known = {field.name for field in dataclasses.fields(Settings)} | {"workers"}
    for name in compose["services"]["api"]["environment"]:
        assert name.lower() in known, name


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    # Users keep the official image; the test stack passes its local base as a build argument.
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.M)
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms, "the Dockerfile has a FROM"
    assert all(f == "${BASE_IMAGE}" for f in froms), froms
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user, "the image sets a USER"
    assert user[-1] not in {"root", "0"}, "the image runs as a non-root user"
    # Exactly the serving lock, hash-checked; the wheelhouse makes it offline when filled.
    flat = text.replace("\\\n", " ")  # continuation lines joined
    install = re.search(r"pip install [^\n]*", flat)
    assert install, "the image pip-installs"
    assert "--require-hashes" in install.group(0)
    assert "--find-links /tmp/wheelhouse" in install.group(0)
    assert "-r /tmp/serve.txt" in install.group(0)
    assert re.search(r"^COPY requirements/serve\.txt /tmp/serve\.txt$", text, re.M)
    assert "exec uvicorn service.app:app_from_env --factory" in text
    assert '--workers \\"$WORKERS\\"' in text
    for path in ("alembic.ini", "alembic", "seed", "service", "requirements/serve.txt"):
        assert re.search(rf"^COPY {re.escape(path)} ", text, re.M), path
        assert (ROOT / path).exists(), path


def test_dockerignore_keeps_what_the_image_copies() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests", "data"} <= ignored
    copied = {"service", "alembic", "seed", "alembic.ini", "requirements", "wheelhouse"}
    assert not ignored & copied
    assert (ROOT / "wheelhouse").is_dir(), "the build context always has a wheelhouse/"


def test_override_builds_every_image_locally(compose: dict[str, Any]) -> None:
    """docker-compose.test.yml: same services, every image local (no registry on CI)."""
    override = yaml.safe_load((ROOT / "docker-compose.test.yml").read_text())
    services = override["services"]
    assert set(services) == set(compose["services"])
    for name, service in services.items():
        assert not service["image"].startswith(("postgres:", "redis:", "nginx:", "python:")), name
        assert service["image"].startswith("lishui-test/"), name
        assert "BASE_IMAGE" in service["build"]["args"], name
        context = ROOT / service["build"]["context"]
        dockerfile = context / service["build"].get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), dockerfile
        assert "FROM ${BASE_IMAGE}" in dockerfile.read_text(), dockerfile
    # The API image is installed offline from the host's wheelhouse.
    assert services["api"]["build"]["args"]["PIP_NO_INDEX"] == "1"
    # The user-facing file keeps the official images.
    assert compose["services"]["postgres"]["image"] == "postgres:16"
    assert compose["services"]["redis"]["image"] == "redis:7-alpine"
    assert compose["services"]["proxy"]["image"].startswith("nginx:")


def test_nginx_proxies_to_the_replicas(compose: dict[str, Any]) -> None:
    mount = compose["services"]["proxy"]["volumes"][0]
    source, target, *_ = mount.split(":")
    assert target.startswith("/etc/nginx/")
    conf = (ROOT / source).read_text()
    assert re.search(r"server api:8000\b", conf)
    assert "proxy_pass http://api;" in conf
    assert "listen 8000;" in conf
    assert "proxy_set_header Host $host;" in conf
    # A dead replica: the request goes to the other one, and connecting gives up fast.
    assert re.search(r"proxy_next_upstream error timeout", conf)
    assert re.search(r"proxy_connect_timeout [1-3]s;", conf)
