"""Read the curated YAML (seed/curated/*.yaml) into table rows, validated against the sources.

The writable resources are read through the registry: each record is decoded into the
resource's In Struct by the write API's decoder (its `<field>_null_reason` keys first made the
`null_reasons` mapping, its `[start, end]` spans the body's `{start, end}`), then checked by
the same rules as a write (service/curation/rules.py and the resource's `WriteSpec.rules`),
with the whole curated set as the `Context`. Regions, documents, contributors and the
relation lists (mentions, contributor credits, initiatives' organisation roles) have readers
of their own.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml
from sqlmodel import SQLModel

from service.curation.bodies import wire_dict
from service.curation.fields import FieldMap, wire_value
from service.curation.figures import problem_line
from service.curation.index import search_entries
from service.curation.rules import (
    SLUG,
    Facts,
    Wire,
    common_problems,
    slugify,
    span_problem,
    squash,
    text_problems,
)
from service.models import dataset_tables
from service.resources.articles import CONTRIBUTOR_ROLES
from service.resources.resource import Resource, SeedSource, WriteSpec
from service.resources.roles import ROLES

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
Row = dict[str, Any]


class SeedError(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            f"{len(problems)} problem(s) in the curated data:\n  " + "\n  ".join(problems)
        )
        self.problems = list(problems)


@dataclass
class Curated:
    sources: dict[str, str]  # document id -> text
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    exclusions: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    metric_raw: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    seed_dir: Path = SEED_DIR  # where the report finds seed/pending/quoted-names.yaml


# Keys of a YAML record that are relation lists, read apart from the record's own body.
RELATIONS = {
    "articles": ("contributors", "organisations", "initiatives"),
    "initiatives": ("organisations",),
}


@dataclass
class Reading:
    """One read of the curated files: what was found so far and what is wrong with it."""

    seed_dir: Path
    problems: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[Row]] = field(
        default_factory=lambda: {t.name: [] for t in dataset_tables()}
    )
    exclusions: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    # Decoded writable records, checked by the rules once every file is read.
    records: list[tuple[Resource, str, Wire, Row]] = field(default_factory=list)
    bylines: list[tuple[str, str, str, str | None, int]] = field(default_factory=list)
    # (table referred to, id, where) of each reference a relation list makes.
    links: list[tuple[str, Any, str]] = field(default_factory=list)
    # (where, table, row) of each row a read-only resource's `SeedSource` made.
    seeded: list[tuple[str, str, Row]] = field(default_factory=list)

    def need(self, record: dict[str, Any], key: str, where: str) -> Any:
        if key not in record:
            self.problems.append(f"{where}: missing field {key!r}")
            return None
        return record[key]

    def null_reasons(
        self, record: dict[str, Any], fields: Iterable[str], where: str
    ) -> dict[str, str]:
        reasons = {}
        for name in fields:
            reason = record.get(f"{name}_null_reason")
            if record.get(name) is None and reason:
                reasons[name] = str(reason)
            elif record.get(name) is not None and reason:
                self.problems.append(f"{where}: {name}_null_reason given but {name} is set")
        return reasons

    def check_span(self, doc_id: str, quote: Any, span: Any, where: str) -> tuple[int, int] | None:
        text = self.sources.get(doc_id)
        if text is None:
            return None
        problem = span_problem(text, quote, span)
        if problem is not None:
            self.problems.append(f"{where}: {problem}")
            return None
        return span[0], span[1]


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SeedError([f"{path.name}: expected a mapping at the top level"])
    return data


def read_curated(seed_dir: Path = SEED_DIR) -> Curated:
    # The registry's modules import curation, which imports this package.
    from service.resources.registry import RESOURCES, WRITABLE

    reading = Reading(seed_dir)
    curated_dir = seed_dir / "curated"
    _read_regions(reading, _read_yaml(curated_dir / "regions.yaml"))
    for path in sorted(p for p in curated_dir.glob("*.yaml") if p.name != "regions.yaml"):
        page = _read_yaml(path)
        doc_id = _read_document(reading, path.name, page)
        if doc_id is None:
            continue
        _read_exclusions(reading, path.name, doc_id, page)
        for resource in WRITABLE:
            _read_records(reading, resource, path.name, doc_id, page)
    for resource in RESOURCES:
        for source in resource.seed:
            _read_seed_source(reading, source)
    ctx = Facts.of_tables(reading.tables, reading.sources)
    _check(reading, ctx)
    _check_seeded(reading, ctx)
    if reading.problems:
        raise SeedError(reading.problems)
    tables = _tables(reading)
    return Curated(reading.sources, tables, reading.exclusions, _metric_raw(tables), seed_dir)


# ---------------------------------------------------------------- regions and documents


def _read_regions(reading: Reading, regions_doc: dict[str, Any]) -> None:
    need = reading.need
    for item in regions_doc.get("regions", []):
        where = f"regions.yaml:{item.get('id')}"
        reading.tables["region"].append(
            {
                "id": need(item, "id", where),
                "name": need(item, "name", where),
                "name_en": need(item, "name_en", where),
                "level": need(item, "level", where),
                "code": item.get("code"),
                "parent_id": item.get("parent"),
                "aliases": list(item.get("aliases") or []),
                "null_reasons": reading.null_reasons(item, ["code"], where),
            }
        )


def _read_document(reading: Reading, file_name: str, page: dict[str, Any]) -> str | None:
    """The page's document row (with its source text); None when the source is missing."""
    doc = page.get("document") or {}
    doc_id = reading.need(doc, "id", file_name)
    source = reading.need(doc, "source", file_name)
    source_path = reading.seed_dir / "sources" / str(source)
    if not source_path.is_file():
        reading.problems.append(f"{file_name}: source {source!r} not found in seed/sources")
        return None
    raw_bytes = source_path.read_bytes()
    text = raw_bytes.decode("utf-8")
    reading.sources[doc_id] = text
    basis = []
    for i, b in enumerate(doc.get("date_basis") or []):
        where = f"{file_name}:document.date_basis[{i}]"
        if reading.check_span(doc_id, b.get("quote"), b.get("span"), where):
            basis.append(
                {"quote": b["quote"], "span": b["span"], "reasoning": b.get("reasoning", "")}
            )
    reading.tables["document"].append(
        {
            "id": doc_id,
            "source": source,
            "title": doc.get("title"),
            "publisher": doc.get("publisher"),
            "sha256": hashlib.sha256(raw_bytes).hexdigest(),
            "char_count": len(text),
            "text": text,
            "date_estimate": str(reading.need(doc, "date_estimate", file_name)),
            "date_precision": reading.need(doc, "date_precision", file_name),
            "date_basis": basis,
            "notes": list(doc.get("notes") or []),
            "null_reasons": reading.null_reasons(
                doc, ["title", "publisher"], f"{file_name}:document"
            ),
        }
    )
    return str(doc_id)


