"""`python -m service.seed report`: numbers and quoted names the curated data does not account
for. Both sections are empty on the current data; removing one quoted name's entry from
seed/pending/quoted-names.yaml (or breaking its disposition) makes the report list it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.seed import SEED_DIR, read_curated, uncovered_numbers, uncovered_quoted_names
from service.seed.__main__ import main

SLOGAN = ("lishui-2022-08-page", 173, 177)  # “跨山”, excluded as a slogan
Entry = dict[str, Any]


def pending_copy(tmp_path: Path, change: Callable[[list[Entry]], list[Entry]]) -> Path:
    """The seed dir with quoted-names.yaml's entries changed."""
    seed = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed, ignore=shutil.ignore_patterns("sources"))
    (seed / "sources").symlink_to(SEED_DIR / "sources")
    path = seed / "pending" / "quoted-names.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["quoted_names"] = change(data["quoted_names"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return seed


def at_slogan(entry: Entry) -> bool:
    return (entry["document"], *entry["span"]) == SLOGAN


def edit_slogan(**changes: Any) -> Callable[[list[Entry]], list[Entry]]:
    def change(entries: list[Entry]) -> list[Entry]:
        out = []
        for entry in entries:
            if at_slogan(entry):
                entry = {k: v for k, v in (entry | changes).items() if v is not None}
            out.append(entry)
        return out

    return change


def test_the_report_is_empty_on_the_current_data(capsys: pytest.CaptureFixture[str]) -> None:
    curated = read_curated()
    assert uncovered_numbers(curated) == []
    assert uncovered_quoted_names(curated) == []
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert "0 number(s) not covered" in out
    assert "0 quoted name(s) not covered" in out


@pytest.mark.parametrize(
    "change",
    [
        lambda entries: [e for e in entries if not at_slogan(e)],  # the entry removed
        edit_slogan(excluded="pun"),  # a reason not in the vocabulary
        edit_slogan(note=None),  # an exclusion without a note
        edit_slogan(excluded=None),  # neither record nor exclusion
        edit_slogan(span=[174, 178]),  # not the quote at its span
        edit_slogan(excluded=None, record={"resource": "people", "id": "no-such-person"}),
    ],
)
def test_a_quoted_name_without_coverage_is_listed(
    tmp_path: Path, change: Callable[[list[Entry]], list[Entry]]
) -> None:
    missing = uncovered_quoted_names(read_curated(pending_copy(tmp_path, change)))
    assert [(doc, start, end) for doc, start, end, _ in missing] == [SLOGAN]
    assert "“跨山”" in missing[0][3]


def test_a_record_entry_covers_its_span(tmp_path: Path) -> None:
    change = edit_slogan(excluded=None, note=None, record={"resource": "people", "id": "liu-wei"})
    assert uncovered_quoted_names(read_curated(pending_copy(tmp_path, change))) == []
