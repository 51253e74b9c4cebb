"""The one builder of the URLs the service sends for its own paths."""

from __future__ import annotations

from service.settings import Settings


def public_url(settings: Settings, path: str) -> str:
    """The URL the service sends for one of its own paths (`/v1/…?…`): absolute from
    `PUBLIC_BASE_URL` when set, else a relative reference. Never built from `Host` or
    `X-Forwarded-*`: cached responses are shared by every client."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"not a path on this service: {path!r}")
    base = settings.public_base_url
    return f"{base}{path}" if base else path
