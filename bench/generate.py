"""Synthetic benchmark dataset: 1M metrics, 100k articles, 10k organisations, 10k initiatives.

    python -m bench.generate                     # SQLite, cached under bench/data/
    python -m bench.generate --postgres URL      # also (re)build a PostgreSQL database
    python -m bench.generate --scale 0.01        # a small copy, for trying things out

The schema comes from `alembic upgrade head` (so the benchmark runs on the real indexes) and the
real curated data from `python -m service.seed load`; the synthetic rows are then bulk-loaded on
top, so the totals are exactly the target counts. Their distributions are drawn from the real
`metric`, `article`, `organisation` and `initiative` rows (unit/kind pairs, values around the
real ones, qualifiers, periods, regions, notes), and their Chinese text from the two source
pages in `seed/sources/` (clauses and phrases cut from them). Document texts are the
concatenation of their articles, and every article and metric span points at its own quote in
its document, so provenance holds as it does for the real data.

SQLite files are cached as `bench/data/lishui-bench-<key>.db` (renamed into place only when
complete); the key covers this file's source, the scale, the random seed, the Alembic migrations
and the search tokeniser, so a new migration (an index, say) or an edit here rebuilds the data
and nothing else does. A PostgreSQL database is marked, once fully built, with
`COMMENT ON DATABASE` = `lishui-bench <key> alembic=<head> metrics=<n>`, and rebuilt only when
that marker differs or its tables are gone.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypinyin import lazy_pinyin

GENERATOR_VERSION = 2
DEFAULT_SEED = 20221201
ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "bench" / "data"
SOURCES_DIR = ROOT / "seed" / "sources"
MIGRATIONS_DIR = ROOT / "alembic" / "versions"
BATCH = 20_000
PG_MARKER = "lishui-bench"
PG_FORBIDDEN = {"test", "postgres", "template0", "template1"}

# Tables this generator fills, parents first.
TABLES = (
    "document",
    "contributor",
    "organisation",
    "initiative",
    "initiative_organisation",
    "article",
    "article_contributor",
    "article_organisation",
    "article_initiative",
    "metric",
)


@dataclass(frozen=True)
class Scale:
    metrics: int = 1_000_000
    articles: int = 100_000
    organisations: int = 10_000
    initiatives: int = 10_000
    contributors: int = 2_000
    articles_per_document: int = 20

    def times(self, factor: float) -> Scale:
        if factor == 1:
            return self
        return Scale(
            **{
                f.name: max(1, round(getattr(self, f.name) * factor))
                for f in fields(self)
                if f.name != "articles_per_document"
            },
            articles_per_document=self.articles_per_document,
        )


def cache_key(scale: Scale, seed: int) -> str:
    """Changes with the generator (its version and this file's source), the scale, the seed,
    the Alembic migrations (so a new head, or an edited migration) and the search tokeniser."""
    digest = hashlib.sha256()
    digest.update(f"v{GENERATOR_VERSION}:{seed}:{scale}".encode())
    sources = [Path(__file__).resolve(), *sorted(MIGRATIONS_DIR.glob("*.py"))]
    tokeniser = [ROOT / "service" / "fulltext.py", ROOT / "service" / "chinese.py"]
    for path in [*sources, *tokeniser]:
        if not path.exists():
            continue
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def alembic_head() -> str:
    """The head revision of alembic/versions (recorded next to the key in the PostgreSQL marker)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in MIGRATIONS_DIR.glob("*.py"):
        text = path.read_text()
        if m := re.search(r"^revision[^=]*=\s*['\"]([^'\"]+)['\"]", text, re.M):
            revisions.add(m.group(1))
        for parent in re.findall(r"^down_revision[^=]*=\s*(.+)$", text, re.M):
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", parent))
    return ",".join(sorted(revisions - parents)) or "none"


def _prefix(scale: Scale) -> str:
    return "lishui-bench-" if scale == Scale() else f"lishui-bench-m{scale.metrics}-"


def sqlite_path(scale: Scale, seed: int) -> Path:
    return DATA_DIR / f"{_prefix(scale)}{cache_key(scale, seed)}.db"


# ---------------------------------------------------------------- vocabulary from the sources

_HANZI = re.compile(r"[\u4e00-\u9fff]+")
_CLAUSE_SPLIT = re.compile(r"[，。；：、！？“”‘’（）()《》\s,.;:!?#*|]+")
_SLUG_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass
class Vocab:
    clauses: list[str]  # 6-24 characters of running text
    phrases: list[str]  # 2-4 Hanzi
    paragraphs: list[str]
    _pinyin: dict[str, list[str]] = field(default_factory=dict)

    def syllables(self, text: str) -> list[str]:
        cached = self._pinyin.get(text)
        if cached is None:
            cached = [
                token for part in lazy_pinyin(text) for token in _SLUG_TOKEN.findall(part.lower())
            ]
            self._pinyin[text] = cached
        return cached

    def slug(self, *parts: str, max_syllables: int = 6) -> str:
        tokens: list[str] = []
        for part in parts:
            tokens.extend(self.syllables(part))
        return "-".join(tokens[:max_syllables]) or "x"


def load_vocab(rng: random.Random) -> Vocab:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SOURCES_DIR.glob("*.txt"))]
    paragraphs: list[str] = []
    clauses: list[str] = []
    phrases: list[str] = []
    for text in texts:
        for block in re.split(r"\n\s*\n", text):
            block = block.strip().lstrip("#").strip()
            if len(block) >= 30:
                paragraphs.append(block)
        for clause in _CLAUSE_SPLIT.split(text):
            hanzi = sum(len(run) for run in _HANZI.findall(clause))
            if 6 <= len(clause) <= 24 and hanzi >= 0.7 * len(clause):
                clauses.append(clause)
        for run in _HANZI.findall(text):
            i = 0
            while len(run) - i >= 2:
                size = min(len(run) - i, rng.choice((2, 2, 3, 4)))
                if size >= 2:
                    phrases.append(run[i : i + size])
                i += size
    if not clauses or not phrases:
        raise SystemExit(f"no usable text in {SOURCES_DIR}")
    return Vocab(clauses=clauses, phrases=phrases, paragraphs=paragraphs)


