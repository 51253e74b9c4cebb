"""Which paths are data, operational or documentation: the edge and the cache treat them apart."""

from __future__ import annotations

# Paths that are operational rather than data: never rate limited, cached or ETagged.
OPERATIONAL_PREFIXES = ("/health", "/metrics")
# Browser-rendered pages (Swagger UI, ReDoc) and their assets get a looser CSP.
DOCS_PREFIXES = ("/docs", "/static/")
DATA_PREFIX = "/v1"
# Data only curators may read (an API key): never stored in the shared response cache.
PRIVATE_PREFIXES = ("/v1/curation",)
# Paths whose only representation is JSON: an `Accept` that excludes it is a 406.
JSON_ONLY_PREFIXES = (DATA_PREFIX, "/health")
