"""Benchmark results: the targets of issue 6, the printed table, and the plot (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MB = 1024 * 1024
# issue 11: the installed command, start-up included, against the floor (same transfers, no processing)
TARGET_VS_FLOOR = 1.3
TARGET_RSS_MB = {"1m": 150, "1m-spaced": 150, "1m-indented": 150, "1m-10k-devices": 250}
TARGET_VS_IDEAL = 1.3  # many sites: at most 1.3x (requests / concurrency x latency)
TARGET_SMALL_S = 0.35  # 1k outages, one site, report stored: median wall time of the command
TARGET_STARTUP_S = 0.2  # `outagesync --help`


def targets_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets that apply to a case, each with its measured value and whether it is met."""
    name, ratios = case["name"], case["ratios"]
    found: list[dict[str, Any]] = []

    def target(what: str, value: float, limit: float, *, at_least: bool = False) -> None:
        met = value >= limit if at_least else value <= limit
        found.append({"target": what, "value": round(value, 3), "limit": limit, "met": met})

    if name.startswith(("1m", "100k")):
        target("ours / floor", ratios["ours_over_floor"], TARGET_VS_FLOOR)
    if name in TARGET_RSS_MB:
        target("peak RSS MB", case["ours"]["peak_rss_bytes"] / MB, TARGET_RSS_MB[name])
    if case["sites"] > 1:
        target("GET /outages per run", max(case["ours"]["get_outages_per_run"]), 1)
        target("ours / ideal", ratios["ours_over_ideal"], TARGET_VS_IDEAL)
    if name == "1k":
        target("command wall (s)", case["ours"]["median_s"], TARGET_SMALL_S)
    if name == "startup":
        target("outagesync --help (s)", case["ours"]["median_s"], TARGET_STARTUP_S)
    return found


def format_table(cases: list[dict[str, Any]]) -> str:
    head = (
        f"{'case':<16}{'outages':>10}{'ours s':>9}{'floor s':>9}{'plain s':>10}{'ours/floor':>11}"
        f"{'plain/ours':>11}{'outages/s':>11}{'RSS MB':>8}{'floor MB':>9}{'style':>10}"
        "  requests (ours, per run)"
    )
    lines = [head, "-" * len(head)]
    for case in cases:
        if case["name"] == "startup":
            continue
        ours, floor, plain, ratios = case["ours"], case["floor"], case["plain"], case["ratios"]
        plain_s = f"{plain['median_s']:.2f}" + ("*" if plain.get("extrapolated") else "")
        requests = ", ".join(f"{endpoint} {count}" for endpoint, count in ours["requests"].items())
        lines.append(
            f"{case['name']:<16}{case['outages']:>10,}{ours['median_s']:>9.2f}{floor['median_s']:>9.2f}"
            f"{plain_s:>10}{ratios['ours_over_floor']:>11.2f}{ratios['plain_over_ours']:>11.1f}"
            f"{ours['outages_per_s']:>11,.0f}{ours['peak_rss_bytes'] / MB:>8.0f}"
            f"{floor['peak_rss_bytes'] / MB:>9.0f}{case.get('json_style', 'compact'):>10}  {requests}"
        )
    notes = [case["plain"]["extrapolated"] for case in cases if case.get("plain", {}).get("extrapolated")]
    lines += [f"* plain: {note}" for note in notes]
    lines.append(
        "times: median wall time of each whole process, start-up to exit; ours is the installed "
        "`outagesync sync SITE...` (report stored in SQLite, table rendered)"
    )
    for case in cases:
        if case["name"] == "startup":
            lines.append(
                f"start-up: `outagesync --help` {case['ours']['median_s']:.3f} s "
                f"(bare `python -c pass`: {case['floor']['median_s']:.3f} s)"
            )
    return "\n".join(lines)


def format_targets(cases: list[dict[str, Any]]) -> str:
    lines = []
    for case in cases:
        for target in case["targets"]:
            sign = "<="
            verdict = "met" if target["met"] else "NOT MET"
            lines.append(
                f"{case['name']:<16}{target['target']:<24}{target['value']:>9.3g} {sign} "
                f"{target['limit']:<6g}{verdict}"
            )
    return "\n".join(lines)


def plot(cases: list[dict[str, Any]], path: Path) -> None:
    """Per case: wall time and peak RSS of ours, the floor and the plain script (log scales)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [c for c in cases if c["name"] != "startup"]
    fig, (times, memory) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = {"ours": "tab:blue", "floor": "tab:gray", "plain": "tab:red"}
    width = 0.27
    xs = range(len(shown))
    for offset, (who, color) in enumerate(colors.items()):
        at = [x + (offset - 1) * width for x in xs]
        times.bar(at, [c[who]["median_s"] for c in shown], width, color=color, label=who)
        memory.bar(at, [c[who]["peak_rss_bytes"] / MB for c in shown], width, color=color, label=who)
    for axis, title, unit in (
        (times, "wall time, start-up to exit (median)", "seconds"),
        (memory, "peak RSS", "MB"),
    ):
        axis.set_xticks(list(xs), [c["name"] for c in shown], rotation=30, ha="right")
        axis.set_yscale("log")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, axis="y", which="both", alpha=0.3)
        axis.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_table(cases: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, for docs/performance.md."""
    rows = [
        "| case | outages | style | ours s | floor s | plain s | ours / floor | plain / ours | peak RSS MB "
        "(floor) | requests (ours, one run) |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for case in cases:
        if case["name"] == "startup":
            continue
        ours, ratios = case["ours"], case["ratios"]
        plain = f"{case['plain']['median_s']:.2f}" + (" *" if case["plain"].get("extrapolated") else "")
        requests = ", ".join(f"{endpoint}: {count}" for endpoint, count in ours["requests"].items())
        times = f"{ours['median_s']:.2f} | {case['floor']['median_s']:.2f} | {plain}"
        speed = f"{ratios['ours_over_floor']:.2f} | {ratios['plain_over_ours']:.1f}"
        memory = f"{ours['peak_rss_bytes'] / MB:.0f} ({case['floor']['peak_rss_bytes'] / MB:.0f})"
        rows.append(
            f"| {case['name']} | {case['outages']:,} | {case.get('json_style', 'compact')} "
            f"| {times} | {speed} "
            f"| {memory} | {requests} |"
        )
    return "\n".join(rows) + "\n"
