"""The roles organisations play in initiatives (`initiative_organisation`), read from either
side: an initiative lists its organisations, an organisation its initiatives."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import Initiative, InitiativeOrganisation, Organisation, table_of

ROLES = ("lead", "partner", "operator", "funder", "endorser", "participant")
roles = table_of(InitiativeOrganisation)


class RoleLink(msgspec.Struct):
    """A link between an initiative and an organisation, with the organisation's role."""

    id: str
    name: str
    role: str


async def _linked(
    conn: AsyncConnection, side: str, ids: list[str], other: sa.Table
) -> dict[str, list[RoleLink]]:
    """For each of `ids` (records on `side`), the live `other` records linked to it, by id."""
    near, far = roles.c[f"{side}_id"], roles.c[f"{other.name}_id"]
    rows = await conn.execute(
        sa.select(near.label("owner"), other.c.id, other.c.name, roles.c.role)
        .join(other, other.c.id == far)
        .where(near.in_(ids), other.c.deleted_at.is_(None))
        .order_by(near, other.c.id, roles.c.role)
    )
    grouped: dict[str, list[RoleLink]] = defaultdict(list)
    for r in rows:
        grouped[r.owner].append(RoleLink(r.id, r.name, r.role))
    return grouped


async def organisations_of(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The initiatives' `load_extras`: each one's organisations."""
    grouped = await _linked(conn, "initiative", ids, table_of(Organisation))
    return {key: {"organisations": value} for key, value in grouped.items()}


async def initiatives_of(conn: AsyncConnection, organisation_id: str) -> list[RoleLink]:
    """The initiatives an organisation takes part in (its detail)."""
    grouped = await _linked(conn, "organisation", [organisation_id], table_of(Initiative))
    return grouped.get(organisation_id, [])
