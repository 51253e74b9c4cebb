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

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            cors_allow_origins=_split(env.get("CORS_ALLOW_ORIGINS", "")),
            cursor_secret=env.get("CURSOR_SECRET", "dev-only-cursor-secret"),
            debug=env.get("DEBUG", "").lower() in {"1", "true", "yes"},
        )
