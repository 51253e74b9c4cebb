"""Seed loader: validate the curated YAML against the sources and sync it into the database.

    python -m service.seed load      validate, then insert/update/delete to match the files
    python -m service.seed check     validate only
    python -m service.seed report    numbers in the sources not covered by a metric or exclusion
    python -m service.seed locate SOURCE QUOTE   print the span(s) of a quote

Loading is idempotent: rows are compared with the files and only differences are written, so a
second run changes nothing, and a record removed from the files is removed from the database.
The dataset version (used for ETags and caches) only moves when the content changes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
import yaml
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation.index import search_entries
from service.curation.rules import (
    SLUG,
    quantity_problems,
    slugify,
    span_problem,
    squash,
    text_problems,
)
from service.db import create_engine
from service.models import (
    Article,
    ArticleContributor,
    ArticleInitiative,
    ArticleOrganisation,
    Contributor,
    Dataset,
    Document,
    Initiative,
    InitiativeOrganisation,
    Metric,
    Organisation,
    Region,
    SearchEntry,
    table_of,
)
from service.quantity import find_numbers
from service.resources.articles import CONTRIBUTOR_ROLES
from service.settings import Settings

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"


class SeedError(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            f"{len(problems)} problem(s) in the curated data:\n  " + "\n  ".join(problems)
        )
        self.problems = list(problems)


# Required text per curated record kind (the write API's: each resource's WriteSpec.required_text).
_REQUIRED_TEXT = {
    "region": ("name",),
    "article": ("headline",),
    "organisation": ("name",),
    "initiative": ("name",),
    "metric": ("subject", "raw", "quote"),
}


def curated_text_problems(**rows_by_kind: list[dict[str, Any]]) -> list[str]:
    """`text_problems` of every curated record, as loader problem lines."""
    return [
        f"{kind} {row.get('id')}: {name} {reason}"
        for kind, rows in rows_by_kind.items()
        for row in rows
        for name, reason in text_problems(row, _REQUIRED_TEXT.get(kind, ()))
    ]


# ---------------------------------------------------------------- reading


@dataclass
class Curated:
    sources: dict[str, str]  # document id -> text
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    exclusions: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    metric_raw: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SeedError([f"{path.name}: expected a mapping at the top level"])
    return data


def read_curated(seed_dir: Path = SEED_DIR) -> Curated:
    problems: list[str] = []
    curated_dir = seed_dir / "curated"
    regions_doc = _read_yaml(curated_dir / "regions.yaml")
    page_files = sorted(p for p in curated_dir.glob("*.yaml") if p.name != "regions.yaml")
    pages = [(p.name, _read_yaml(p)) for p in page_files]

    def need(record: dict[str, Any], key: str, where: str) -> Any:
        if key not in record:
            problems.append(f"{where}: missing field {key!r}")
            return None
        return record[key]

    def null_reasons(record: dict[str, Any], fields: Iterable[str], where: str) -> dict[str, str]:
        reasons = {}
        for name in fields:
            reason = record.get(f"{name}_null_reason")
            if record.get(name) is None and reason:
                reasons[name] = str(reason)
            elif record.get(name) is not None and reason:
                problems.append(f"{where}: {name}_null_reason given but {name} is set")
        return reasons

    # Regions
    regions: list[dict[str, Any]] = []
    for item in regions_doc.get("regions", []):
        where = f"regions.yaml:{item.get('id')}"
        regions.append(
            {
                "id": need(item, "id", where),
                "name": need(item, "name", where),
                "name_en": need(item, "name_en", where),
                "level": need(item, "level", where),
                "code": item.get("code"),
                "parent_id": item.get("parent"),
                "aliases": list(item.get("aliases") or []),
                "null_reasons": null_reasons(item, ["code"], where),
            }
        )
    region_ids = {r["id"] for r in regions}

    sources: dict[str, str] = {}
    documents: list[dict[str, Any]] = []
    articles: list[dict[str, Any]] = []
    organisations: list[dict[str, Any]] = []
    initiatives: list[dict[str, Any]] = []
    initiative_orgs: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    article_orgs: list[dict[str, Any]] = []
    article_inits: list[dict[str, Any]] = []
    bylines: list[tuple[str, str, str, str | None, int]] = []
    exclusions: dict[str, list[tuple[int, int]]] = {}
    article_spans: dict[str, tuple[str, int, int]] = {}
    metric_raw: dict[str, list[tuple[int, int, str]]] = {}

    def check_span(doc_id: str, quote: Any, span: Any, where: str) -> tuple[int, int] | None:
        text = sources.get(doc_id)
        if text is None:
            return None
        if not isinstance(quote, str) or not quote:
            problems.append(f"{where}: quote must be a non-empty string")
            return None
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(n, int) for n in span)
        ):
            problems.append(f"{where}: span must be [start, end]")
            return None
        problem = span_problem(text, quote, span)
        if problem is not None:
            problems.append(f"{where}: {problem}")
            return None
        return span[0], span[1]

    for file_name, page in pages:
        doc = page.get("document") or {}
        doc_id = need(doc, "id", file_name)
        source = need(doc, "source", file_name)
        source_path = seed_dir / "sources" / str(source)
        if not source_path.is_file():
            problems.append(f"{file_name}: source {source!r} not found in seed/sources")
            continue
        raw_bytes = source_path.read_bytes()
        text = raw_bytes.decode("utf-8")
        sources[doc_id] = text
        basis = []
        for i, b in enumerate(doc.get("date_basis") or []):
            where = f"{file_name}:document.date_basis[{i}]"
            if check_span(doc_id, b.get("quote"), b.get("span"), where):
                basis.append(
                    {"quote": b["quote"], "span": b["span"], "reasoning": b.get("reasoning", "")}
                )
        documents.append(
            {
                "id": doc_id,
                "source": source,
                "title": doc.get("title"),
                "publisher": doc.get("publisher"),
                "sha256": hashlib.sha256(raw_bytes).hexdigest(),
                "char_count": len(text),
                "text": text,
                "date_estimate": str(need(doc, "date_estimate", file_name)),
                "date_precision": need(doc, "date_precision", file_name),
                "date_basis": basis,
                "notes": list(doc.get("notes") or []),
                "null_reasons": null_reasons(doc, ["title", "publisher"], f"{file_name}:document"),
            }
        )

        exclusions[doc_id] = []
        for i, ex in enumerate(page.get("exclusions") or []):
            where = f"{file_name}:exclusions[{i}]"
            span = check_span(doc_id, ex.get("quote"), ex.get("span"), where)
            if not ex.get("reason"):
                problems.append(f"{where}: missing reason")
            if span:
                exclusions[doc_id].append(span)

        for position, art in enumerate(page.get("articles") or [], start=1):
            art_id = need(art, "id", file_name)
            where = f"{file_name}:article {art_id}"
            span = _article_span(sources[doc_id], art, where, problems)
            if span:
                article_spans[art_id] = (doc_id, *span)
            repairs = []
            for r in art.get("repairs") or []:
                rspan = r.get("span")
                if not (
                    isinstance(rspan, list)
                    and len(rspan) == 2
                    and span
                    and span[0] <= rspan[0] < rspan[1] <= span[1]
                ):
                    problems.append(f"{where}: repair span {rspan} not inside the article")
                repairs.append({"span": rspan, "note": r.get("note", "")})
            articles.append(
                {
                    "id": art_id,
                    "document_id": doc_id,
                    "position": position,
                    "kind": need(art, "kind", where),
                    "section": art.get("section"),
                    "kicker": art.get("kicker"),
                    "headline": need(art, "headline", where),
                    "subheadline": art.get("subheadline"),
                    "byline": art.get("byline"),
                    "region_id": art.get("region"),
                    "span_start": span[0] if span else 0,
                    "span_end": span[1] if span else 0,
                    "body": list(art.get("body") or []),
                    "repairs": repairs,
                    "continued_on": art.get("continued_on"),
                    "notes": list(art.get("notes") or []),
                    "null_reasons": null_reasons(
                        art,
                        ["section", "kicker", "subheadline", "byline", "region", "continued_on"],
                        where,
                    ),
                }
            )
            for order, person in enumerate(art.get("contributors") or []):
                role = person.get("role")
                if role not in CONTRIBUTOR_ROLES:
                    problems.append(
                        f"{where}: contributor role {role!r} not one of {CONTRIBUTOR_ROLES}"
                    )
                bylines.append(
                    (art_id, str(person.get("name")), str(role), person.get("staff_title"), order)
                )
            for key, bucket, fk in (
                ("organisations", article_orgs, "organisation_id"),
                ("initiatives", article_inits, "initiative_id"),
            ):
                for m in art.get(key) or []:
                    mwhere = f"{where}:{key}:{m.get('id')}"
                    mspan = check_span(doc_id, m.get("quote"), m.get("span"), mwhere)
                    if mspan and span and not (span[0] <= mspan[0] and mspan[1] <= span[1]):
                        problems.append(f"{mwhere}: mention outside the article span")
                    bucket.append(
                        {
                            "article_id": art_id,
                            fk: m.get("id"),
                            "quote": m.get("quote"),
                            "span_start": mspan[0] if mspan else 0,
                            "span_end": mspan[1] if mspan else 0,
                        }
                    )

        for org in page.get("organisations") or []:
            where = f"{file_name}:organisation {org.get('id')}"
            organisations.append(
                {
                    "id": need(org, "id", where),
                    "name": need(org, "name", where),
                    "name_en": org.get("name_en"),
                    "kind": need(org, "kind", where),
                    "region_id": org.get("region"),
                    "parent_id": org.get("parent"),
                    "aliases": list(org.get("aliases") or []),
                    "notes": list(org.get("notes") or []),
                    "null_reasons": null_reasons(org, ["name_en", "region", "parent"], where),
                }
            )
        for ini in page.get("initiatives") or []:
            where = f"{file_name}:initiative {ini.get('id')}"
            initiatives.append(
                {
                    "id": need(ini, "id", where),
                    "name": need(ini, "name", where),
                    "name_en": ini.get("name_en"),
                    "kind": need(ini, "kind", where),
                    "summary": ini.get("summary"),
                    "region_id": ini.get("region"),
                    "parent_id": ini.get("parent"),
                    "aliases": list(ini.get("aliases") or []),
                    "notes": list(ini.get("notes") or []),
                    "null_reasons": null_reasons(
                        ini, ["name_en", "summary", "region", "parent"], where
                    ),
                }
            )
            for link in ini.get("organisations") or []:
                initiative_orgs.append(
                    {
                        "initiative_id": ini.get("id"),
                        "organisation_id": link.get("id"),
                        "role": link.get("role"),
                    }
                )

        metric_raw[doc_id] = []
        for met in page.get("metrics") or []:
            met_id = met.get("id")
            where = f"{file_name}:metric {met_id}"
            span = check_span(doc_id, met.get("quote"), met.get("span"), where)
            art_id = need(met, "article", where)
            art_span = article_spans.get(art_id)
            if (
                span
                and art_span
                and not (
                    art_span[0] == doc_id and art_span[1] <= span[0] and span[1] <= art_span[2]
                )
            ):
                problems.append(f"{where}: quote span outside article {art_id}")
            raw = str(need(met, "raw", where))
            if span and squash(raw) not in squash(met["quote"]):
                problems.append(f"{where}: raw {raw!r} does not occur in the quote")
            value: Decimal | None = None
            try:
                value = Decimal(str(met.get("value")))
            except (ArithmeticError, ValueError):
                problems.append(f"{where}: value {met.get('value')!r} is not a decimal")
            if value is not None:
                for _name, reason in quantity_problems(
                    raw, value, met.get("unit"), met.get("qualifier")
                ):
                    problems.append(f"{where}: {reason}")
            if span:
                metric_raw[doc_id].append((span[0], span[1], squash(raw)))
            metrics.append(
                {
                    "id": met_id,
                    "article_id": art_id,
                    "document_id": doc_id,
                    "subject": need(met, "subject", where),
                    "subject_en": met.get("subject_en"),
                    "kind": need(met, "kind", where),
                    "raw": raw,
                    "value": value if value is not None else Decimal(0),
                    "unit": met.get("unit"),
                    "qualifier": met.get("qualifier"),
                    "cumulative": bool(met.get("cumulative", False)),
                    "period": met.get("period"),
                    "region_id": met.get("region"),
                    "initiative_id": met.get("initiative"),
                    "organisation_id": met.get("organisation"),
                    "growth_of_id": met.get("growth_of"),
                    "quote": met.get("quote"),
                    "span_start": span[0] if span else 0,
                    "span_end": span[1] if span else 0,
                    "notes": list(met.get("notes") or []),
                    "null_reasons": null_reasons(
                        met, ["subject_en", "unit", "period", "region"], where
                    ),
                }
            )

    # Contributors: one per distinct name, slug ids with a numeric suffix on collision.
    contributors: list[dict[str, Any]] = []
    contributor_id: dict[str, str] = {}
    taken: Counter[str] = Counter()
    for name in sorted({b[1] for b in bylines}):
        base = slugify(name) or "contributor"
        taken[base] += 1
        contributor_id[name] = base if taken[base] == 1 else f"{base}-{taken[base]}"
        contributors.append({"id": contributor_id[name], "name": name})
    article_contributors = [
        {
            "article_id": art_id,
            "contributor_id": contributor_id[name],
            "role": role,
            "staff_title": title,
            "position": order,
        }
        for art_id, name, role, title, order in bylines
    ]

    problems += curated_text_problems(
        region=regions,
        document=[{k: v for k, v in d.items() if k != "text"} for d in documents],
        article=articles,
        organisation=organisations,
        initiative=initiatives,
        metric=metrics,
    )
    # Referential and uniqueness checks across files.
    ids = {
        "region": region_ids,
        "document": {d["id"] for d in documents},
        "article": {a["id"] for a in articles},
        "organisation": {o["id"] for o in organisations},
        "initiative": {i["id"] for i in initiatives},
        "metric": {m["id"] for m in metrics},
    }
    for kind, rows in (
        ("region", regions),
        ("document", documents),
        ("article", articles),
        ("organisation", organisations),
        ("initiative", initiatives),
        ("metric", metrics),
    ):
        for value, n in Counter(r["id"] for r in rows).items():
            if n > 1:
                problems.append(f"duplicate {kind} id {value!r}")
        for r in rows:
            if not isinstance(r["id"], str) or not SLUG.match(r["id"]):
                problems.append(f"{kind} id {r['id']!r} is not a slug")
    for kind, rows in (("organisation", organisations), ("initiative", initiatives)):
        for value, n in Counter(r["name"] for r in rows).items():
            if n > 1:
                problems.append(f"duplicate {kind} name {value!r}")

    def ref(kind: str, value: Any, where: str) -> None:
        if value is not None and value not in ids[kind]:
            problems.append(f"{where}: unknown {kind} {value!r}")

    for r in regions:
        ref("region", r["parent_id"], f"region {r['id']}")
    for a in articles:
        ref("region", a["region_id"], f"article {a['id']}")
    for o in organisations:
        ref("region", o["region_id"], f"organisation {o['id']}")
        ref("organisation", o["parent_id"], f"organisation {o['id']}")
    for ini in initiatives:
        ref("region", ini["region_id"], f"initiative {ini['id']}")
        ref("initiative", ini["parent_id"], f"initiative {ini['id']}")
    for link in initiative_orgs:
        ref("organisation", link["organisation_id"], f"initiative {link['initiative_id']}")
    for m in metrics:
        where = f"metric {m['id']}"
        ref("article", m["article_id"], where)
        ref("region", m["region_id"], where)
        ref("initiative", m["initiative_id"], where)
        ref("organisation", m["organisation_id"], where)
        ref("metric", m["growth_of_id"], where)
    for link in article_orgs:
        ref("organisation", link["organisation_id"], f"article {link['article_id']}")
    for link in article_inits:
        ref("initiative", link["initiative_id"], f"article {link['article_id']}")

    if problems:
        raise SeedError(problems)
    tables = {
        "region": _parents_first(regions),
        "document": documents,
        "contributor": contributors,
        "article": articles,
        "article_contributor": _dedupe(
            article_contributors, ("article_id", "contributor_id", "role")
        ),
        "organisation": _parents_first(organisations),
        "initiative": _parents_first(initiatives),
        "initiative_organisation": _dedupe(
            initiative_orgs, ("initiative_id", "organisation_id", "role")
        ),
        "article_organisation": _dedupe(article_orgs, ("article_id", "organisation_id")),
        "article_initiative": _dedupe(article_inits, ("article_id", "initiative_id")),
        "metric": _parents_first(metrics, parent_key="growth_of_id"),
    }
    tables["search_entry"] = search_entries(tables)
    return Curated(sources, tables, exclusions, metric_raw)


def _article_span(
    text: str, art: dict[str, Any], where: str, problems: list[str]
) -> tuple[int, int] | None:
    """An article's span must lie in the document and contain its headline as printed."""
    span = art.get("span")
    if not (isinstance(span, list) and len(span) == 2 and all(isinstance(n, int) for n in span)):
        problems.append(f"{where}: span must be [start, end]")
        return None
    start, end = span
    if not 0 <= start < end <= len(text):
        problems.append(f"{where}: span {span} outside the document (length {len(text)})")
        return None
    if squash(str(art.get("headline", ""))) not in squash(text[start:end]):
        problems.append(f"{where}: headline not found inside the article span")
    return start, end