def _read_exclusions(reading: Reading, file_name: str, doc_id: str, page: dict[str, Any]) -> None:
    reading.exclusions[doc_id] = []
    for i, ex in enumerate(page.get("exclusions") or []):
        where = f"{file_name}:exclusions[{i}]"
        span = reading.check_span(doc_id, ex.get("quote"), ex.get("span"), where)
        if not ex.get("reason"):
            reading.problems.append(f"{where}: missing reason")
        if span:
            reading.exclusions[doc_id].append(span)


# ---------------------------------------------------------------- read-only resources


def _read_seed_source(reading: Reading, source: SeedSource) -> None:
    path = reading.seed_dir / source.path
    for i, item in enumerate(_read_yaml(path).get(source.key) or []):
        record_id = item.get("id", f"[{i}]") if isinstance(item, dict) else f"[{i}]"
        where = f"{source.path}:{source.key} {record_id}"
        try:
            record = msgspec.convert(item, source.record_type)
        except msgspec.ValidationError as exc:
            reading.problems.append(f"{where}: {exc}")
            continue
        for table, rows in source.rows(record).items():
            reading.tables[table].extend(rows)
            reading.seeded.extend((where, table, row) for row in rows)


def _check_seeded(reading: Reading, ctx: Facts) -> None:
    """The rules every read-only resource's rows keep: quotes at their spans, references that
    name records, unique slug ids."""
    from service.resources.registry import BY_NAME

    article_document = {a["id"]: a["document_id"] for a in reading.tables["article"]}
    for where, table, row in reading.seeded:
        document = row.get("document_id") or article_document.get(row.get("article_id"))
        if "quote" in row and document is not None:
            span = [row["span_start"], row["span_end"]]
            reading.check_span(document, row["quote"], span, where)
        for column in SQLModel.metadata.tables[table].columns:
            for key in column.foreign_keys:
                target, value = key.column.table.name, row.get(column.name)
                if value is not None and not ctx.exists(target, value):
                    reading.problems.append(f"{where}: {column.name}: unknown {target} {value!r}")
        if "resource" in row and "record_id" in row:
            resource = BY_NAME.get(row["resource"])
            if resource is None or not ctx.exists(resource.singular, row["record_id"]):
                reading.problems.append(
                    f"{where}: unknown {row['resource']} record {row['record_id']!r}"
                )
        for name, reason in text_problems(row, ("name",) if "name" in row else ()):
            reading.problems.append(f"{where}: {name}: {reason}")
        if "id" in row and not (isinstance(row["id"], str) and SLUG.match(row["id"])):
            reading.problems.append(f"{where}: id {row['id']!r} is not a slug")
    for table in {table for _, table, row in reading.seeded if "id" in row}:
        for value, n in Counter(r["id"] for r in reading.tables[table]).items():
            if n > 1:
                reading.problems.append(f"duplicate {table} id {value!r}")


