"""An independent reference for the list contract, written for the tests.

It reads the curated YAML (`seed/curated/*.yaml`) with plain PyYAML and computes, in plain
Python, which ids a filter selects, in which order a sort returns them, what a facet counts and
which records a search finds. Nothing here imports `service`: a bug in the service's query
builder, tokeniser or loader cannot leak into the expectations.

Semantics written out (README "The API at a glance", OpenAPI parameter descriptions):
- `f=x` equals; `f__in=a,b` one of; `f__not=x` differs from, rows where f is null included;
  `gt/gte/lt/lte` compare numbers numerically and strings by code point (both databases
  compare text with the "C" collation); `contains`/`startswith` fold ASCII letters only;
  `isnull=true|false`.
- `region` (every resource) and `within` (regions) match the region and every region inside it.
- Filters across a many-to-many link (`organisation` on articles, ...) match a record linked to
  the value; their `__not` matches a record not linked to it.
- Sorts: keys in order, `-` descending, then the id ascending as the final tie-breaker.
- Facets: value counts over the rows matching every other filter, most frequent first, then
  non-null before null, then by value; at most 50.
- Search: every space-separated word must occur in one searchable field: a Chinese word as a
  substring (a phrase), an ASCII word as a whole word, after NFKC, lowercasing and traditional
  → simplified characters (OpenCC's character table); or an ASCII word is the toneless pinyin
  (pypinyin) of consecutive characters of the record's title (the first searchable field).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from opencc_purepy import OpenCC
from pypinyin import lazy_pinyin

CURATED = Path(__file__).resolve().parents[1] / "seed" / "curated"
# Every resource the API lists, in name order (the tests compare this with what is served).
RESOURCES = [
    "articles",
    "documents",
    "initiatives",
    "metrics",
    "organisations",
    "people",
    "places",
    "recognitions",
    "regions",
]
MAX_FACET_VALUES = 50

# Filters that follow the region tree: (resource or "*", filter) -> field holding a region id.
HIERARCHICAL = {("*", "region"): "region", ("regions", "within"): "id"}
# Sort keys whose wire name differs from the field the oracle keeps them in.
SORT_FIELDS = {("metrics", "position"): "position"}
# The text each searchable resource is found by (the loader's search entries).
SEARCH_FIELDS = {
    "articles": ("headline", "kicker", "subheadline", "section", "byline", "body"),
    "initiatives": ("name", "name_en", "aliases", "summary", "display_name"),
    "organisations": ("name", "name_en", "aliases", "display_name", "fuller_name_text"),
    "metrics": ("subject", "subject_en", "raw", "quote"),
    "people": ("name", "aliases", "titles"),
    "places": ("name", "aliases"),
    "recognitions": ("what",),
}
# The code of each unit and qualifier in the curated data, as README "Numbers and codes" and
# `/v1/meta` `vocabularies` state them (written out here, not read from the service).
UNIT_CODES = {
    "元": "yuan",
    "个": "item",
    "家": "establishment",
    "名": "person",
    "人": "person",
    "条": "line",
    "%": "percent",
    "次": "occurrence",
    "岁": "year_of_age",
    "分钟": "minute",
    "小时": "hour",
    "户": "household",
    "亩": "mu",
    "项": "listed_item",
    "株": "plant",
    "年": "year",
    "个月": "month",
    "件": "piece",
    "种": "kind",
    "人次": "person_time",
    "件次": "item_time",
    "份": "copy",
    "fraction": "fraction",
}
QUALIFIER_CODES = {
    "余": "more_than",
    "多": "more_than",
    "超": "more_than",
    "超过": "more_than",
    "逾": "more_than",
    "突破": "exceeds",
    "以上": "at_least",
    "近": "nearly",
    "将近": "nearly",
    "约": "about",
    "左右": "about",
    "不到": "less_than",
    "以下": "at_most",
}


class NoOracle(Exception):
    """A filter, sort key or facet the oracle has no semantics for: write them here."""


@dataclass
class Record:
    id: str
    fields: dict[str, Any]
    links: dict[str, frozenset[str]] = field(default_factory=dict)


def fold(text: str) -> str:
    """ASCII-only case folding, as `contains`/`startswith` document."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _display_name(name: str) -> str:
    """seed/FORMAT.md rule display-name: “” ‘’ removed, 《》 when they enclose the whole name."""
    bare = re.sub("[“”‘’]", "", name)
    whole = re.fullmatch("《([^《》]*)》", bare)
    return whole.group(1) if whole else bare


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class Oracle:
    def __init__(self, curated: Path = CURATED) -> None:
        self.resources: dict[str, list[Record]] = {}
        self.region_parent: dict[str, str | None] = {}
        # Link rows by role: (initiative, organisation, role) and (article, person, role).
        self.role_rows: dict[str, set[tuple[str, str, str]]] = {
            "initiative_organisation_roles": set(),
            "contributor_roles": set(),
        }
        self._load(curated)

    # ------------------------------------------------------------ loading

    def _load(self, curated: Path) -> None:
        regions = yaml.safe_load((curated / "regions.yaml").read_text(encoding="utf-8"))
        self.resources["regions"] = [
            Record(
                r["id"],
                {
                    "id": r["id"],
                    "name": r["name"],
                    "name_en": r.get("name_en"),
                    "level": r["level"],
                    "code": r.get("code"),
                    "parent": r.get("parent"),
                    "aliases": list(r.get("aliases") or []),
                },
            )
            for r in regions["regions"]
        ]
        self.region_parent = {r.id: r.fields["parent"] for r in self.resources["regions"]}
        pages = [
            yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(curated.glob("*.yaml"))
            if p.name != "regions.yaml"
        ]
        for name in ("documents", "articles", "organisations", "initiatives", "metrics"):
            self.resources[name] = []
        for page in pages:
            self._load_page(page)
        self._link_back()
        for name in ("organisations", "initiatives"):
            for record in self.resources[name]:
                record.fields["display_name"] = _display_name(record.fields["name"])
        self._load_pending(curated.parent / "pending")

    def _load_pending(self, pending: Path) -> None:
        """People and places (read-only, curated in seed/pending/)."""
        people = yaml.safe_load((pending / "people.yaml").read_text(encoding="utf-8"))
        self.resources["people"] = [
            Record(
                p["id"],
                {k: p.get(k) for k in ("id", "name", "aliases", "titles")},
                {
                    "organisation": frozenset(o["id"] for o in p.get("organisations") or []),
                    "article": frozenset(m["article"] for m in p["mentions"]),
                },
            )
            for p in people["people"]
        ]
        places = yaml.safe_load((pending / "places.yaml").read_text(encoding="utf-8"))
        self.resources["places"] = [
            Record(
                p["id"],
                {k: p.get(k) for k in ("id", "name", "kind", "region", "parent", "aliases")},
                {"article": frozenset(m["article"] for m in p["mentions"])},
            )
            for p in places["places"]
        ]
        recognitions = yaml.safe_load((pending / "recognitions.yaml").read_text(encoding="utf-8"))
        self.resources["recognitions"] = [
            Record(
                r["id"],
                {k: r.get(k) for k in ("id", "what", "kind", "level")}
                | {"awarder": (r.get("awarder") or {}).get("id")},
                {
                    "recipient": frozenset(x["id"] for x in r["recipients"]),
                    "article": frozenset(m["article"] for m in r["mentions"]),
                },
            )
            for r in recognitions["recognitions"]
        ]
        self._load_place_links(pending)
        roles = self.role_rows.setdefault("organisation_relation_roles", set())
        for name, key in (
            ("organisation-roles.yaml", "organisation_roles"),
            ("metric-organisations.yaml", "metric_organisations"),
        ):
            for r in yaml.safe_load((pending / name).read_text(encoding="utf-8"))[key]:
                target = r["target"]["id"] if "target" in r else r["metric"]
                roles.add((r["organisation"], target, r["role"]))

    def _load_place_links(self, pending: Path) -> None:
        """`place`: the places the text puts a metric, initiative or organisation in."""
        placed: dict[tuple[str, str], set[str]] = {}
        links = yaml.safe_load((pending / "place-links.yaml").read_text(encoding="utf-8"))
        for link in links["place_links"]:
            subject = link["subject"]
            placed.setdefault((subject["resource"], subject["id"]), set()).add(link["place"])
        for name in ("metrics", "initiatives", "organisations"):
            for record in self.resources[name]:
                record.links["place"] = frozenset(placed.get((name, record.id), set()))

    def _load_page(self, page: Mapping[str, Any]) -> None:
        doc = page["document"]
        self.resources["documents"].append(
            Record(
                doc["id"],
                {
                    "id": doc["id"],
                    "date_estimate": str(doc["date_estimate"]),
                    "date_precision": doc.get("date_precision"),
                    "title": doc.get("title"),
                    "publisher": doc.get("publisher"),
                },
            )
        )
        for position, art in enumerate(page.get("articles") or [], start=1):
            self.resources["articles"].append(self._article(doc["id"], position, art))
        for org in page.get("organisations") or []:
            self.resources["organisations"].append(
                Record(
                    org["id"],
                    {
                        **_named(org),
                        "kind": org["kind"],
                        # Searched, not served as such (the API serves {name, basis, note}).
                        "fuller_name_text": (org.get("fuller_name") or {}).get("name"),
                    },
                )
            )
        for ini in page.get("initiatives") or []:
            links = ini.get("organisations") or []
            self.role_rows["initiative_organisation_roles"].update(
                (ini["id"], o["id"], o["role"]) for o in links
            )
            self.resources["initiatives"].append(
                Record(
                    ini["id"],
                    {**_named(ini), "kind": ini["kind"], "summary": ini.get("summary")},
                    {
                        "organisation": frozenset(o["id"] for o in links),
                        "organisation_role": frozenset(o["role"] for o in links),
                    },
                )
            )
        articles = {a.id: a for a in self.resources["articles"]}
        for m in page.get("metrics") or []:
            self.resources["metrics"].append(
                Record(
                    m["id"],
                    {
                        "id": m["id"],
                        "subject": m["subject"],
                        "subject_en": m.get("subject_en"),
                        "kind": m["kind"],
                        "value": _decimal(m.get("value")),
                        "unit": m.get("unit"),
                        "unit_code": UNIT_CODES.get(m.get("unit") or ""),
                        # seed/FORMAT.md normalised-unit: the curator's with a counted noun.
                        "unit_normalised": m.get("unit_normalised")
                        if m.get("counted")
                        else {"名": "人", "个月": "月"}.get(m.get("unit"), m.get("unit")),
                        "raw": m["raw"],
                        "qualifier": m.get("qualifier"),
                        "qualifier_code": QUALIFIER_CODES.get(m.get("qualifier") or ""),
                        "cumulative": bool(m.get("cumulative")),
                        "period": m.get("period"),
                        "region": m.get("region"),
                        "article": m["article"],
                        "document": articles[m["article"]].fields["document"],
                        "initiative": m.get("initiative"),
                        "organisation": m.get("organisation"),
                        "growth_of": m.get("growth_of"),
                        "quote": m["quote"],
                        "position": m["span"][0],
                    },
                )
            )

    def _article(self, document: str, position: int, art: Mapping[str, Any]) -> Record:
        people = art.get("contributors") or []
        self.role_rows["contributor_roles"].update(
            (art["id"], p["name"], p["role"]) for p in people
        )
        return Record(
            art["id"],
            {
                "id": art["id"],
                "document": document,
                "position": position,
                "kind": art["kind"],
                "section": art.get("section"),
                "kicker": art.get("kicker"),
                "headline": art["headline"],
                "subheadline": art.get("subheadline"),
                "byline": art.get("byline"),
                "region": art.get("region"),
                "continued_on": art.get("continued_on"),
                "body": list(art.get("body") or []),
            },
            {
                # Contributor names; `contributor_ids` turns them into ids.
                "contributor_name": frozenset(p["name"] for p in people),
                "contributor_role": frozenset(p["role"] for p in people),
                "organisation": frozenset(o["id"] for o in art.get("organisations") or []),
                "initiative": frozenset(i["id"] for i in art.get("initiatives") or []),
            },
        )

    def _link_back(self) -> None:
        """The reverse sides of the links: what names an organisation, and so on."""
        # Organisation and initiative ids are separate namespaces: one map per link.
        named_in: dict[str, dict[str, set[str]]] = {"organisation": {}, "initiative": {}}
        for art in self.resources["articles"]:
            for link, targets in named_in.items():
                for target in art.links[link]:
                    targets.setdefault(target, set()).add(art.id)
        takes_part: dict[str, set[str]] = {}
        for ini in self.resources["initiatives"]:
            ini.links["article"] = frozenset(named_in["initiative"].get(ini.id, set()))
            for org_id in ini.links["organisation"]:
                takes_part.setdefault(org_id, set()).add(ini.id)
        for org in self.resources["organisations"]:
            org.links["article"] = frozenset(named_in["organisation"].get(org.id, set()))
            org.links["initiative"] = frozenset(takes_part.get(org.id, set()))

    def contributor_ids(self, ids_by_name: Mapping[str, str]) -> None:
        """Contributor ids are slugs the loader derives; the test maps names to the ids served."""
        for art in self.resources["articles"]:
            art.links["contributor"] = frozenset(
                ids_by_name[n] for n in art.links["contributor_name"]
            )

    # ------------------------------------------------------------ filters

    def ids(self, resource: str) -> set[str]:
        return {r.id for r in self.resources[resource]}

    def subtree(self, roots: Iterable[str]) -> set[str]:
        inside = set(roots)
        grew = True
        while grew:
            grew = False
            for region, parent in self.region_parent.items():
                if parent in inside and region not in inside:
                    inside.add(region)
                    grew = True
        return inside

    def kind_of(self, resource: str, name: str) -> str:
        """ "tree", "link" or "scalar": how filter `name` reads a record."""
        if (resource, name) in HIERARCHICAL or ("*", name) in HIERARCHICAL:
            return "tree"
        records = self.resources[resource]
        if records and name in records[0].links:
            return "link"
        if records and name in records[0].fields:
            return "scalar"
        raise NoOracle(f"{resource}: no oracle semantics for filter {name!r} (tests/oracle.py)")

    def values(self, resource: str, name: str) -> list[Any]:
        """Every value the field takes (links: every linked id), nulls included."""
        kind = self.kind_of(resource, name)
        records = self.resources[resource]
        if kind == "link":
            return [v for r in records for v in r.links[name]]
        column = _tree_column(resource, name) if kind == "tree" else name
        return [r.fields[column] for r in records]

    def select(self, resource: str, name: str, op: str, value: Any) -> set[str]:
        """Ids of the records `name__op=value` selects (value already parsed)."""
        kind = self.kind_of(resource, name)
        column = _tree_column(resource, name) if kind == "tree" else name
        return {r.id for r in self.resources[resource] if self._matches(r, kind, column, op, value)}

    def _matches(self, record: Record, kind: str, name: str, op: str, value: Any) -> bool:
        if kind == "link":
            linked = record.links[name]
            wanted = set(value) if op == "in" else {value}
            hit = bool(linked & wanted)
            if op in {"eq", "in"}:
                return hit
            if op == "not":
                return not hit
            raise NoOracle(f"link filter {name} with op {op}")
        if kind == "tree":
            current = record.fields[name]
            if op == "isnull":
                return (current is None) is value
            inside = self.subtree(value if op == "in" else [value])
            if op == "not":
                return current is None or current not in inside
            return current in inside
        return compare(record.fields[name], op, value)

    # ------------------------------------------------------------ sorts and facets

    def order(self, resource: str, sort: Sequence[tuple[str, bool]], ids: set[str]) -> list[str]:
        """Ids in `ids` in the order of `sort` ((key, descending)), then id ascending."""
        records = sorted((r for r in self.resources[resource] if r.id in ids), key=lambda r: r.id)
        # Stable sorts from the last key to the first: each key keeps the later keys' order.
        for key, descending in reversed(sort):
            column = SORT_FIELDS.get((resource, key), key)
            if any(r.fields[column] is None for r in records):
                raise NoOracle(
                    f"{resource}: sort key {key} has nulls; pin their place in tests/oracle.py"
                )
            records.sort(key=lambda r, c=column: r.fields[c], reverse=descending)  # type: ignore[misc]
        return [r.id for r in records]

    def facet(self, resource: str, name: str, ids: set[str]) -> list[tuple[Any, int]]:
        if self.kind_of(resource, name) == "link":
            raise NoOracle(f"{resource}: facet on link {name}")
        counts = Counter(r.fields[name] for r in self.resources[resource] if r.id in ids)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, _key(kv[0])))
        return ranked[:MAX_FACET_VALUES]

    # ------------------------------------------------------------ search

    def search(self, resource: str, query: str) -> set[str]:
        words = [normalise(w) for w in query.split()]
        found = set()
        for record in self.resources[resource]:
            texts = [normalise(t) for t in search_texts(record, SEARCH_FIELDS[resource])]
            spelled = title_pinyin(record.fields.get(SEARCH_FIELDS[resource][0]))
            if all(any(word_in(w, t) for t in texts) or w in spelled for w in words):
                found.add(record.id)
        return found


