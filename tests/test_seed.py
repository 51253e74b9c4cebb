"""The seed loader: validation against the sources, idempotency, deletions, coverage."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from service.db import create_engine
from service.seed import SEED_DIR, SeedError, load, read_curated, uncovered_numbers
from tests.conftest import fresh_database


def copy_seed(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    return target


def page_files(seed_dir: Path) -> list[Path]:
    return sorted(p for p in (seed_dir / "curated").glob("*.yaml") if p.name != "regions.yaml")


def edit_page(seed_dir: Path, change: Any) -> None:
    path = page_files(seed_dir)[0]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def count(url: str, table: str) -> int:
    async def run() -> int:
        engine = create_engine(url, pool=False)
        async with engine.connect() as conn:
            value = (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()
        await engine.dispose()
        return int(value)

    return asyncio.run(run())


class TestCuratedData:
    def test_curated_files_validate(self) -> None:
        curated = read_curated()
        assert len(curated.tables["article"]) >= 14
        assert len(curated.tables["metric"]) >= 100

    def test_coverage_report_is_empty(self) -> None:
        assert uncovered_numbers(read_curated()) == []


class TestValidation:
    def test_wrong_span_is_rejected(self, tmp_path: Path) -> None:
        seed_dir = copy_seed(tmp_path)
        edit_page(
            seed_dir,
            lambda d: d["metrics"][0]["span"].__setitem__(0, d["metrics"][0]["span"][0] + 1),
        )
        with pytest.raises(SeedError, match="not the quote"):
            read_curated(seed_dir)

    def test_value_must_match_the_parser(self, tmp_path: Path) -> None:
        seed_dir = copy_seed(tmp_path)
        edit_page(seed_dir, lambda d: d["metrics"][0].__setitem__("value", "12345"))
        with pytest.raises(SeedError, match="parser reads"):
            read_curated(seed_dir)

    def test_unknown_reference_is_rejected(self, tmp_path: Path) -> None:
        seed_dir = copy_seed(tmp_path)
        edit_page(seed_dir, lambda d: d["metrics"][0].__setitem__("region", "atlantis"))
        with pytest.raises(SeedError, match="unknown region 'atlantis'"):
            read_curated(seed_dir)


class TestLoader:
    def test_reload_changes_nothing(self, database_url: str) -> None:
        report = asyncio.run(load(database_url))
        assert not report.changed
        assert not report.inserted
        assert not report.updated
        assert not report.deleted

    def test_removed_record_is_deleted_and_restored(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'seed.db'}"
        fresh_database(url)
        seed_dir = copy_seed(tmp_path)
        first = asyncio.run(load(url, seed_dir))
        metrics = count(url, "metric")

        removed: dict[str, Any] = {}

        def drop_last_metric(data: dict[str, Any]) -> None:
            removed.update(data["metrics"].pop())
            for other in data["metrics"]:
                if other.get("growth_of") == removed["id"]:
                    other["growth_of"] = None

        edit_page(seed_dir, drop_last_metric)
        second = asyncio.run(load(url, seed_dir))
        assert second.changed
        assert second.version == first.version + 1
        assert second.deleted["metric"] == 1
        assert count(url, "metric") == metrics - 1

        shutil.rmtree(seed_dir)
        third = asyncio.run(load(url, copy_seed(tmp_path)))
        assert third.inserted["metric"] == 1
        assert count(url, "metric") == metrics