# ---------------------------------------------------------------- templates from the real rows


@dataclass
class Templates:
    """Real rows (after `service.seed load`) whose distributions the synthetic rows follow."""

    regions: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    organisations: list[dict[str, Any]]
    initiatives: list[dict[str, Any]]
    contributors: list[dict[str, Any]]
    article_contributor_roles: list[str]
    initiative_organisation_roles: list[str]
    counts: dict[str, int]

    @classmethod
    def from_rows(cls, rows: dict[str, list[dict[str, Any]]]) -> Templates:
        def parsed(table: str) -> list[dict[str, Any]]:
            out = []
            for row in rows[table]:
                row = dict(row)
                for key in ("notes", "null_reasons", "aliases", "body", "repairs", "date_basis"):
                    if isinstance(row.get(key), str):
                        row[key] = json.loads(row[key])
                if "value" in row:
                    row["value"] = Decimal(str(row["value"]))
                out.append(row)
            return out

        templates = cls(
            regions=parsed("region"),
            metrics=parsed("metric"),
            articles=parsed("article"),
            organisations=parsed("organisation"),
            initiatives=parsed("initiative"),
            contributors=parsed("contributor"),
            article_contributor_roles=[r["role"] for r in rows["article_contributor"]],
            initiative_organisation_roles=[r["role"] for r in rows["initiative_organisation"]],
            counts={table: len(rows[table]) for table in TABLES},
        )
        for name in ("regions", "metrics", "articles", "organisations", "initiatives"):
            if not getattr(templates, name):
                raise SystemExit(f"no real {name} loaded: did `python -m service.seed load` run?")
        return templates


TEMPLATE_QUERIES = {
    "region": "SELECT * FROM region ORDER BY id",
    "metric": "SELECT * FROM metric ORDER BY id",
    "article": "SELECT * FROM article ORDER BY id",
    "organisation": "SELECT * FROM organisation ORDER BY id",
    "initiative": "SELECT * FROM initiative ORDER BY id",
    "contributor": "SELECT * FROM contributor ORDER BY id",
    "document": "SELECT id FROM document ORDER BY id",
    "article_contributor": "SELECT * FROM article_contributor "
    "ORDER BY article_id, contributor_id, role",
    "article_organisation": "SELECT article_id FROM article_organisation",
    "article_initiative": "SELECT article_id FROM article_initiative",
    "initiative_organisation": "SELECT * FROM initiative_organisation "
    "ORDER BY initiative_id, organisation_id, role",
}


# ---------------------------------------------------------------- synthetic rows

ORG_SUFFIX = {
    "alliance": ["党建联盟", "共富联盟", "产业联盟"],
    "bank": ["农商银行", "银行分行", "银行支行"],
    "company": ["有限公司", "农业开发有限公司", "旅游发展有限公司", "强村公司"],
    "government": ["人民政府", "农业农村局", "文化和广电旅游体育局", "乡人民政府"],
    "judiciary": ["人民法院", "人民检察院"],
    "legislature": ["人大常委会", "政协"],
    "media": ["融媒体中心", "日报社"],
    "other": ["专业合作社", "工作站", "服务中心"],
    "party": ["党委", "党支部", "党工委"],
    "research_institute": ["研究院", "研究所"],
    "school": ["中学", "小学", "职业技术学校"],
    "social_organisation": ["协会", "商会", "志愿者协会"],
    "university": ["大学", "学院"],
}
INITIATIVE_SUFFIX = ["", "", "工程", "行动", "计划", "平台", "应用", "工坊", "品牌", "项目"]
PREFIX_QUALIFIERS = {"近", "超", "约", "超过", "不到"}
MIDDLE_QUALIFIERS = {"余", "多"}
SMALL_UNITS = {"岁", "分钟", "小时", "年", "个月"}


