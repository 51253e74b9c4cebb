"""docker-compose.yml, Dockerfile and nginx.conf hold together (no Docker engine here to run them).

The checks are structural: the services, their order of start-up, the replicas and what they
must share. `docker compose config` would check the rest where the Compose plugin exists.
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
    assert set(services) == {"postgres", "migrate", "api", "proxy"}

    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "PostgreSQL data lives in a named volume"

    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    command = " ".join(migrate["command"])
    assert "alembic upgrade head" in command
    assert "python -m service.seed load" in command
    assert command.index("alembic") < command.index("service.seed")

    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in api, "replicas cannot share a host port; the proxy publishes it"
    assert "/health/ready" in " ".join(api["healthcheck"]["test"])

    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    assert any(p.endswith(":8000") and "8000" in p for p in proxy["ports"])


def test_replicas_share_database_and_cursor_secret(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api_env = services["api"]["environment"]
    # One mapping for the job and both replicas (a YAML anchor), so they cannot drift.
    assert api_env is services["migrate"]["environment"]
    assert api_env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in api_env["DATABASE_URL"]
    # Required, never a baked-in default: a cursor signed by one replica must verify on the other.
    assert re.fullmatch(r"\$\{CURSOR_SECRET:\?.+\}", api_env["CURSOR_SECRET"])
    db = services["postgres"]["environment"]
    assert f"/{db['POSTGRES_DB']}" in api_env["DATABASE_URL"]
    assert f"//{db['POSTGRES_USER']}:" in api_env["DATABASE_URL"]


def test_environment_names_are_settings(compose: dict[str, Any]) -> None:
    # Every variable passed to the API is one the service reads.
    known = {field.name for field in dataclasses.fields(Settings)}
    for name in compose["services"]["api"]["environment"]:
        assert name.lower() in known, name


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user, "the image sets a USER"
    assert user[-1] not in {"root", "0"}, "the image runs as a non-root user"
    assert "pip install ." in text
    assert '"uvicorn", "service.app:app_from_env", "--factory"' in text
    for path in ("alembic.ini", "alembic", "seed", "service", "pyproject.toml"):
        assert re.search(rf"^COPY {re.escape(path)} ", text, re.M), path
        assert (ROOT / path).exists(), path


def test_dockerignore_keeps_what_the_image_copies() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests", "data"} <= ignored
    assert not ignored & {"service", "alembic", "seed", "alembic.ini", "pyproject.toml"}


def test_nginx_proxies_to_the_replicas(compose: dict[str, Any]) -> None:
    mount = compose["services"]["proxy"]["volumes"][0]
    source, target, *_ = mount.split(":")
    assert target.startswith("/etc/nginx/")
    conf = (ROOT / source).read_text()
    assert re.search(r"server api:8000\b", conf)
    assert "proxy_pass http://api;" in conf
    assert "listen 8000;" in conf
    assert "proxy_set_header Host $host;" in conf
