"""The shared curation rules, the field map and the loader's use of them, without HTTP."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from service.curation.fields import FieldMap
from service.curation.rules import Facts, common_problems, span_problem, unique_name_problems
from service.resources import articles, metrics, organisations
from service.seed.reader import as_body, read_curated
from service.seed.sync import content_hash
from tests.test_seed import copy_seed, edit_page

TEXT = "丽水市强村公司利润1.34亿元。"


def facts() -> Facts:
    return Facts(
        ids={"region": {"li-shui-shi"}, "organisation": {"a", "b"}},
        names={"organisation": {"甲": ["a"]}},
        texts={"doc": TEXT},
        articles={"art": ("doc", 0, len(TEXT))},
    )


def metric_wire(**changes: Any) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "article": "art",
        "subject": "利润",
        "kind": "money",
        "raw": "1.34亿元",
        "value": "134000000",
        "quote": "利润1.34亿元",
        "span": {"start": 7, "end": 15},
        "subject_en": None,
        "unit": "元",
        "qualifier": None,
        "cumulative": False,
        "period": None,
        "unit_normalised": None,
        "counted": None,
        "per": None,
        "per_basis": [],
        "region": "li-shui-shi",
        "initiative": None,
        "organisation": None,
        "growth_of": None,
        "notes": [],
        "null_reasons": {},
    }
    return wire | changes


def metric_problems(wire: dict[str, Any]) -> list[tuple[str, str]]:
    write = metrics.WRITE
    ctx = facts()
    problems = common_problems(
        wire, ctx, kinds=write.kinds, nullable=write.nullable, references=write.references
    )
    return problems + write.rules(wire, ctx, "m")


def test_a_valid_metric_has_no_problems() -> None:
    assert metric_problems(metric_wire()) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "cuont"}, "kind"),
        ({"region": "atlantis"}, "region"),
        ({"span": {"start": 8, "end": 15}}, "span"),
        ({"value": "134000001"}, "value"),
        ({"raw": "2亿元"}, "raw"),
        ({"growth_of": "m"}, "growth_of"),
        ({"article": "nope"}, "article"),
        ({"null_reasons": {"kind": "x"}}, "null_reasons"),
    ],
)
def test_each_broken_rule_names_its_field(changes: dict[str, Any], field: str) -> None:
    assert field in {name for name, _ in metric_problems(metric_wire(**changes))}


def test_unique_names_and_parents() -> None:
    wire = {"name": "甲", "parent": "b"}
    assert [n for n, _ in unique_name_problems("organisation", wire, facts(), "b")] == [
        "name",
        "parent",
    ]
    assert unique_name_problems("organisation", wire, facts(), "a") == []


def test_span_problem_hints_where_the_quote_is() -> None:
    assert span_problem(TEXT, "利润", [0, 2]) is not None
    assert "found at [7, 9]" in (span_problem(TEXT, "利润", [0, 2]) or "")


def test_field_map_round_trip() -> None:
    fields = FieldMap(metrics.METRICS.table, metrics.MetricIn)
    columns = fields.columns(metric_wire())
    assert columns["span_start"] == 7
    assert columns["region_id"] == "li-shui-shi"
    assert columns["value"] == Decimal("134000000")
    row = {"id": "m", **columns}
    assert fields.in_view(row) == {"id": "m", **metric_wire()}


def test_json_column_spans_are_stored_as_pairs() -> None:
    fields = FieldMap(articles.ARTICLES.table, articles.ArticleIn)
    repair = {"span": {"start": 1, "end": 2}, "note": "joined"}
    wire = dict.fromkeys(articles.ArticleIn.__struct_fields__) | {
        "span": {"start": 0, "end": 5},
        "repairs": [repair],
        "body": [],
        "notes": [],
        "null_reasons": {},
    }
    columns = fields.columns(wire)
    assert columns["repairs"] == [{"span": [1, 2], "note": "joined"}]
    assert fields.in_view({"id": "a", **columns})["repairs"] == [repair]


def test_yaml_records_become_create_bodies() -> None:
    record = {"id": "x", "name": "甲", "kind": "bank", "region": None, "region_null_reason": "r"}
    body = as_body(record, organisations.WRITE, "doc")
    assert body == {
        "id": "x",
        "name": "甲",
        "kind": "bank",
        "region": None,
        "null_reasons": {"region": "r"},
    }
    article = as_body({"id": "a", "span": [1, 2]}, articles.WRITE, "doc")
    assert article == {"id": "a", "span": {"start": 1, "end": 2}, "document": "doc"}


def test_the_loader_checks_kinds_like_the_api(tmp_path: Path) -> None:
    """A kind typo used to load and then be impossible to patch."""
    from service.seed import SeedError

    seed_dir = copy_seed(tmp_path)
    edit_page(seed_dir, lambda d: d["metrics"][0].__setitem__("kind", "cuont"))
    with pytest.raises(SeedError, match="kind: expected one of"):
        read_curated(seed_dir)


def test_the_loader_decodes_with_the_write_bodies(tmp_path: Path) -> None:
    seed_dir = copy_seed(tmp_path)
    edit_page(seed_dir, lambda d: d["organisations"][0].__setitem__("aliases", "not a list"))
    from service.seed import SeedError

    with pytest.raises(SeedError, match="Expected `array`"):
        read_curated(seed_dir)


def test_curated_tables_are_stable() -> None:
    """Reading twice gives the same content (the dataset version depends on it)."""
    assert content_hash(read_curated().tables) == content_hash(read_curated().tables)