def _norm(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _jdump(value: Any) -> str:
    # What SQLAlchemy's JSON type stores (json.dumps defaults: ASCII with \\u escapes).
    return json.dumps(value)


Rows = list[tuple[Any, ...]]


class TextBuilder:
    """A document's text built piece by piece, with the offsets of each piece."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.paragraph: list[str] = []
        self.offset = 0

    def add(self, text: str) -> tuple[int, int]:
        begin = self.offset
        self.parts.append(text)
        self.paragraph.append(text)
        self.offset += len(text)
        return begin, self.offset

    def new_paragraph(self) -> str:
        """The text added since the last call."""
        done = "".join(self.paragraph)
        self.paragraph.clear()
        return done

    def text(self) -> str:
        return "".join(self.parts)


class Synth:
    """Deterministic row stream: same templates, scale and seed give the same rows."""

    def __init__(self, templates: Templates, scale: Scale, seed: int) -> None:
        self.t = templates
        self.scale = scale
        self.rng = random.Random(seed)
        self.vocab = load_vocab(random.Random(seed + 1))
        self.region_names = {
            r["id"]: [r["name"], *(a for a in r["aliases"] if a not in {"我市", "全市"})]
            for r in templates.regions
        }
        self.org_ids: list[str] = []
        self.org_names: list[str] = []
        self.initiative_ids: list[str] = []
        self.initiative_names: list[str] = []
        self.contributor_ids: list[str] = []
        self.contributor_names: list[str] = []

    # -------- helpers

    def _pick(self, rows: Sequence[dict[str, Any]], key: str) -> Any:
        return self.rng.choice(rows)[key]

    def _region_word(self, region_id: str | None) -> str:
        names = self.region_names.get(region_id or "", [])
        return self.rng.choice(names) if names else ""

    def _unique(self, seen: set[str], base: str) -> str:
        candidate, n = base, 2
        while candidate in seen:
            candidate = f"{base}-{n}"
            n += 1
        seen.add(candidate)
        return candidate

    def target(self, table: str, wanted: int) -> int:
        return max(0, wanted - self.t.counts.get(table, 0))

    # -------- entities

    def contributors(self) -> Iterator[tuple[str, Rows]]:
        real = [c["name"] for c in self.t.contributors] or ["钟根清", "李鲜"]
        surnames = sorted({n[0] for n in real})
        given_chars = sorted({ch for n in real for ch in n[1:]})
        seen_ids = {c["id"] for c in self.t.contributors}
        seen_names = set(real)
        rows: Rows = []
        for _ in range(self.target("contributor", self.scale.contributors)):
            for _attempt in range(50):
                given = "".join(
                    self.rng.choice(given_chars) for _ in range(self.rng.choice((1, 2)))
                )
                name = self.rng.choice(surnames) + given
                if name not in seen_names:
                    break
            else:
                name = f"{name}{len(seen_names)}"
            seen_names.add(name)
            cid = self._unique(seen_ids, self.vocab.slug(name))
            self.contributor_ids.append(cid)
            self.contributor_names.append(name)
            rows.append((cid, name))
        self.contributor_ids.extend(c["id"] for c in self.t.contributors)
        self.contributor_names.extend(c["name"] for c in self.t.contributors)
        yield "contributor", rows

    def organisations(self) -> Iterator[tuple[str, Rows]]:
        real = self.t.organisations
        seen_ids = {o["id"] for o in real}
        seen_names = {o["name"] for o in real}
        rows: Rows = []
        for _ in range(self.target("organisation", self.scale.organisations)):
            kind = self._pick(real, "kind")
            region = self._pick(real, "region_id")
            suffix = self.rng.choice(ORG_SUFFIX.get(kind, ["中心"]))
            words = [self._region_word(region), self.rng.choice(self.vocab.phrases), suffix]
            name = "".join(words)
            n = 2
            while name in seen_names:
                name = "".join(words[:-1]) + f"第{n}" + suffix
                n += 1
            seen_names.add(name)
            oid = self._unique(seen_ids, self.vocab.slug(*words, max_syllables=8))
            parent = (
                self.rng.choice(self.org_ids)
                if self.org_ids and self._pick(real, "parent_id") is not None
                else None
            )
            source = self.rng.choice(real)
            rows.append(
                (
                    oid,
                    name,
                    " ".join(s.title() for s in self.vocab.syllables(name)[:8])
                    + f" ({kind.replace('_', ' ')})",
                    kind,
                    region,
                    parent,
                    _jdump([]),
                    _jdump(source["notes"]),
                    _jdump(source["null_reasons"]),
                )
            )
            self.org_ids.append(oid)
            self.org_names.append(name)
        self.org_ids.extend(o["id"] for o in real)
        self.org_names.extend(o["name"] for o in real)
        yield "organisation", rows

    def initiatives(self) -> Iterator[tuple[str, Rows]]:
        real = self.t.initiatives
        seen_ids = {x["id"] for x in real}
        seen_names = {x["name"] for x in real}
        rows: Rows = []
        links: Rows = []
        roles = self.t.initiative_organisation_roles or ["lead"]
        link_rate = len(roles) / max(1, len(real))
        for _ in range(self.target("initiative", self.scale.initiatives)):
            kind = self._pick(real, "kind")
            region = self._pick(real, "region_id")
            words = [self.rng.choice(self.vocab.phrases), self.rng.choice(self.vocab.phrases)]
            suffix = self.rng.choice(INITIATIVE_SUFFIX)
            quoted = self.rng.random() < 0.5
            name = ("“" + "".join(words) + "”" if quoted else "".join(words)) + suffix
            n = 2
            while name in seen_names:
                name = f"{name}{n}"
                n += 1
            seen_names.add(name)
            iid = self._unique(seen_ids, self.vocab.slug(*words, suffix, max_syllables=8))
            parent = (
                self.rng.choice(self.initiative_ids)
                if self.initiative_ids and self._pick(real, "parent_id") is not None
                else None
            )
            source = self.rng.choice(real)
            rows.append(
                (
                    iid,
                    name,
                    " ".join(s.title() for s in self.vocab.syllables(name)[:8]),
                    kind,
                    source["summary"],
                    region,
                    parent,
                    _jdump([]),
                    _jdump(source["notes"]),
                    _jdump(source["null_reasons"]),
                )
            )
            self.initiative_ids.append(iid)
            self.initiative_names.append(name)
            count = min(3, int(self.rng.expovariate(1 / link_rate) + 0.5)) if self.org_ids else 0
            for org in {self.rng.choice(self.org_ids) for _ in range(count)}:
                links.append((iid, org, self.rng.choice(roles)))
        self.initiative_ids.extend(x["id"] for x in real)
        self.initiative_names.extend(x["name"] for x in real)
        yield "initiative", rows
        yield "initiative_organisation", links

    # -------- metrics

    def _value(self, template: dict[str, Any], qualifier: str | None) -> tuple[Decimal, str]:
        unit: str | None = template["unit"]
        kind: str = template["kind"]
        base = float(template["value"]) or 1.0
        rng = self.rng
        unit_text = unit or ""
        if unit == "%" or kind == "percentage":
            value = _norm(Decimal(str(round(min(999.0, base * 10 ** rng.gauss(0, 0.3)), 1))))
            number = format(value, "f")
            raw = f"{number}%"
        elif kind == "fraction" or unit == "fraction":
            value = _norm(Decimal(f"{rng.uniform(0.05, 0.95):.6f}"))
            return value, f"{format(value * 100, '.0f')}%"
        elif unit in SMALL_UNITS or kind in {"age", "duration"}:
            value = Decimal(max(1, round(base * 10 ** rng.gauss(0, 0.25))))
            number = str(value)
            middle = qualifier if qualifier in MIDDLE_QUALIFIERS else ""
            raw = f"{number}{middle}{unit_text}"
        else:
            v = max(1.0, base * 10 ** rng.gauss(0, 0.7))
            if v >= 1e8:
                mult, word = Decimal(100_000_000), "亿"
            elif v >= 1e4 and rng.random() < 0.85:
                mult, word = Decimal(10_000), "万"
            else:
                mult, word = Decimal(1), ""
            places = rng.choice((0, 1, 2)) if word else 0
            mantissa = Decimal(str(round(v / float(mult), places)))
            if mantissa == 0:
                mantissa = Decimal(1)
            value = _norm(mantissa * mult)
            number = format(_norm(mantissa), "f")
            middle = qualifier if qualifier in MIDDLE_QUALIFIERS else ""
            raw = f"{number}{middle}{word}{unit_text}"
            if qualifier in PREFIX_QUALIFIERS:
                raw = qualifier + raw
            elif qualifier and qualifier not in MIDDLE_QUALIFIERS:
                raw += qualifier
            return value, raw
        if qualifier in PREFIX_QUALIFIERS:
            raw = qualifier + raw
        elif qualifier and qualifier not in MIDDLE_QUALIFIERS:
            raw += qualifier
        return value, raw

    def _subject(self, region: str | None, template: dict[str, Any]) -> list[str]:
        """The subject's pieces: [region word], phrase(s), [的], and a tail (数量, 人数, 投入资金 …)
        from the real subject whose unit and kind are used. Pieces keep the pinyin cache small."""
        pieces = [self._region_word(region)] if self.rng.random() < 0.6 else []
        pieces.extend(self.rng.choice(self.vocab.phrases) for _ in range(self.rng.choice((1, 2))))
        if self.rng.random() < 0.3:
            pieces.append("的")
        pieces.append(template["subject"][-self.rng.choice((2, 2, 3, 4)) :])
        return pieces

    # -------- documents, articles and their metrics

    def documents_articles_metrics(self) -> Iterator[tuple[str, Rows]]:
        rng = self.rng
        scale = self.scale
        n_articles = self.target("article", scale.articles)
        n_metrics = self.target("metric", scale.metrics)
        per_doc = scale.articles_per_document
        n_docs = max(1, math.ceil(n_articles / per_doc))
        # Metrics per article: skewed like the real pages (many with a few, some with many),
        # then nudged so the total is exact.
        mean = n_metrics / max(1, n_articles)
        counts = [max(0, round(rng.gammavariate(2.0, mean / 2.0))) for _ in range(n_articles)]
        diff = n_metrics - sum(counts)
        while diff != 0:
            i = rng.randrange(n_articles)
            if diff > 0:
                counts[i] += 1
                diff -= 1
            elif counts[i] > 0:
                counts[i] -= 1
                diff += 1

        real_metrics = self.t.metrics
        real_articles = self.t.articles
        p_initiative = sum(m["initiative_id"] is not None for m in real_metrics) / len(real_metrics)
        p_org = sum(m["organisation_id"] is not None for m in real_metrics) / len(real_metrics)
        roles = self.t.article_contributor_roles or ["reporter"]
        # JSON columns are drawn from the real rows, encoded once.
        notes_json = [_jdump(m["notes"]) for m in real_metrics]
        no_period_json = [
            _jdump({"period": m["null_reasons"]["period"]})
            for m in real_metrics
            if "period" in m["null_reasons"]
        ] or [_jdump({"period": "The text states no period for this figure."})]

        seen_metric_ids = {m["id"] for m in real_metrics}
        seen_article_ids = {a["id"] for a in real_articles}
        buffers: dict[str, Rows] = {
            name: []
            for name in (
                "document",
                "article",
                "article_contributor",
                "article_organisation",
                "article_initiative",
                "metric",
            )
        }
        article_no = 0
        metric_no = 0
        for d in range(n_docs):
            year = 2018 + d * 7 // n_docs
            month = 1 + (d * 7 * 12 // n_docs) % 12
            doc_id = f"lishui-{year}-{month:02d}-page-{_base36(d)}"
            doc = TextBuilder()
            add, new_paragraph = doc.add, doc.new_paragraph
            doc_articles: Rows = []
            doc_metrics: Rows = []

            for position in range(1, per_doc + 1):
                if article_no >= n_articles:
                    break
                template = rng.choice(real_articles)
                region = self._pick(real_articles, "region_id")
                words = [self._region_word(region), rng.choice(self.vocab.clauses)]
                headline = "".join(words)
                if rng.random() < 0.4:
                    headline += " " + rng.choice(self.vocab.clauses)
                aid = self._unique(
                    seen_article_ids,
                    f"{self.vocab.slug(*words, max_syllables=5)}-{_base36(article_no)}",
                )
                people = rng.sample(
                    range(len(self.contributor_ids)),
                    k=min(len(self.contributor_ids), 1 + rng.randrange(4)),
                )
                byline = "本报讯(记者 " + " ".join(self.contributor_names[p] for p in people) + ")"
                if doc.offset:
                    add("\n\n")
                start, _ = add(headline)
                for line in (template["kicker"], byline):
                    if line:
                        add("\n\n" + line)
                add("\n\n")
                new_paragraph()
                body: list[str] = []
                # First paragraph: running text naming its organisations and initiatives.
                mentions: list[tuple[str, str, str, int, int]] = []
                add(rng.choice(self.vocab.clauses) + "，")
                orgs = {
                    rng.randrange(len(self.org_ids)) for _ in range(rng.choice((0, 1, 2, 3, 4)))
                }
                inits = {
                    rng.randrange(len(self.initiative_ids)) for _ in range(1 + rng.randrange(5))
                }
                for table, ids, names, picks in (
                    ("article_organisation", self.org_ids, self.org_names, orgs),
                    ("article_initiative", self.initiative_ids, self.initiative_names, inits),
                ):
                    for k in sorted(picks):
                        s, e = add(names[k])
                        add("、")
                        mentions.append((table, ids[k], names[k], s, e))
                add(rng.choice(self.vocab.clauses) + "。")
                body.append(new_paragraph())
                # Then the paragraphs stating its figures, four to a paragraph.
                n = counts[article_no]
                previous: str | None = None
                for k in range(n):
                    if k % 4 == 0:
                        if k:
                            body.append(new_paragraph())
                        add("\n\n")
                        new_paragraph()
                    m = rng.choice(real_metrics)
                    qualifier = self._pick(real_metrics, "qualifier")
                    period = self._pick(real_metrics, "period")
                    m_region = self._pick(real_metrics, "region_id")
                    value, raw = self._value(m, qualifier)
                    pieces = self._subject(m_region, m)
                    subject = "".join(pieces)
                    lead = (period or "") + rng.choice(self.vocab.clauses)
                    quote = f"{lead}，{subject}{raw}"
                    s, e = add(quote)
                    add("。")
                    mid = f"{self.vocab.slug(*pieces, max_syllables=6)}-{_base36(metric_no)}"
                    if mid in seen_metric_ids:
                        mid = self._unique(seen_metric_ids, mid)
                    doc_metrics.append(
                        (
                            mid,
                            aid,
                            doc_id,
                            subject,
                            self._pick(real_metrics, "subject_en"),
                            m["kind"],
                            raw,
                            value,
                            m["unit"],
                            qualifier,
                            rng.random() < 7 / 111,
                            period,
                            m_region,
                            rng.choice(self.initiative_ids)
                            if rng.random() < p_initiative
                            else None,
                            rng.choice(self.org_ids) if rng.random() < p_org else None,
                            previous if m["kind"] == "growth" else None,
                            quote,
                            s,
                            e,
                            rng.choice(notes_json),
                            rng.choice(no_period_json) if period is None else "{}",
                        )
                    )
                    previous = mid
                    metric_no += 1
                if n:
                    body.append(new_paragraph())
                end = doc.offset
                doc_articles.append(
                    (
                        aid,
                        doc_id,
                        position,
                        template["kind"],
                        template["section"],
                        template["kicker"],
                        headline,
                        template["subheadline"],
                        byline,
                        region,
                        start,
                        end,
                        _jdump(body),
                        _jdump([]),
                        template["continued_on"],
                        _jdump([]),
                        _jdump(template["null_reasons"]),
                    )
                )
                for rank, p in enumerate(people):
                    role = rng.choice(roles) if rank else "reporter"
                    buffers["article_contributor"].append(
                        (aid, self.contributor_ids[p], role, None, rank)
                    )
                for table, target_id, quote, s, e in mentions:
                    buffers[table].append((aid, target_id, quote, s, e))
                article_no += 1
            text = doc.text()
            buffers["document"].append(
                (
                    doc_id,
                    f"synthetic/{doc_id}.txt",
                    None,
                    None,
                    hashlib.sha256(text.encode()).hexdigest(),
                    len(text),
                    text,
                    f"{year}-{month:02d}",
                    "month",
                    _jdump([]),
                    _jdump(["Synthetic benchmark document (bench/generate.py)."]),
                    _jdump(
                        {
                            "title": "Synthetic document: no title.",
                            "publisher": "Synthetic document: no publisher.",
                        }
                    ),
                )
            )
            buffers["article"].extend(doc_articles)
            buffers["metric"].extend(doc_metrics)
            if len(buffers["metric"]) >= BATCH or d == n_docs - 1:
                for name, rows in buffers.items():
                    if rows:
                        yield name, rows
                        buffers[name] = []

    def stream(self) -> Iterator[tuple[str, Rows]]:
        yield from self.contributors()
        yield from self.organisations()
        yield from self.initiatives()
        yield from self.documents_articles_metrics()


COLUMNS: dict[str, tuple[str, ...]] = {
    "contributor": ("id", "name"),
    "organisation": (
        "id",
        "name",
        "name_en",
        "kind",
        "region_id",
        "parent_id",
        "aliases",
        "notes",
        "null_reasons",
    ),
    "initiative": (
        "id",
        "name",
        "name_en",
        "kind",
        "summary",
        "region_id",
        "parent_id",
        "aliases",
        "notes",
        "null_reasons",
    ),
    "initiative_organisation": ("initiative_id", "organisation_id", "role"),
    "document": (
        "id",
        "source",
        "title",
        "publisher",
        "sha256",
        "char_count",
        "text",
        "date_estimate",
        "date_precision",
        "date_basis",
        "notes",
        "null_reasons",
    ),
    "article": (
        "id",
        "document_id",
        "position",
        "kind",
        "section",
        "kicker",
        "headline",
        "subheadline",
        "byline",
        "region_id",
        "span_start",
        "span_end",
        "body",
        "repairs",
        "continued_on",
        "notes",
        "null_reasons",
    ),
    "article_contributor": ("article_id", "contributor_id", "role", "staff_title", "position"),
    "article_organisation": ("article_id", "organisation_id", "quote", "span_start", "span_end"),
    "article_initiative": ("article_id", "initiative_id", "quote", "span_start", "span_end"),
    "metric": (
        "id",
        "article_id",
        "document_id",
        "subject",
        "subject_en",
        "kind",
        "raw",
        "value",
        "unit",
        "qualifier",
        "cumulative",
        "period",
        "region_id",
        "initiative_id",
        "organisation_id",
        "growth_of_id",
        "quote",
        "span_start",
        "span_end",
        "notes",
        "null_reasons",
    ),
}


def check_columns(table: str, db_columns: dict[str, bool]) -> None:
    """db_columns: name -> required (NOT NULL without default). Fail loudly on schema drift."""
    ours = set(COLUMNS[table])
    missing = ours - set(db_columns)
    if missing:
        raise SystemExit(
            f"{table}: the schema no longer has {sorted(missing)}; update bench/generate.py"
        )
    required = sorted(name for name, req in db_columns.items() if req and name not in ours)
    if required:
        raise SystemExit(f"{table}: new required column(s) {required}; update bench/generate.py")
    extra = sorted(set(db_columns) - ours)
    if extra:
        print(f"  note: {table}.{', '.join(extra)} left at their defaults", file=sys.stderr)


# ---------------------------------------------------------------- search index rows

SEARCH_TABLE = "search_entry"
_SEARCHABLE = {"article", "initiative", "organisation", "metric"}
_JSON_LISTS = ("body", "aliases")


def search_entry_builder() -> Any:
    """The loader's `search_entries` when the service has full-text search, else None.

    Using the loader's own function means the synthetic rows are searchable exactly as the
    real ones are, whatever fields the service decides to index. (It moved from service.seed
    to service.curation.index with issue #12; the old import failed silently and left the
    synthetic rows out of the search index.)"""
    try:
        from service.curation.index import search_entries
    except ImportError:
        return None
    return search_entries


def with_search_entries(
    stream: Iterator[tuple[str, Rows]], build: Any
) -> Iterator[tuple[str, Rows]]:
    columns: tuple[str, ...] | None = None
    for table, rows in stream:
        yield table, rows
        if build is None or table not in _SEARCHABLE or not rows:
            continue
        records = []
        for row in rows:
            record = dict(zip(COLUMNS[table], row, strict=True))
            for key in _JSON_LISTS:
                if isinstance(record.get(key), str):
                    record[key] = json.loads(record[key])
            records.append(record)
        entries = build({name: records if name == table else [] for name in _SEARCHABLE})
        if columns is None and entries:
            columns = tuple(entries[0])
            COLUMNS[SEARCH_TABLE] = columns
        assert columns is not None
        yield SEARCH_TABLE, [tuple(entry[c] for c in columns) for entry in entries]


# ---------------------------------------------------------------- schema + real data


def migrate_and_seed(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    for args in (["-m", "alembic", "upgrade", "head"], ["-m", "service.seed", "load"]):
        subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True)


def _progress(table: str, done: dict[str, int], started: float) -> None:
    if table == "metric" and done["metric"] % 100_000 < BATCH:
        print(
            f"  {done['metric']:>9,} metrics, {done['article']:,} articles "
            f"({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
        )


# ---------------------------------------------------------------- SQLite


def build_sqlite(path: Path, scale: Scale, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.db")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    started = time.monotonic()
    print(f"generating {path.name} ({scale})", file=sys.stderr)
    migrate_and_seed(f"sqlite+aiosqlite:///{tmp}")

    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.row_factory = sqlite3.Row
    # No journal during the load (a failed load leaves only the .tmp file, rebuilt next time);
    # the finished file is switched to WAL, as the service runs it.
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "foreign_keys=OFF",
        "cache_size=-262144",
        "temp_store=MEMORY",
    ):
        conn.execute(f"PRAGMA {pragma}")
    rows = {table: [dict(r) for r in conn.execute(sql)] for table, sql in TEMPLATE_QUERIES.items()}
    templates = Templates.from_rows(rows)
    for table in TABLES:
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        check_columns(
            table, {r["name"]: bool(r["notnull"]) and r["dflt_value"] is None for r in info}
        )
    has_search = bool(
        conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (SEARCH_TABLE,)).fetchone()
    )
    build = search_entry_builder() if has_search else None
    tables = (*TABLES, SEARCH_TABLE) if build else TABLES
    marks = ",".join("?" * len(tables))
    # Indexes and triggers (FTS sync) are dropped for the load and recreated from their own
    # DDL afterwards; external-content FTS5 tables are then rebuilt in one pass.
    ddl = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
        tables,
    ).fetchall()
    fts = [
        r["name"]
        for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        if re.search(r"using\s+fts5", r["sql"] or "", re.I)
        and re.search(rf"content\s*=\s*['\"]?({'|'.join(tables)})\b", r["sql"])
    ]
    conn.execute("BEGIN")
    for item in ddl:
        conn.execute(f'DROP {item["type"].upper()} "{item["name"]}"')
    done = dict.fromkeys(tables, 0)
    stream = with_search_entries(Synth(templates, scale, seed).stream(), build)
    for table, batch in stream:
        columns = COLUMNS[table]
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(format(v, "f") if isinstance(v, Decimal) else v for v in row) for row in batch],
        )
        done[table] += len(batch)
        _progress(table, done, started)
    print(f"  loaded in {time.monotonic() - started:.0f} s; indexing", file=sys.stderr)
    for item in ddl:
        conn.execute(item["sql"])
    for name in fts:
        conn.execute(f"INSERT INTO {name}({name}) VALUES ('rebuild')")
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    conn.close()
    # Older generations of the same size are superseded (each full-size file is ~1.5 GB).
    for stale in DATA_DIR.glob(f"{_prefix(scale)}*.db*"):
        if stale.name.startswith(path.name) or stale.name.startswith(tmp.name):
            continue
        if _prefix(scale) == "lishui-bench-" and stale.name.startswith("lishui-bench-m"):
            continue
        stale.unlink()
    tmp.rename(path)
    print(
        f"  done in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items()),
        file=sys.stderr,
    )


def ensure_sqlite(scale: Scale = Scale(), seed: int = DEFAULT_SEED, *, force: bool = False) -> Path:
    path = sqlite_path(scale, seed)
    if force or not path.exists():
        build_sqlite(path, scale, seed)
    return path


# ---------------------------------------------------------------- PostgreSQL


def _asyncpg_dsn(url: str) -> str:
    return re.sub(r"^postgresql\+asyncpg://", "postgresql://", url)


def _database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    if not name:
        raise SystemExit(f"no database name in {url!r}")
    return name


async def _ensure_postgres(url: str, scale: Scale, seed: int, force: bool) -> bool:
    import asyncpg  # type: ignore[import-untyped]

    name = _database_name(url)
    if name in PG_FORBIDDEN or name.startswith("test"):  # CI's and the test suites' databases
        raise SystemExit(f"refusing to load benchmark data into the {name!r} database")
    # The marker (the database's comment) is written last, after the load, the indexes and
    # VACUUM ANALYZE: a database carrying this exact marker is complete for this key.
    key = f"{PG_MARKER} {cache_key(scale, seed)} alembic={alembic_head()} metrics={scale.metrics}"
    dsn = _asyncpg_dsn(url)
    admin_dsn = dsn.rsplit("/", 1)[0] + "/postgres"
    admin = await asyncpg.connect(admin_dsn)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
        comment = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            name,
        )
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        if comment == key and not force:
            try:
                populated = await conn.fetchval("SELECT EXISTS(SELECT 1 FROM metric)")
            except asyncpg.PostgresError:  # marked, but the tables were dropped since
                populated = False
            if populated:
                return False
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        if tables and not (comment or "").startswith(PG_MARKER):
            raise SystemExit(
                f"database {name!r} has tables but no {PG_MARKER!r} marker: not ours, not touching it"
            )
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()

    started = time.monotonic()
    print(f"generating into PostgreSQL {name} ({scale})", file=sys.stderr)
    migrate_and_seed(url)
    conn = await asyncpg.connect(dsn)
    try:
        rows = {
            table: [dict(r) for r in await conn.fetch(sql)]
            for table, sql in TEMPLATE_QUERIES.items()
        }
        templates = Templates.from_rows(rows)
        for table in TABLES:
            info = await conn.fetch(
                "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = $1",
                table,
            )
            check_columns(
                table,
                {
                    r["column_name"]: r["is_nullable"] == "NO" and r["column_default"] is None
                    for r in info
                },
            )
        has_search = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", SEARCH_TABLE)
        build = search_entry_builder() if has_search else None
        tables = (*TABLES, SEARCH_TABLE) if build else TABLES
        indexes = await conn.fetch(
            "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS sql FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = 'public' AND t.relname = ANY($1::text[]) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
            list(tables),
        )
        async with conn.transaction():
            # Skip FK triggers during the bulk copy (the rows are consistent by construction).
            await conn.execute("SET LOCAL session_replication_role = replica")
            for index in indexes:
                await conn.execute(f'DROP INDEX "{index["name"]}"')
            done = dict.fromkeys(tables, 0)
            stream = with_search_entries(Synth(templates, scale, seed).stream(), build)
            for table, batch in stream:
                await conn.copy_records_to_table(table, records=batch, columns=list(COLUMNS[table]))
                done[table] += len(batch)
                _progress(table, done, started)
            print(f"  loaded in {time.monotonic() - started:.0f} s; indexing", file=sys.stderr)
            for index in indexes:
                await conn.execute(index["sql"])
        # What autovacuum would have done by the time a real database serves traffic: planner
        # statistics, and the visibility map that lets counts use index-only scans.
        await conn.execute("VACUUM ANALYZE")
        await conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{key}'")
    finally:
        await conn.close()
    print(f"  done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return True


def ensure_postgres(
    url: str, scale: Scale = Scale(), seed: int = DEFAULT_SEED, *, force: bool = False
) -> bool:
    """Build the benchmark data into `url` unless it already holds this key. True if built."""
    return asyncio.run(_ensure_postgres(url, scale, seed, force))


# ---------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="also build into this PostgreSQL URL (default: $BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    scale = replace(Scale()).times(args.scale)
    if not args.no_sqlite:
        print(ensure_sqlite(scale, args.seed, force=args.force))
    if args.postgres:
        built = ensure_postgres(args.postgres, scale, args.seed, force=args.force)
        print(f"{_database_name(args.postgres)}: {'built' if built else 'up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
