"""Typed relations between an organisation and a record, as the text states them (it builds,
runs, endorses or funds an initiative; it is the subject or the source of a figure), each with
its quote and span. Read-only, curated in seed/pending/organisation-roles.yaml and
metric-organisations.yaml; served on the organisation's detail."""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import OrganisationRelation, table_of
from service.resources.common import Span, doc
from service.resources.resource import Rows, SeedSource

InitiativeRole = Literal[
    "lead",
    "builder",
    "operator",
    "partner",
    "funder",
    "endorser",
    "guide",
    "participant",
    "host",
    "publisher",
    "beneficiary",
    "source_of_figure",
    "source_of_information",
]
MetricRole = Literal["subject", "source"]
RELATION_ROLES: tuple[str, ...] = (*typing.get_args(InitiativeRole), *typing.get_args(MetricRole))

relations = table_of(OrganisationRelation)


class TypedRelation(msgspec.Struct):
    """What the organisation is to a record, with the text that says so."""

    resource: Annotated[str, doc("`initiatives`, `organisations` or `metrics`.")]
    id: Annotated[str, doc("The record's id (`/v1/{resource}/{id}`).")]
    role: Annotated[str, doc("Role; see `enumerations.organisation_relation_roles`.")]
    document: Annotated[str, doc("Source document id of the quote.")]
    quote: Annotated[str, doc("Verbatim text stating the relation.")]
    span: Span
    note: Annotated[str | None, doc("Curator note on the reading, where one is needed.")]


async def load_relations(
    conn: AsyncConnection, organisation_id: str, _item: Any
) -> list[TypedRelation]:
    """A detail part: the organisation's relations to live records."""
    from service.resources.links import live_records  # links imports the registry lazily

    stmt = sa.select(relations).where(relations.c.organisation_id == organisation_id)
    rows = list(await conn.execute(stmt.order_by(*relations.primary_key.columns)))
    live = await live_records(conn, ((r.resource, r.record_id) for r in rows))
    return [
        TypedRelation(
            r.resource,
            r.record_id,
            r.role,
            r.document_id,
            r.quote,
            Span(r.span_start, r.span_end),
            r.note,
        )
        for r in rows
        if (r.resource, r.record_id) in live
    ]


# ---------------------------------------------------------------- curated in seed/pending


class Target(msgspec.Struct, forbid_unknown_fields=True):
    resource: Literal["initiatives", "organisations"]
    id: str


class Quoted(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where the text states a relation: the document, the quote, its span and a curator note."""

    document: str
    quote: str
    span: tuple[int, int]
    note: str | None = None


class RoleRecord(Quoted):
    target: Target
    organisation: str
    role: InitiativeRole
    article: str


class MetricRoleRecord(Quoted):
    metric: str
    organisation: str
    role: MetricRole


def _row(organisation: str, resource: str, record_id: str, record: Any) -> Rows:
    row = {
        "organisation_id": organisation,
        "resource": resource,
        "record_id": record_id,
        "role": record.role,
        "document_id": record.document,
        "quote": record.quote,
        "span_start": record.span[0],
        "span_end": record.span[1],
        "note": record.note,
    }
    return {"organisation_relation": [row]}


SEEDS = (
    SeedSource(
        "pending/organisation-roles.yaml",
        "organisation_roles",
        RoleRecord,
        lambda r: _row(r.organisation, r.target.resource, r.target.id, r),
    ),
    SeedSource(
        "pending/metric-organisations.yaml",
        "metric_organisations",
        MetricRoleRecord,
        lambda r: _row(r.organisation, "metrics", r.metric, r),
    ),
)