# ---------------------------------------------------------------- writable resources


def as_body(record: dict[str, Any], write: WriteSpec, doc_id: str) -> dict[str, Any]:
    """A YAML record as the write API's create body: `<field>_null_reason` keys become
    `null_reasons`, `[start, end]` spans `{start, end}`, and the page's document is the
    record's `document` when its body has one."""
    body: dict[str, Any] = {}
    reasons: dict[str, Any] = {}
    for key, value in record.items():
        if key.endswith("_null_reason"):
            reasons[key.removesuffix("_null_reason")] = value
        else:
            body[key] = value
    if reasons:
        body["null_reasons"] = reasons
    if "document" in write.in_type.__struct_fields__:
        body.setdefault("document", doc_id)
    converted: dict[str, Any] = wire_value(body)
    return converted


def _decode(write: WriteSpec, body: dict[str, Any]) -> tuple[msgspec.Struct | None, str | None]:
    """The body as the In Struct, decoded exactly as a write's body is."""
    try:
        struct = msgspec.json.decode(msgspec.json.encode(body), type=write.in_type, strict=True)
    except (msgspec.ValidationError, TypeError) as exc:
        return None, str(exc)
    if getattr(struct, "id", None) is None:
        return None, "missing field 'id'"
    return struct, None


def _read_records(
    reading: Reading, resource: Resource, file_name: str, doc_id: str, page: dict[str, Any]
) -> None:
    write = resource.write
    assert write is not None
    fields = FieldMap(resource.spec.table, write.in_type)
    for position, item in enumerate(page.get(resource.name) or [], start=1):
        where = f"{file_name}:{resource.singular} {item.get('id')}"
        relations = RELATIONS.get(resource.name, ())
        record = {k: v for k, v in item.items() if k not in relations}
        struct, problem = _decode(write, as_body(record, write, doc_id))
        if struct is None:
            reading.problems.append(f"{where}: {problem}")
            continue
        wire = wire_dict(struct)
        row: Row = {"id": wire["id"], **fields.columns(wire)}
        if write.position_in is not None:
            row["position"] = position
        reading.tables[resource.singular].append(row)
        reading.records.append((resource, where, wire, row))
        if resource.name == "articles":
            _read_article_relations(reading, item, row, where)
        elif resource.name == "initiatives":
            _read_initiative_relations(reading, item, row, where)


def _read_initiative_relations(
    reading: Reading, item: dict[str, Any], row: Row, where: str
) -> None:
    """An initiative's organisations and their roles (from the `ROLES` vocabulary)."""
    for link in item.get("organisations") or []:
        role = link.get("role")
        if role not in ROLES:
            reading.problems.append(f"{where}: organisation role {role!r} not one of {ROLES}")
        reading.tables["initiative_organisation"].append(
            {"initiative_id": row["id"], "organisation_id": link.get("id"), "role": role}
        )
        reading.links.append(("organisation", link.get("id"), f"initiative {row['id']}"))


def _read_article_relations(reading: Reading, item: dict[str, Any], row: Row, where: str) -> None:
    """Contributor credits and the mentions of organisations and initiatives, inside the span."""
    art_id, doc_id = row["id"], row["document_id"]
    for order, person in enumerate(item.get("contributors") or []):
        role = person.get("role")
        if role not in CONTRIBUTOR_ROLES:
            reading.problems.append(
                f"{where}: contributor role {role!r} not one of {CONTRIBUTOR_ROLES}"
            )
        reading.bylines.append(
            (art_id, str(person.get("name")), str(role), person.get("staff_title"), order)
        )
    for key, table in (("organisations", "organisation"), ("initiatives", "initiative")):
        for m in item.get(key) or []:
            mwhere = f"{where}:{key}:{m.get('id')}"
            mspan = reading.check_span(doc_id, m.get("quote"), m.get("span"), mwhere)
            if mspan and not (row["span_start"] <= mspan[0] and mspan[1] <= row["span_end"]):
                reading.problems.append(f"{mwhere}: mention outside the article span")
            reading.tables[f"article_{table}"].append(
                {
                    "article_id": art_id,
                    f"{table}_id": m.get("id"),
                    "quote": m.get("quote"),
                    "span_start": mspan[0] if mspan else 0,
                    "span_end": mspan[1] if mspan else 0,
                }
            )
            reading.links.append((table, m.get("id"), f"article {art_id}"))


