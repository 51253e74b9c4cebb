# The API image: `docker compose up` runs it as the one-shot `migrate` job and as the replicas.
# BASE_IMAGE: any Debian-like image with Python 3.11 and its venv module. The test stack
# (docker-compose.test.yml) passes a local debootstrap image, as no registry is reachable there.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS deps
# Installs exactly requirements/serve.txt (pins and hashes). wheelhouse/ is empty in a clone, so
# pip downloads from PyPI; `make wheelhouse` fills it on the host and PIP_NO_INDEX=1 keeps the
# build offline (the compose test does both).
ARG PIP_NO_INDEX=
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
COPY requirements/serve.txt /tmp/serve.txt
COPY wheelhouse/ /tmp/wheelhouse/
RUN /opt/venv/bin/pip install --quiet --require-hashes --find-links /tmp/wheelhouse \
    -r /tmp/serve.txt

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    WORKERS=1

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app
COPY --from=deps /opt/venv /opt/venv

# The service runs from its source tree (PYTHONPATH): `python -m service.seed` reads ./seed
# next to ./service, and alembic reads ./alembic.ini. Seed data last, as it changes most.
COPY alembic.ini ./
COPY alembic ./alembic
COPY service ./service
# Bytecode now: the app user cannot write /app, so every start would compile it again.
RUN python -m compileall -q alembic service
COPY seed ./seed

USER app
EXPOSE 8000
# Behind the nginx proxy: trust its X-Forwarded-* headers (only it can reach this port).
# WORKERS processes per container (uvicorn's process manager restarts a dead one).
CMD ["sh", "-c", "exec uvicorn service.app:app_from_env --factory --host 0.0.0.0 --port 8000 \
--workers \"$WORKERS\" --timeout-keep-alive 5 --proxy-headers --forwarded-allow-ips '*'"]
