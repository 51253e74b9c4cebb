"""A PNG of a `make bench` result: rps and p99 per scenario and server (log scales).

    python -m bench.chart bench/results/<stamp>.json      # writes bench/results/<stamp>.png

Headless (matplotlib's Agg backend): no display needed. Hatched bars were measured on one
connection (too slow for 32: their p99 is a single request's latency, not queueing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SERVER_COLOURS = {
    "service": "#1f77b4",
    "service-nocache": "#9ecae1",
    "postgres": "#2ca02c",
    "postgres-nocache": "#a1d99b",
    "datasette": "#ff7f0e",
    "baseline": "#7f7f7f",
}


def _best(results: Sequence[dict[str, Any]], server: str, scenario: str) -> dict[str, Any] | None:
    ok = [
        r
        for r in results
        if r["server"] == server and r["scenario"] == scenario and r["status"] == "ok" and r["rps"]
    ]
    return max(ok, key=lambda r: r["rps"]) if ok else None


def render(document: dict[str, Any], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = document["results"]
    order = list(SERVER_COLOURS)
    servers = sorted(
        {r["server"] for r in results} - {"baseline"}, key=lambda s: [*order, s].index(s)
    )
    scenarios = [s for s in dict.fromkeys(r["scenario"] for r in results) if s != "list50"]
    width = 0.8 / max(1, len(servers))
    fig, axes = plt.subplots(2, 1, figsize=(max(10, 1.3 * len(scenarios)), 9), sharex=True)
    for k, server in enumerate(servers):
        colour = SERVER_COLOURS.get(server, f"C{k}")
        for scenario_index, scenario in enumerate(scenarios):
            r = _best(results, server, scenario)
            if r is None:
                continue
            x = scenario_index - 0.4 + width * (k + 0.5)
            hatch = "//" if r.get("mode") == "sequential" else None
            for ax, value in ((axes[0], r["rps"]), (axes[1], r["p99_ms"])):
                ax.bar(x, value, width, color=colour, hatch=hatch, edgecolor="black", lw=0.3)
        axes[0].bar(0, 0, 0, color=colour, label=server)  # one legend entry per server
    # The bare Litestar list is one constant endpoint: a reference line, not a scenario.
    lists = [r for r in results if r["server"] == "baseline" and r["status"] == "ok" and r["rps"]]
    if lists:
        rps = max(r["rps"] for r in lists)
        p99 = min(r["p99_ms"] for r in lists)
        grey = SERVER_COLOURS["baseline"]
        axes[0].axhline(rps, color=grey, ls="--", lw=1, label=f"bare list {rps:,.0f}")
        axes[0].axhline(0.8 * rps, color=grey, ls=":", lw=1, label="80 % of it")
        axes[1].axhline(p99, color=grey, ls="--", lw=1, label=f"bare list p99 {p99:.1f} ms")
        axes[1].axhline(3 * p99, color=grey, ls=":", lw=1, label="3x it")
        axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    env = document.get("environment", {})
    wrk = env.get("wrk_config", {})
    load = ", ".join(f"{x:.1f}" for x in env.get("load_average_at_start", []))
    axes[0].set_title(
        f"make bench {document.get('timestamp', '')} (commit {env.get('commit', '?')}): "
        f"{wrk.get('duration', '?')} s per scenario, {wrk.get('connections', '?')} connections, "
        f"load average at start {load}",
        fontsize="medium",
    )
    axes[0].set_ylabel("requests / s (log)")
    axes[1].set_ylabel("p99 latency, ms (log)")
    for ax in axes:
        ax.set_yscale("log")
        ax.grid(axis="y", which="major", alpha=0.4)
    axes[1].set_xticks(range(len(scenarios)), scenarios, rotation=20, ha="right")
    axes[0].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[1].annotate(
        "hatched: measured on 1 connection (too slow per request for 32 in the time)",
        (0.01, 0.97),
        xycoords="axes fraction",
        va="top",
        fontsize="small",
    )
    fig.tight_layout()
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.chart RESULT.json")
    path = Path(args[0])
    print(render(json.loads(path.read_text()), path.with_suffix(".png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
