"""The one list of resources. Adding a resource: its module (declaring `RESOURCE`), its table
and migration, and one line here; everything else iterates this tuple."""

from __future__ import annotations

from service.resources import (
    articles,
    documents,
    initiatives,
    metrics,
    organisations,
    people,
    places,
    recognitions,
    regions,
)
from service.resources.resource import Resource

# In the order people read them (Swagger UI tags, /v1/meta).
RESOURCES: tuple[Resource, ...] = (
    articles.RESOURCE,
    initiatives.RESOURCE,
    metrics.RESOURCE,
    organisations.RESOURCE,
    people.RESOURCE,
    places.RESOURCE,
    recognitions.RESOURCE,
    regions.RESOURCE,
    documents.RESOURCE,
)
BY_NAME = {r.name: r for r in RESOURCES}
SEARCHABLE = tuple(r for r in RESOURCES if r.search is not None)
WRITABLE = tuple(r for r in RESOURCES if r.writable)
