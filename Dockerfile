# The API image: `docker compose up` runs it as the one-shot `migrate` job and as the replicas.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app

# Dependencies and the package first, so a change to seed data or migrations rebuilds less.
COPY pyproject.toml ./
COPY service ./service
RUN pip install .

# The source tree stays in /app too: `python -m service.seed` reads ./seed next to ./service,
# and alembic reads ./alembic.ini; the working directory puts /app first on sys.path.
COPY alembic.ini ./
COPY alembic ./alembic
COPY seed ./seed

USER app
EXPOSE 8000
# Behind the nginx proxy: trust its X-Forwarded-* headers (only it can reach this port).
CMD ["uvicorn", "service.app:app_from_env", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--proxy-headers", "--forwarded-allow-ips", "*"]
