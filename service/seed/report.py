"""The coverage report (numbers in the sources no metric or exclusion accounts for; quoted
names no record or exclusion accounts for) and `locate` (the spans of a quote in a source
file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from service.curation.rules import span_problem, squash
from service.quantity import find_numbers
from service.seed.reader import SEED_DIR, Curated

# Every quotation span's disposition (seed/FORMAT.md, quoted-name-coverage).
QUOTED_NAMES = Path("pending") / "quoted-names.yaml"
RECOGNITIONS = Path("pending") / "recognitions.yaml"
EXCLUSION_REASONS = (
    "speech", "question", "slogan", "metaphor", "term", "series", "variety", "spirit",
    "collective_label",
)  # fmt: skip
PAIRS = {"“": "”", "‘": "’", "《": "》"}
QUOTE_MARKS = "“”‘’《》"
# Tables whose rows are named records, and those whose rows are mentions (quote + span).
NAMED = ("region", "organisation", "initiative", "person", "place")
MENTIONS = ("article_organisation", "article_initiative", "person_mention", "place_mention")


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


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Every “…”, ‘…’ and 《…》 span, nested ones included; an unclosed mark as the mark alone."""
    out: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in PAIRS:
            stack.append((ch, i))
        elif stack and ch == PAIRS[stack[-1][0]]:
            out.append((stack.pop()[1], i + 1))
    out += [(start, start + 1) for _, start in stack]
    return sorted(out)


def _rows(path: Path, key: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    rows = data.get(key) if isinstance(data, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _records(curated: Curated) -> dict[str, set[str]]:
    """Record ids by resource name (the API's plural), recognitions (pending) included."""
    from service.resources.registry import RESOURCES

    ids = {r.name: {row["id"] for row in curated.tables.get(r.singular, [])} for r in RESOURCES}
    ids["recognitions"] = {
        str(r.get("id")) for r in _rows(curated.seed_dir / RECOGNITIONS, "recognitions")
    }
    return ids


def _dispositions(curated: Curated) -> Iterator[tuple[str, int, int]]:
    """The spans quoted-names.yaml accounts for: a quote at its span that is an existing record
    or an exclusion with a reason from the vocabulary and a note."""
    ids = _records(curated)
    for row in _rows(curated.seed_dir / QUOTED_NAMES, "quoted_names"):
        text = curated.sources.get(str(row.get("document")))
        if text is None or span_problem(text, row.get("quote"), row.get("span")) is not None:
            continue
        record = row.get("record")
        if isinstance(record, dict):
            ok = record.get("id") in ids.get(str(record.get("resource")), set())
        else:
            ok = row.get("excluded") in EXCLUSION_REASONS and bool(row.get("note"))
        if ok:
            yield row["document"], row["span"][0], row["span"][1]


def _named(curated: Curated) -> tuple[set[str], set[tuple[str, int, int]]]:
    """Every record's name and alias (without quotation marks), and every mention's span."""
    names = set()
    for table in NAMED:
        for row in curated.tables.get(table, []):
            for form in [row.get("name"), *(row.get("aliases") or [])]:
                if isinstance(form, str):
                    names.add(squash(form.strip(QUOTE_MARKS)))
    document = {a["id"]: a["document_id"] for a in curated.tables.get("article", [])}
    spans = {
        (document.get(row["article_id"], ""), row["span_start"], row["span_end"])
        for table in MENTIONS
        for row in curated.tables.get(table, [])
    }
    return names, spans


def uncovered_quoted_names(curated: Curated) -> list[tuple[str, int, int, str]]:
    """Quotation spans in the sources (“…”, ‘…’, 《…》) that are neither a record (a name or
    alias of one, a mention's quote, or a `record` in seed/pending/quoted-names.yaml) nor an
    exclusion there with a reason and a note."""
    listed = set(_dispositions(curated))
    names, mentions = _named(curated)
    missing = []
    for doc_id, text in curated.sources.items():
        for start, end in quoted_spans(text):
            if (doc_id, start, end) in listed or (doc_id, start, end) in mentions:
                continue
            if (doc_id, start + 1, end - 1) in mentions:
                continue
            bare = squash(text[start:end].strip(QUOTE_MARKS))
            if bare and bare in names:
                continue
            missing.append((doc_id, start, end, repr(text[start:end][:30])))
    return missing


def locate(source: str, quote: str, seed_dir: Path = SEED_DIR) -> list[tuple[int, int]]:
    text = (seed_dir / "sources" / source).read_text(encoding="utf-8")
    spans, start = [], text.find(quote)
    while start >= 0:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    return spans
