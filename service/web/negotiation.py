"""`Accept` negotiation (RFC 9110 §12.5.1): q-values, specificity, the server's order."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from service.web.errors import PROBLEM_MEDIA_TYPE

QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
# Every representation the service has: JSON, problem+json, and the list exports
# (service/listing/export.py), in the server's order of preference.
SERVED_MEDIA_TYPES = ("application/json", PROBLEM_MEDIA_TYPE, "text/csv", "application/x-ndjson")


def parse_accept(accept: str) -> list[tuple[str, float]]:
    """`Accept` media ranges with their q-values (RFC 9110 §12.5.1), lowercased; a range with
    an invalid q-value is ignored."""
    ranges: list[tuple[str, float]] = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if "/" not in media:
            continue
        quality: float | None = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if QVALUE.fullmatch(value) else None
        if quality is not None:
            ranges.append((media.lower(), quality))
    return ranges


def quality_of(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The q-value of `media_type`: from the most specific matching range (`type/subtype` over
    `type/*` over `*/*`); 0 when none matches."""
    kind = media_type.split("/")[0] + "/*"
    best: tuple[int, float] = (-1, 0.0)
    for media, quality in ranges:
        rank = 2 if media == media_type else 1 if media == kind else 0 if media == "*/*" else -1
        if rank > best[0]:
            best = (rank, quality)
    return best[1]


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers: highest q-value, then the server's order. No header: the
    first offer; nothing acceptable: None."""
    if accept is None or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    scored = [(quality_of(ranges, offer), -i, offer) for i, offer in enumerate(offers)]
    quality, _, offer = max(scored)
    return offer if quality > 0 else None


@functools.lru_cache(maxsize=256)  # clients send few distinct `Accept` values; parsed once
def accepts_json(accept: str) -> bool:
    """Whether an `Accept` header admits a representation we serve: JSON, problem+json, or a
    CSV/NDJSON export (q-values honoured: `application/json;q=0` excludes JSON)."""
    return negotiate(accept, SERVED_MEDIA_TYPES) is not None
