"""Runtime settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/service.db"
# A configured cursor secret shorter than this is refused (it could be guessed).
MIN_SECRET_LENGTH = 16


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _base_url(value: str) -> str:
    """`scheme://host[:port][/prefix]` without a trailing slash; anything else is refused."""
    parts = urlsplit(value.strip())
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username is not None
        or not value.isascii()
        or any(c.isspace() or ord(c) < 0x20 for c in value.strip())
    ):
        raise ValueError(
            f"PUBLIC_BASE_URL must be an http(s) URL without query or fragment, got {value!r}"
        )
    return value.strip().rstrip("/")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Origins whose pages may send curator writes (CORS); reads are open to every origin.
    cors_allow_origins: tuple[str, ...] = field(default_factory=tuple)
    # Key that signs pagination cursors; replicas behind one load balancer must share it.
    # None: a random per-process key (with a warning at start-up), never a public default.
    cursor_secret: str | None = None
    # `https://api.example.org[/prefix]`: every absolute URL the service sends is built from it.
    # None: links are relative references; nothing is ever derived from Host/X-Forwarded-*.
    public_base_url: str | None = None
    # `/metrics` answers only `Authorization: Bearer <token>`; None: no `/metrics` at all.
    metrics_token: str | None = None
    debug: bool = False
    # HTTP layer (service/web/). Requests per client IP per minute; 0 turns the limit off.
    rate_limit_per_minute: int = 1200
    # `Cache-Control: max-age` of successful GETs, seconds.
    cache_max_age: int = 60
    # Server-side response cache budget, MiB; 0 turns it off. 16 keeps a process under its
    # 250 MB memory target: with 32, the 1M bench's peak RSS was 255-271 MB (217 with none).
    response_cache_mb: int = 16
    # How often the dataset version is re-read, seconds (a data change shows up within this).
    version_check_seconds: float = 1.0
    # Requests with a larger body are a 413; a longer query string is a 414.
    max_body_bytes: int = 65536
    max_query_length: int = 4096
    # Upper bound for a database connection attempt and the readiness ping, seconds.
    db_timeout_seconds: float = 2.0
    log_level: str = "INFO"
    # `redis://host:6379/0`: rate-limit counters, the response cache and write announcements are
    # shared by every replica and worker there. None: each process keeps its own.
    redis_url: str | None = None
    # Prefix of every Redis key and channel, so deployments can share one Redis.
    redis_namespace: str = "lishui"

    def __post_init__(self) -> None:
        if self.cursor_secret is not None and len(self.cursor_secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"CURSOR_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        if self.metrics_token is not None and len(self.metrics_token) < MIN_SECRET_LENGTH:
            raise ValueError(f"METRICS_TOKEN must be at least {MIN_SECRET_LENGTH} characters")
        if self.public_base_url is not None:
            object.__setattr__(self, "public_base_url", _base_url(self.public_base_url))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            cors_allow_origins=_split(env.get("CORS_ALLOW_ORIGINS", "")),
            cursor_secret=env.get("CURSOR_SECRET") or None,
            public_base_url=env.get("PUBLIC_BASE_URL") or None,
            metrics_token=env.get("METRICS_TOKEN") or None,
            debug=env.get("DEBUG", "").lower() in {"1", "true", "yes"},
            rate_limit_per_minute=int(env.get("RATE_LIMIT_PER_MINUTE", "1200")),
            cache_max_age=int(env.get("CACHE_MAX_AGE", "60")),
            response_cache_mb=int(env.get("RESPONSE_CACHE_MB", "16")),
            version_check_seconds=float(env.get("VERSION_CHECK_SECONDS", "1")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", "65536")),
            max_query_length=int(env.get("MAX_QUERY_LENGTH", "4096")),
            db_timeout_seconds=float(env.get("DB_TIMEOUT_SECONDS", "2")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            redis_url=env.get("REDIS_URL") or None,
            redis_namespace=env.get("REDIS_NAMESPACE") or "lishui",
        )