def _tree_column(resource: str, name: str) -> str:
    return HIERARCHICAL.get((resource, name)) or HIERARCHICAL[("*", name)]


def _named(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "name_en": row.get("name_en"),
        "region": row.get("region"),
        "parent": row.get("parent"),
        "aliases": list(row.get("aliases") or []),
    }


def _key(value: Any) -> Any:
    return (0, "") if value is None else (1, value)


def compare(current: Any, op: str, value: Any) -> bool:
    """One scalar filter on one field value."""
    if op == "isnull":
        return (current is None) is value
    if op == "not":
        return current is None or current != value
    if current is None:
        return False
    match op:
        case "eq":
            return bool(current == value)
        case "in":
            return current in value
        case "gt":
            return bool(current > value)
        case "gte":
            return bool(current >= value)
        case "lt":
            return bool(current < value)
        case "lte":
            return bool(current <= value)
        case "contains":
            return fold(value) in fold(current)
        case "startswith":
            return fold(current).startswith(fold(value))
    raise NoOracle(f"operator {op}")


def search_texts(record: Record, names: Sequence[str]) -> list[str]:
    texts: list[str] = []
    for name in names:
        value = record.fields.get(name)
        if isinstance(value, list):
            texts.extend(str(v) for v in value)
        elif value is not None:
            texts.append(str(value))
    return texts


_T2S = OpenCC("t2s")


def normalise(text: str) -> str:
    return _T2S.ts(unicodedata.normalize("NFKC", text).lower())


# Interjection syllables without a vowel (嗯 n): a pinyin word never spans one.
VOWELLESS = {"m", "n", "ng", "hm", "hng"}


def title_pinyin(title: Any) -> set[str]:
    """Every concatenation of consecutive syllables of the title's Hanzi (丽水市 → li, lishui,
    lishuishi, shui, ...)."""
    if not title:
        return set()
    hanzi = re.findall(r"[\u3400-\u9fff]+", normalise(str(title)))
    sounds = [s for run in hanzi for s in lazy_pinyin(run, v_to_u=False)]
    sounds = [s for s in sounds if s.isascii() and s.isalpha()]
    found: set[str] = set()
    for i in range(len(sounds)):
        for j in range(i + 1, len(sounds) + 1):
            if sounds[j - 1] in VOWELLESS:
                break
            found.add("".join(sounds[i:j]))
    return found


def word_in(word: str, text: str) -> bool:
    """A Chinese word as a substring; an ASCII word as a whole word."""
    if word.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None
    return word in text
