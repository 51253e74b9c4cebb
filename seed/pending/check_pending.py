"""Verify seed/pending/*.yaml against the sources and the curated records.

    .venv/bin/python seed/pending/check_pending.py

Every quote must be the source text at its span (the loader's own check, imported read-only from
service.seed), every reference must name an existing record, every role and kind must be in its
vocabulary, and the coverage lists must be complete (every quotation span of both sources in
quoted-names.yaml, every curated organisation link typed in
organisation-roles.yaml), and the figure rules of seed/FORMAT.md hold (imported from the service,
service/curation/figures.py, which the loader and the write API enforce). Prints one line per
problem, naming file, record and rule; exit 1 if any.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from service.curation.figures import metric_problems  # noqa: E402
from service.curation.rules import Facts  # noqa: E402
from service.seed import SLUG, Curated, SeedError, read_curated, span_problem, squash  # noqa: E402
from service.seed.report import EXCLUSION_REASONS, quoted_spans  # noqa: E402

PENDING = Path(__file__).resolve().parent
ORG_ROLES = {
    "lead", "builder", "operator", "partner", "funder", "endorser", "guide", "participant",
    "host", "publisher", "beneficiary", "source_of_figure", "source_of_information",
}  # fmt: skip
METRIC_ORG_ROLES = {"subject", "source"}
PLACE_KINDS = {
    "township", "town", "village", "scenic_area", "heritage_site", "lake", "river", "area",
    "urban_area", "industrial_park", "venue",
}  # fmt: skip
RECOGNITION_KINDS = {
    "typical_case", "best_application", "excellent_case", "excellent_application",
    "annual_case", "listing", "shortlist", "recommendation", "publication", "grade",
    "heritage_status",
}  # fmt: skip
LEVELS = {"international", "national", "provincial", "municipal"}
QUOTE_MARKS = "“”‘’"


def display_form(name: str) -> str:
    out = "".join(ch for ch in name if ch not in QUOTE_MARKS)
    if out.startswith("《") and out.endswith("》") and out.count("《") == 1:
        out = out[1:-1]
    return out


class Checker:
    def __init__(self, curated: Curated) -> None:
        self.curated = curated
        self.problems: list[str] = []
        t = curated.tables
        self.ids: dict[str, set[str]] = {
            "regions": {r["id"] for r in t["region"]},
            "articles": {a["id"] for a in t["article"]},
            "organisations": {o["id"] for o in t["organisation"]},
            "initiatives": {i["id"] for i in t["initiative"]},
            "metrics": {m["id"] for m in t["metric"]},
            "documents": {d["id"] for d in t["document"]},
        }
        self.articles = {a["id"]: a for a in t["article"]}
        self.records = {("organisations", o["id"]): o for o in t["organisation"]} | {
            ("initiatives", i["id"]): i for i in t["initiative"]
        }
        self.metrics = {m["id"]: m for m in t["metric"]}

    def fail(self, where: str, rule: str, detail: str) -> None:
        self.problems.append(f"{where}: [{rule}] {detail}")

    def ref(self, where: str, resource: str, value: Any) -> None:
        if resource not in self.ids:
            self.fail(where, "reference", f"unknown resource {resource!r}")
        elif value not in self.ids[resource]:
            self.fail(where, "reference", f"unknown {resource} id {value!r}")

    def quote(self, where: str, item: dict[str, Any]) -> tuple[int, int] | None:
        """Check one {document, quote, span[, article]} against the source."""
        doc = item.get("document")
        text = self.curated.sources.get(str(doc))
        if text is None:
            self.fail(where, "reference", f"unknown document {doc!r}")
            return None
        problem = span_problem(text, item.get("quote"), item.get("span"))
        if problem is not None:
            self.fail(where, "quote-at-span", problem)
            return None
        start, end = item["span"]
        art = item.get("article")
        if art is not None:
            a = self.articles.get(art)
            if a is None:
                self.fail(where, "reference", f"unknown article {art!r}")
            elif not (a["document_id"] == doc and a["span_start"] <= start < end <= a["span_end"]):
                self.fail(where, "quote-in-article", f"span {[start, end]} outside article {art}")
        return start, end


def load(name: str, key: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((PENDING / name).read_text(encoding="utf-8")) or {}
    rows = data.get(key)
    return rows if isinstance(rows, list) else []


def unique_slugs(c: Checker, file: str, rows: list[dict[str, Any]]) -> set[str]:
    for value, n in Counter(r.get("id") for r in rows).items():
        if n > 1:
            c.fail(f"{file}:{value}", "unique-id", "duplicate id")
    for r in rows:
        if not isinstance(r.get("id"), str) or not SLUG.match(r["id"]):
            c.fail(f"{file}:{r.get('id')}", "slug", "id is not a slug")
    return {r["id"] for r in rows if isinstance(r.get("id"), str)}


def every_occurrence(c: Checker, where: str, name: str, mentions: list[dict[str, Any]],
                     skipped: set[tuple[str, int]]) -> None:  # fmt: skip
    """A person's or place's `mentions` must list every occurrence of its name (or skip it)."""
    listed = {(m.get("document"), m["span"][0] + m["quote"].find(name)) for m in mentions
              if isinstance(m.get("quote"), str) and name in m["quote"]}  # fmt: skip
    for doc, text in c.curated.sources.items():
        for hit in re.finditer(re.escape(name), text):
            if (doc, hit.start()) not in listed and (doc, hit.start()) not in skipped:
                c.fail(where, "every-mention", f"{name} at {doc} [{hit.start()}] is not a mention")


def check_people(c: Checker) -> set[str]:
    rows = load("people.yaml", "people")
    ids = unique_slugs(c, "people.yaml", rows)
    for p in rows:
        where = f"people.yaml:{p.get('id')}"
        for org in p.get("organisations") or []:
            c.ref(where, "organisations", org.get("id"))
        forms = [p.get("name"), *(p.get("aliases") or [])]
        for i, m in enumerate(p.get("mentions") or []):
            if c.quote(f"{where}:mentions[{i}]", m) and not any(
                f and f in m["quote"] for f in forms
            ):
                c.fail(
                    f"{where}:mentions[{i}]", "mention-names", "quote contains no form of the name"
                )
        every_occurrence(c, where, str(p.get("name")), p.get("mentions") or [], set())
    return ids


def check_places(c: Checker) -> set[str]:
    rows = load("places.yaml", "places")
    ids = unique_slugs(c, "places.yaml", rows)
    for p in rows:
        where = f"places.yaml:{p.get('id')}"
        if p.get("kind") not in PLACE_KINDS:
            c.fail(where, "vocabulary", f"kind {p.get('kind')!r} not in {sorted(PLACE_KINDS)}")
        c.ref(where, "regions", p.get("region"))
        if p.get("parent") is not None and p["parent"] not in ids:
            c.fail(where, "reference", f"unknown parent place {p['parent']!r}")
        forms = [p.get("name"), *(p.get("aliases") or [])]
        for i, m in enumerate(p.get("mentions") or []):
            if c.quote(f"{where}:mentions[{i}]", m) and not any(
                f and f in m["quote"] for f in forms
            ):
                c.fail(
                    f"{where}:mentions[{i}]", "mention-names", "quote contains no form of the name"
                )
        skipped = set()
        for i, s in enumerate(p.get("not_mentions") or []):
            if c.quote(f"{where}:not_mentions[{i}]", s):
                skipped.add((s["document"], s["span"][0] + s["quote"].find(p["name"])))
            if not s.get("reason"):
                c.fail(f"{where}:not_mentions[{i}]", "reason", "missing reason")
        every_occurrence(c, where, str(p.get("name")), p.get("mentions") or [], skipped)
    return ids


def check_roles(c: Checker) -> None:
    rows = load("organisation-roles.yaml", "organisation_roles")
    typed = set()
    for i, r in enumerate(rows):
        where = f"organisation-roles.yaml[{i}]"
        target = r.get("target") or {}
        if target.get("resource") not in ("initiatives", "organisations"):
            c.fail(where, "vocabulary", "target resource must be initiatives or organisations")
        else:
            c.ref(where, target["resource"], target.get("id"))
        c.ref(where, "organisations", r.get("organisation"))
        if r.get("role") not in ORG_ROLES:
            c.fail(where, "vocabulary", f"role {r.get('role')!r} not in {sorted(ORG_ROLES)}")
        c.quote(where, r)
        typed.add((target.get("id"), r.get("organisation")))
    for ini in c.curated.tables["initiative_organisation"]:
        if (ini["initiative_id"], ini["organisation_id"]) not in typed:
            c.fail(
                f"initiative {ini['initiative_id']}",
                "typed-link",
                f"link to {ini['organisation_id']} has no row in organisation-roles.yaml",
            )


def check_metric_orgs(c: Checker) -> None:
    rows = load("metric-organisations.yaml", "metric_organisations")
    linked = set()
    for i, r in enumerate(rows):
        where = f"metric-organisations.yaml[{i}] {r.get('metric')}"
        c.ref(where, "metrics", r.get("metric"))
        c.ref(where, "organisations", r.get("organisation"))
        if r.get("role") not in METRIC_ORG_ROLES:
            c.fail(where, "vocabulary", f"role {r.get('role')!r} not in {sorted(METRIC_ORG_ROLES)}")
        c.quote(where, r)
        linked.add((r.get("metric"), r.get("organisation")))
    for m in c.metrics.values():
        if m["organisation_id"] and (m["id"], m["organisation_id"]) not in linked:
            c.fail(f"metric {m['id']}", "typed-link", "organisation has no subject/source row")


def subject_ok(c: Checker, where: str, sub: Any, extra: dict[str, set[str]]) -> None:
    if not isinstance(sub, dict):
        c.fail(where, "reference", "expected {resource, id}")
        return
    res = sub.get("resource")
    if res in extra:
        if sub.get("id") not in extra[res]:
            c.fail(where, "reference", f"unknown {res} id {sub.get('id')!r}")
    else:
        c.ref(where, str(res), sub.get("id"))


def check_place_links(c: Checker, places: set[str]) -> None:
    for i, r in enumerate(load("place-links.yaml", "place_links")):
        where = f"place-links.yaml[{i}]"
        subject_ok(c, where, r.get("subject"), {})
        if r.get("place") not in places:
            c.fail(where, "reference", f"unknown place {r.get('place')!r}")
        c.quote(where, r)


def check_recognitions(c: Checker, extra: dict[str, set[str]]) -> set[str]:
    rows = load("recognitions.yaml", "recognitions")
    ids = unique_slugs(c, "recognitions.yaml", rows)
    for r in rows:
        where = f"recognitions.yaml:{r.get('id')}"
        if r.get("kind") not in RECOGNITION_KINDS:
            c.fail(
                where, "vocabulary", f"kind {r.get('kind')!r} not in {sorted(RECOGNITION_KINDS)}"
            )
        if r.get("level") not in LEVELS:
            c.fail(where, "vocabulary", f"level {r.get('level')!r} not in {sorted(LEVELS)}")
        if not r.get("recipients"):
            c.fail(where, "recipient", "at least one recipient")
        for sub in r.get("recipients") or []:
            subject_ok(c, where, sub, extra)
        if r.get("awarder") is None:
            if not r.get("awarder_null_reason"):
                c.fail(where, "null-reason", "awarder null needs awarder_null_reason")
        else:
            subject_ok(c, where, r["awarder"], extra)
        if r.get("when") is None and not r.get("when_null_reason"):
            c.fail(where, "null-reason", "when null needs when_null_reason")
        if not r.get("mentions"):
            c.fail(where, "quote", "at least one mention")
        for i, m in enumerate(r.get("mentions") or []):
            c.quote(f"{where}:mentions[{i}]", m)
    return ids


def check_names(c: Checker) -> None:
    data = yaml.safe_load((PENDING / "names.yaml").read_text(encoding="utf-8")) or {}
    listed = set()
    for r in data.get("display_names") or []:
        where = f"names.yaml:display_names {r.get('id')}"
        rec = c.records.get((r.get("resource"), r.get("id")))
        if rec is None:
            c.fail(where, "reference", "unknown organisation/initiative")
            continue
        listed.add((r["resource"], r["id"]))
        if r.get("name") != rec["name"]:
            c.fail(
                where,
                "name-as-curated",
                f"name {r.get('name')!r} but the record has {rec['name']!r}",
            )
        if r.get("display_name") != display_form(rec["name"]):
            c.fail(where, "display-name", f"expected {display_form(rec['name'])!r}")
    for key, rec in c.records.items():
        if display_form(rec["name"]) != rec["name"] and key not in listed:
            c.fail(
                f"{key[0]} {key[1]}", "display-name", "name has quotation marks but no display name"
            )
    written = "".join(squash(t) for t in c.curated.sources.values())
    for key, rec in c.records.items():
        for form in [rec["name"], *rec["aliases"]]:
            if squash(form) not in written:
                c.fail(
                    f"{key[0]} {key[1]}", "name-as-written", f"{form!r} is not written in a source"
                )


def check_quoted_names(c: Checker, extra: dict[str, set[str]]) -> None:
    rows = load("quoted-names.yaml", "quoted_names")
    listed: Counter[tuple[str, int, int]] = Counter()
    for i, r in enumerate(rows):
        where = f"quoted-names.yaml[{i}] {r.get('quote')!r}"
        span = c.quote(where, r)
        if span:
            listed[(r["document"], *span)] += 1
        if "record" in r:
            subject_ok(c, where, r["record"], extra)
        elif r.get("excluded") not in EXCLUSION_REASONS:
            c.fail(where, "disposition", f"needs record or excluded in {sorted(EXCLUSION_REASONS)}")
        elif not r.get("note"):
            c.fail(where, "reason", "an exclusion needs a note")
    for doc, text in c.curated.sources.items():
        for start, end in quoted_spans(text):
            if listed[(doc, start, end)] != 1:
                c.fail(f"{doc} [{start}, {end}] {text[start:end][:20]!r}", "quoted-name-coverage",
                       f"listed {listed[(doc, start, end)]} times in quoted-names.yaml (needs 1)")  # fmt: skip


# ---------------------------------------------------------------- rules on the curated metrics


def check_metric_rules(c: Checker) -> None:
    """FORMAT.md Rules on figures, as the loader and the write API apply them
    (service/curation/figures.py): cumulative, one period per list, rates, units, notes."""
    ctx = Facts.of_tables(c.curated.tables, c.curated.sources)
    for m in c.metrics.values():
        for p in metric_problems(m, ctx, m["id"]):
            c.fail(f"metric {m['id']}", p.rule, p.message)


def iter_checks(c: Checker) -> Iterator[str]:
    people = check_people(c)
    places = check_places(c)
    check_roles(c)
    check_metric_orgs(c)
    check_place_links(c, places)
    extra = {"people": people, "places": places}
    recognitions = check_recognitions(c, extra)
    check_names(c)
    check_quoted_names(c, extra | {"recognitions": recognitions})
    check_metric_rules(c)
    yield from c.problems


def main() -> int:
    try:
        curated = read_curated()
    except SeedError as exc:  # the loader's own rules (the figure rules among them) come first
        problems = exc.problems
    else:
        problems = list(iter_checks(Checker(curated)))
    for line in problems:
        print(line)
    print(f"{len(problems)} problem(s) in seed/pending")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
