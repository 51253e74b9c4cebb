"""The coverage report (numbers in the sources no metric or exclusion accounts for) and
`locate` (the spans of a quote in a source file)."""

from __future__ import annotations

from pathlib import Path

from service.curation.rules import squash
from service.quantity import find_numbers
from service.seed.reader import SEED_DIR, Curated


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
