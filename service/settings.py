"""Runtime settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/service.db"


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Origins allowed by CORS; empty means CORS is off.
    cors_allow_origins: tuple[str, ...] = field(default_factory=tuple)
    # Key that signs pagination cursors; replicas behind one load balancer must share it.
    cursor_secret: str = "dev-only-cursor-secret"
    debug: bool = False
    # HTTP layer (service/http.py). Requests per client IP per minute; 0 turns the limit off.
    rate_limit_per_minute: int = 1200
    # `Cache-Control: max-age` of successful GETs, seconds.
    cache_max_age: int = 60
    # Server-side response cache budget, MiB; 0 turns it off.
    response_cache_mb: int = 32
    # How often the dataset version is re-read, seconds (a data change shows up within this).
    version_check_seconds: float = 1.0
    # Requests with a larger body are a 413; a longer query string is a 414.
    max_body_bytes: int = 65536
    max_query_length: int = 4096
    # Upper bound for a database connection attempt and the readiness ping, seconds.
    db_timeout_seconds: float = 2.0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            cors_allow_origins=_split(env.get("CORS_ALLOW_ORIGINS", "")),
            cursor_secret=env.get("CURSOR_SECRET", "dev-only-cursor-secret"),
            debug=env.get("DEBUG", "").lower() in {"1", "true", "yes"},
            rate_limit_per_minute=int(env.get("RATE_LIMIT_PER_MINUTE", "1200")),
            cache_max_age=int(env.get("CACHE_MAX_AGE", "60")),
            response_cache_mb=int(env.get("RESPONSE_CACHE_MB", "32")),
            version_check_seconds=float(env.get("VERSION_CHECK_SECONDS", "1")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", "65536")),
            max_query_length=int(env.get("MAX_QUERY_LENGTH", "4096")),
            db_timeout_seconds=float(env.get("DB_TIMEOUT_SECONDS", "2")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
        )
