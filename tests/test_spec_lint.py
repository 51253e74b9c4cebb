"""Redocly CLI and Spectral on `openapi/v1.json`: no rule may report more than the baseline in
`openapi/lint-baseline.json` (`tests/spec_lint.py`). `make spec-tools` installs both (npm ci)."""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import pytest

from tests.live_server import require_tool
from tests.spec_lint import (
    BASELINE,
    BASELINE_MD,
    BIN,
    TOOLS,
    Finding,
    improvements,
    lint,
    redocly,
    regressions,
    spectral,
)


@pytest.fixture(scope="module")
def linters() -> None:
    require_tool("node", "install Node.js to lint the OpenAPI spec")
    missing = [name for name in ("redocly", "spectral") if not (BIN / name).exists()]
    if missing:
        message = f"{', '.join(missing)} not installed in {BIN}: run `make spec-tools`"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run this test: `make test` installs them)")
        pytest.skip(message)


@pytest.mark.usefixtures("linters")
def test_spec_lint_findings_stay_within_the_baseline() -> None:
    findings = lint()
    baseline = json.loads(BASELINE.read_text())
    problems = regressions(baseline, findings)
    assert not problems, (
        "New OpenAPI lint findings (fix the spec; see openapi/lint-baseline.md):\n"
        + "\n".join(problems)
    )
    better = improvements(baseline, findings)
    if better:
        warnings.warn(
            "Fewer lint findings than the baseline; lower it with `make lint-spec-baseline`: "
            + "; ".join(better),
            stacklevel=1,
        )


@pytest.mark.usefixtures("linters")
def test_linters_report_what_the_baseline_guards_against(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.json"
    spec.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "t", "version": "1", "license": {"name": "MIT", "url": "u"}},
                "servers": [{"url": "http://127.0.0.1"}],
                "paths": {
                    "/a": {
                        "get": {
                            "operationId": "a",
                            "summary": "A",
                            "responses": {"200": {"description": "ok"}},
                        }
                    }
                },
            }
        )
    )
    assert {f.rule for f in redocly(spec)} >= {"security-defined", "operation-4xx-response"}
    assert "operation-description" in {f.rule for f in spectral(spec)}


def test_the_readable_baseline_lists_the_same_counts() -> None:
    rows = re.findall(r"^\| (\w+) \| `([\w-]+)` \| \w+ \| (\d+) \|$", BASELINE_MD.read_text(), re.M)
    listed: dict[str, dict[str, int]] = {}
    for tool, rule, n in rows:
        listed.setdefault(tool, {})[rule] = int(n)
    counts = {tool: rules for tool, rules in json.loads(BASELINE.read_text()).items() if rules}
    assert listed == counts, "run `make lint-spec-baseline` to rewrite openapi/lint-baseline.md"


def finding(tool: str, rule: str, location: str) -> Finding:
    return Finding(tool, rule, "warn", location, "m")


def test_only_a_rule_above_its_count_is_a_regression() -> None:
    baseline = {"redocly": {"security-defined": 2}, "spectral": {}}
    two = [finding("redocly", "security-defined", f"#/paths/{i}") for i in range(2)]
    assert regressions(baseline, two) == []
    three = [*two, finding("redocly", "security-defined", "#/paths/new")]
    assert len(regressions(baseline, three)) == 1
    assert "#/paths/new" in regressions(baseline, three)[0]
    new_rule = [finding("spectral", "operation-description", "#/paths/x")]
    assert regressions(baseline, new_rule)[0].startswith("spectral operation-description: 1")
    assert improvements(baseline, two[:1]) == ["redocly security-defined: baseline 2, now 1"]


def test_npm_tools_are_pinned_and_locked() -> None:
    package = json.loads((TOOLS / "package.json").read_text())
    lock = json.loads((TOOLS / "package-lock.json").read_text())
    for name, version in package["devDependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}@{version} is not pinned"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