# ---------------------------------------------------------------- checks across files


def _check(reading: Reading, ctx: Facts) -> None:
    """The write API's rules on every writable record, with the curated set as the context;
    then the checks of the other tables and of ids across files."""
    for resource, where, wire, row in reading.records:
        write = resource.write
        assert write is not None
        problems = text_problems(wire, write.required_text)
        problems += common_problems(
            wire, ctx, kinds=write.kinds, nullable=write.nullable, references=write.references
        )
        problems += write.rules(wire, ctx, wire["id"])
        reading.problems += [problem_line(where, name, reason) for name, reason in problems]
        if write.derived is not None:
            row.update(write.derived(wire, ctx))
    for kind in ("region", "document"):
        for row in reading.tables[kind]:
            record = {k: v for k, v in row.items() if k != "text"}
            for name, reason in text_problems(record, ("name",) if kind == "region" else ()):
                reading.problems.append(f"{kind} {row.get('id')}: {name} {reason}")
    for row in reading.tables["region"]:
        if row["parent_id"] is not None and not ctx.exists("region", row["parent_id"]):
            reading.problems.append(f"region {row['id']}: unknown region {row['parent_id']!r}")
    for table, value, where in reading.links:
        if value is not None and not ctx.exists(table, value):
            reading.problems.append(f"{where}: unknown {table} {value!r}")
    for kind in ("region", "document", "article", "organisation", "initiative", "metric"):
        rows = reading.tables[kind]
        for value, n in Counter(r["id"] for r in rows).items():
            if n > 1:
                reading.problems.append(f"duplicate {kind} id {value!r}")
        for r in rows:
            if not isinstance(r["id"], str) or not SLUG.match(r["id"]):
                reading.problems.append(f"{kind} id {r['id']!r} is not a slug")


# ---------------------------------------------------------------- the tables


def _contributors(reading: Reading) -> tuple[list[Row], list[Row]]:
    """One contributor per distinct name, slug ids with a numeric suffix on collision."""
    contributors: list[Row] = []
    contributor_id: dict[str, str] = {}
    taken: Counter[str] = Counter()
    for name in sorted({b[1] for b in reading.bylines}):
        base = slugify(name) or "contributor"
        taken[base] += 1
        contributor_id[name] = base if taken[base] == 1 else f"{base}-{taken[base]}"
        contributors.append({"id": contributor_id[name], "name": name})
    credits = [
        {
            "article_id": art_id,
            "contributor_id": contributor_id[name],
            "role": role,
            "staff_title": title,
            "position": order,
        }
        for art_id, name, role, title, order in reading.bylines
    ]
    return contributors, credits


def _tables(reading: Reading) -> dict[str, list[Row]]:
    t = reading.tables
    contributors, credits = _contributors(reading)
    tables = {
        "region": _parents_first(t["region"]),
        "document": t["document"],
        "contributor": contributors,
        "article": t["article"],
        "article_contributor": _dedupe(credits, ("article_id", "contributor_id", "role")),
        "organisation": _parents_first(t["organisation"]),
        "initiative": _parents_first(t["initiative"]),
        "initiative_organisation": _dedupe(
            t["initiative_organisation"], ("initiative_id", "organisation_id", "role")
        ),
        "article_organisation": _dedupe(
            t["article_organisation"], ("article_id", "organisation_id")
        ),
        "article_initiative": _dedupe(t["article_initiative"], ("article_id", "initiative_id")),
        "metric": _parents_first(t["metric"], parent_key="growth_of_id"),
    }
    for table in dataset_tables():  # the read-only resources' tables, as read
        rows = t[table.name]
        tables.setdefault(table.name, _parents_first(rows) if "parent_id" in table.c else rows)
    tables["search_entry"] = search_entries(tables)
    return tables


def _metric_raw(tables: dict[str, list[Row]]) -> dict[str, list[tuple[int, int, str]]]:
    """Per document, the span and squashed raw figure of each metric (for the coverage report)."""
    raws: dict[str, list[tuple[int, int, str]]] = {d["id"]: [] for d in tables["document"]}
    for m in tables["metric"]:
        raws.setdefault(m["document_id"], []).append(
            (m["span_start"], m["span_end"], squash(m["raw"]))
        )
    return raws


def _dedupe(rows: list[Row], key: tuple[str, ...]) -> list[Row]:
    seen: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


def _parents_first(rows: list[Row], parent_key: str = "parent_id") -> list[Row]:
    """Order rows so a row's parent (same table) is inserted before it."""
    by_id = {r["id"]: r for r in rows}
    ordered: list[Row] = []
    placed: set[str] = set()

    def place(row: Row, trail: set[str]) -> None:
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
