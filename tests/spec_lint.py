"""Redocly CLI (recommended rules, `redocly.yaml`) and Spectral (`spectral:oas`, `.spectral.yaml`)
on `openapi/v1.json`, counted per rule against `openapi/lint-baseline.json`.

`make spec-tools` installs both from `tools/spec-lint/package-lock.json` (npm ci); neither needs
the network to lint (telemetry and update checks are off). The baseline holds the findings the
spec still has; a rule may only go down. After fixing findings,
`python -m tests.spec_lint --write-baseline` (`make lint-spec-baseline`) lowers the counts and
rewrites `openapi/lint-baseline.md`, the readable list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "v1.json"
TOOLS = ROOT / "tools" / "spec-lint"
BIN = TOOLS / "node_modules" / ".bin"
BASELINE = ROOT / "openapi" / "lint-baseline.json"
BASELINE_MD = ROOT / "openapi" / "lint-baseline.md"
# No usage data, update checks or colour codes: CI reaches the npm registry only.
QUIET = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "SCARF_ANALYTICS": "false",
    "NO_COLOR": "1",
}
SPECTRAL_SEVERITY = {0: "error", 1: "warn", 2: "info", 3: "hint"}

Counts = dict[str, dict[str, int]]  # tool → rule → findings


@dataclass(frozen=True, order=True)
class Finding:
    tool: str
    rule: str
    severity: str
    location: str  # a JSON pointer into the spec
    message: str


def run(command: list[str], ok_codes: tuple[int, ...]) -> str:
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **QUIET},
    )
    if result.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def redocly(spec: Path = SPEC) -> list[Finding]:
    command = [str(BIN / "redocly"), "lint", str(spec), "--config", str(ROOT / "redocly.yaml")]
    out = json.loads(run([*command, "--format=json"], ok_codes=(0, 1)))
    return [
        Finding(
            "redocly",
            p["ruleId"],
            p["severity"],
            p["location"][0]["pointer"] if p.get("location") else "#",
            p["message"],
        )
        for p in out["problems"]
    ]


def spectral(spec: Path = SPEC) -> list[Finding]:
    command = [str(BIN / "spectral"), "lint", str(spec), "--ruleset", str(ROOT / ".spectral.yaml")]
    out = json.loads(run([*command, "--format=json", "--quiet"], ok_codes=(0, 1)))
    return [
        Finding(
            "spectral",
            p["code"],
            SPECTRAL_SEVERITY.get(p["severity"], str(p["severity"])),
            "#/" + "/".join(str(k).replace("~", "~0").replace("/", "~1") for k in p["path"]),
            p["message"],
        )
        for p in out
    ]


def lint(spec: Path = SPEC) -> list[Finding]:
    """Both linters, side by side (each is mostly one Node process waiting on its own CPU)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(redocly, spec), pool.submit(spectral, spec)]
        return sorted(runs[0].result() + runs[1].result())


def count(findings: list[Finding]) -> Counts:
    counts: Counts = {"redocly": {}, "spectral": {}}
    for (tool, rule), n in sorted(Counter((f.tool, f.rule) for f in findings).items()):
        counts.setdefault(tool, {})[rule] = n
    return counts


def regressions(baseline: Counts, findings: list[Finding]) -> list[str]:
    """One line per rule with more findings than the baseline allows, naming the findings."""
    lines = []
    for tool, rules in count(findings).items():
        for rule, n in rules.items():
            allowed = baseline.get(tool, {}).get(rule, 0)
            if n > allowed:
                where = [
                    f"{f.location} ({f.message})"
                    for f in findings
                    if (f.tool, f.rule) == (tool, rule)
                ]
                lines.append(
                    f"{tool} {rule}: {n} findings, baseline {allowed}:\n  " + "\n  ".join(where)
                )
    return lines


def improvements(baseline: Counts, findings: list[Finding]) -> list[str]:
    current = count(findings)
    return [
        f"{tool} {rule}: baseline {allowed}, now {current.get(tool, {}).get(rule, 0)}"
        for tool, rules in baseline.items()
        for rule, allowed in rules.items()
        if current.get(tool, {}).get(rule, 0) < allowed
    ]


def markdown(findings: list[Finding]) -> str:
    counts = count(findings)
    lines = [
        "# OpenAPI lint baseline",
        "",
        "Findings that Redocly CLI (`redocly.yaml`: recommended) and Spectral (`.spectral.yaml`:",
        "`spectral:oas`) still report on `openapi/v1.json`. `openapi/lint-baseline.json` holds the",
        "counts per rule; `tests/test_spec_lint.py` fails when a rule has more findings than that, so",
        "the spec can only improve. Written by `make lint-spec-baseline`; the goal is an empty list.",
        "",
        "| tool | rule | severity | count |",
        "| --- | --- | --- | --- |",
    ]
    severity = {(f.tool, f.rule): f.severity for f in findings}
    for tool, rules in counts.items():
        lines += [f"| {tool} | `{r}` | {severity[(tool, r)]} | {n} |" for r, n in rules.items()]
    total = {tool: sum(rules.values()) for tool, rules in counts.items()}
    lines += ["", "Total: " + ", ".join(f"{tool} {n}" for tool, n in total.items()), ""]
    for tool, rules in counts.items():
        for rule in rules:
            lines += [f"## {tool} `{rule}`", ""]
            for f in (f for f in findings if (f.tool, f.rule) == (tool, rule)):
                lines.append(f"- `{f.location}`: {f.message}")
            lines.append("")
    return "\n".join(lines)


def write_baseline(findings: list[Finding]) -> None:
    BASELINE.write_text(json.dumps(count(findings), indent=2) + "\n")
    BASELINE_MD.write_text(markdown(findings))


def main(argv: list[str]) -> int:
    findings = lint()
    if "--write-baseline" in argv:
        write_baseline(findings)
    baseline: Counts = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    print(json.dumps(count(findings), indent=2))
    problems = regressions(baseline, findings)
    print("\n".join(problems) or "no rule above the baseline")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