def _dedupe(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


def _parents_first(
    rows: list[dict[str, Any]], parent_key: str = "parent_id"
) -> list[dict[str, Any]]:
    """Order rows so a row's parent (same table) is inserted before it."""
    by_id = {r["id"]: r for r in rows}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(row: dict[str, Any], trail: set[str]) -> None:
        if row["id"] in placed:
            return
        parent = row.get(parent_key)
        if parent in by_id and parent not in trail:
            place(by_id[parent], trail | {row["id"]})
        placed.add(row["id"])
        ordered.append(row)

    for row in rows:
        place(row, set())
    return ordered


# ---------------------------------------------------------------- syncing

TABLES: list[sa.Table] = [
    table_of(Region),
    table_of(Document),
    table_of(Contributor),
    table_of(Article),
    table_of(ArticleContributor),
    table_of(Organisation),
    table_of(Initiative),
    table_of(InitiativeOrganisation),
    table_of(ArticleOrganisation),
    table_of(ArticleInitiative),
    table_of(Metric),
    table_of(SearchEntry),
]


# Tables the write API edits: resource name of each. A row with `curator_edited` set is left
# alone by `sync` (not updated, not deleted, its search entry kept) unless `force=True`.
CURATED_TABLES = {
    "article": "articles",
    "organisation": "organisations",
    "initiative": "initiatives",
    "metric": "metrics",
}


@dataclass
class SyncReport:
    inserted: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    version: int = 0
    changed: bool = False
    # One line per curator-edited record whose file version differs from the database.
    conflicts: list[str] = field(default_factory=list)
    # Curator-edited records left alone (conflicting or not), per table.
    kept: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = [
            f"{table}: +{self.inserted[table]} ~{self.updated[table]} -{self.deleted[table]}"
            for table in sorted(set(self.inserted) | set(self.updated) | set(self.deleted))
        ]
        state = "changed" if self.changed else "unchanged"
        text = f"dataset version {self.version} ({state})" + (
            "; " + ", ".join(parts) if parts else ""
        )
        if self.kept:
            kept = ", ".join(f"{t}: {n}" for t, n in sorted(self.kept.items()))
            text += f"\ncurator-edited records kept: {kept}"
        if self.conflicts:
            text += (
                f"\n{len(self.conflicts)} conflict(s): the files differ from curator edits "
                "(kept the database's version; `load --force` takes the files'):\n  "
                + "\n  ".join(self.conflicts)
            )
        return text


def _key(table: sa.Table, row: Any) -> tuple[Any, ...]:
    return tuple(row[col.name] for col in table.primary_key.columns)


def content_hash(tables: dict[str, list[dict[str, Any]]]) -> str:
    canonical = msgspec.json.encode(
        {
            name: sorted(rows, key=lambda r: msgspec.json.encode(r, order="sorted"))
            for name, rows in tables.items()
        },
        enc_hook=str,
        order="sorted",
    )
    return hashlib.sha256(canonical).hexdigest()


async def sync(conn: AsyncConnection, curated: Curated, *, force: bool = False) -> SyncReport:
    """Make the database match `curated`, writing only the differences, in one transaction.

    Records edited through the write API (`curator_edited`) are left alone — neither updated
    nor deleted, and their search entries kept — and each one the files disagree with is
    reported in `SyncReport.conflicts`. `force=True` takes the files' version of everything:
    curator edits are overwritten, restored if soft-deleted, and records only the API created
    are deleted.
    """
    report = SyncReport()
    pending_deletes: list[tuple[sa.Table, list[tuple[Any, ...]]]] = []
    protected_entries: set[tuple[str, str]] = set()
    for table in TABLES:
        desired = curated.tables[table.name]
        existing = {
            _key(table, row): dict(row) for row in (await conn.execute(sa.select(table))).mappings()
        }
        curated_table = table.name in CURATED_TABLES
        protected: set[tuple[Any, ...]] = set()
        if curated_table and not force:
            protected = {key for key, row in existing.items() if row["curator_edited"]}
            protected_entries.update((CURATED_TABLES[table.name], key[0]) for key in protected)
            report.kept[table.name] += len(protected)
        wanted_keys = set()
        for row in desired:
            key = _key(table, row)
            wanted_keys.add(key)
            if table.name == "search_entry" and (row["resource"], row["record_id"]) in (
                protected_entries
            ):
                continue
            current = existing.get(key)
            differs = current is not None and [k for k, v in row.items() if current.get(k) != v]
            if key in protected:
                assert current is not None
                if differs or current["deleted_at"] is not None:
                    fields = ", ".join(_wire_names(differs or [])) or "none"
                    deleted = " (soft-deleted by a curator)" if current["deleted_at"] else ""
                    report.conflicts.append(
                        f"{table.name} {key[0]}{deleted}: the files differ in {fields}"
                    )
                continue
            if current is None:
                await conn.execute(sa.insert(table).values(**row))
                report.inserted[table.name] += 1
            elif differs or (
                curated_table and (current["curator_edited"] or current["deleted_at"])
            ):
                values = dict(row)
                if curated_table:
                    # A new revision (so the record's ETag changes), and --force clears edits.
                    values.update(
                        revision=table.c.revision + 1, curator_edited=False, deleted_at=None
                    )
                pk = table.primary_key.columns
                await conn.execute(
                    sa.update(table)
                    .where(*(col == key[i] for i, col in enumerate(pk)))
                    .values(**values)
                )
                report.updated[table.name] += 1
        stale = [
            key
            for key, row in existing.items()
            if key not in wanted_keys
            and key not in protected
            and not (
                table.name == "search_entry"
                and (row["resource"], row["record_id"]) in protected_entries
            )
        ]
        if stale:
            pending_deletes.append((table, stale))
    # Children before parents, and within a self-referencing table, deepest first.
    for table, stale in reversed(pending_deletes):
        key_columns = list(table.primary_key.columns)
        for key in reversed(
            _delete_order(table, stale, existing_parent=await _parents(conn, table))
        ):
            await conn.execute(
                sa.delete(table).where(*(col == key[i] for i, col in enumerate(key_columns)))
            )
            report.deleted[table.name] += 1

    digest = content_hash(curated.tables)
    dataset = table_of(Dataset)
    loaded = (await conn.execute(sa.select(dataset).where(dataset.c.id == 1))).mappings().first()
    now = datetime.now(UTC)
    if loaded is None:
        await conn.execute(
            sa.insert(dataset).values(id=1, version=1, content_sha256=digest, loaded_at=now)
        )
        report.version, report.changed = 1, True
    elif loaded["content_sha256"] != digest or (force and (report.updated or report.deleted)):
        report.version, report.changed = loaded["version"] + 1, True
        await conn.execute(
            sa.update(dataset)
            .where(dataset.c.id == 1)
            .values(version=report.version, content_sha256=digest, loaded_at=now)
        )
    else:
        report.version = loaded["version"]
    return report


async def _parents(conn: AsyncConnection, table: sa.Table) -> dict[Any, Any]:
    parent_col = next(
        (c for c in table.c if any(fk.column.table is table for fk in c.foreign_keys)), None
    )
    if parent_col is None:
        return {}
    rows = await conn.execute(sa.select(table.c.id, parent_col))
    return {(r[0],): (r[1],) for r in rows}


def _delete_order(
    table: sa.Table, stale: list[tuple[Any, ...]], existing_parent: dict[Any, Any]
) -> list[tuple[Any, ...]]:
    """Parents first (the caller reverses it), so children are deleted before their parent."""

    def depth(key: tuple[Any, ...]) -> int:
        d, seen = 0, set()
        while key in existing_parent and existing_parent[key] != (None,) and key not in seen:
            seen.add(key)
            key = existing_parent[key]
            d += 1
        return d

    return sorted(stale, key=depth)


def _wire_names(columns: Iterable[str]) -> list[str]:
    names = {"region_id": "region", "parent_id": "parent", "article_id": "article"}
    names.update(document_id="document", initiative_id="initiative")
    names.update(organisation_id="organisation", growth_of_id="growth_of")
    names.update(span_start="span", span_end="span")
    return list(dict.fromkeys(names.get(c, c) for c in columns))


async def load(database_url: str, seed_dir: Path = SEED_DIR, *, force: bool = False) -> SyncReport:
    curated = read_curated(seed_dir)
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.begin() as conn:
            return await sync(conn, curated, force=force)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- coverage and helpers


def uncovered_numbers(curated: Curated) -> list[tuple[str, int, int, str]]:
    """Numbers in the sources that are neither a metric's raw figure nor excluded."""
    missing = []
    for doc_id, text in curated.sources.items():
        excluded = curated.exclusions.get(doc_id, [])
        raws = curated.metric_raw.get(doc_id, [])
        for mention in find_numbers(text):
            if any(s <= mention.start and mention.end <= e for s, e in excluded):
                continue
            found = squash(mention.text)
            if any(
                s <= mention.start and mention.end <= e and (found in raw or raw in found)
                for s, e, raw in raws
            ):
                continue
            context = text[max(0, mention.start - 12) : mention.end + 12].replace("\n", " ")
            missing.append((doc_id, mention.start, mention.end, f"{mention.text!r} in …{context}…"))
    return missing


def locate(source: str, quote: str, seed_dir: Path = SEED_DIR) -> list[tuple[int, int]]:
    text = (seed_dir / "sources" / source).read_text(encoding="utf-8")
    spans, start = [], text.find(quote)
    while start >= 0:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    return spans


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.seed", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    load_cmd = sub.add_parser("load", help="validate and sync the curated data into the database")
    load_cmd.add_argument("--database-url", default=None)
    load_cmd.add_argument(
        "--force",
        action="store_true",
        help="take the files' version of records edited through the API (discards curator edits)",
    )
    sub.add_parser("check", help="validate the curated data only")
    sub.add_parser(
        "report", help="list numbers in the sources not covered by a metric or exclusion"
    )
    locate_cmd = sub.add_parser("locate", help="print the span(s) of a quote in a source file")
    locate_cmd.add_argument("source")
    locate_cmd.add_argument("quote")
    args = parser.parse_args(argv)
    try:
        if args.command == "load":
            url = args.database_url or Settings.from_env().database_url
            print(asyncio.run(load(url, force=args.force)).summary())
        elif args.command == "check":
            curated = read_curated()
            counts = ", ".join(f"{name}: {len(rows)}" for name, rows in curated.tables.items())
            print(f"ok — {counts}")
        elif args.command == "report":
            missing = uncovered_numbers(read_curated())
            for doc_id, start, end, description in missing:
                print(f"{doc_id} [{start}, {end}] {description}")
            print(f"{len(missing)} number(s) not covered by a metric or an exclusion")
            return 1 if missing else 0
        else:
            for start, end in locate(args.source, args.quote):
                print(f"[{start}, {end}]")
    except SeedError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
