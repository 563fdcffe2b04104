"""Benchmark results: the targets of issue 6, the printed table, and the plot (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MB = 1024 * 1024
TARGET_VS_FLOOR = 2.0  # ours at most 2x the floor (1M outages, one site)
TARGET_VS_PLAIN = {"1m": 3.0, "1m-10k-devices": 20.0}  # ours at least this many times faster than plain
TARGET_RSS_VS_BODY = 2.5  # peak RSS at most 2.5x the /outages body
TARGET_VS_IDEAL = 1.3  # many sites: at most 1.3x (requests / concurrency x latency)
TARGET_STARTUP_S = 0.3  # `outagesync --help`


def targets_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets that apply to a case, each with its measured value and whether it is met."""
    name, ratios = case["name"], case["ratios"]
    found: list[dict[str, Any]] = []

    def target(what: str, value: float, limit: float, *, at_least: bool = False) -> None:
        met = value >= limit if at_least else value <= limit
        found.append({"target": what, "value": round(value, 3), "limit": limit, "met": met})

    if name in TARGET_VS_PLAIN:
        target("ours / floor", ratios["ours_over_floor"], TARGET_VS_FLOOR)
        target("plain / ours", ratios["plain_over_ours"], TARGET_VS_PLAIN[name], at_least=True)
        target("peak RSS / body", ratios["rss_over_body"], TARGET_RSS_VS_BODY)
    if case["sites"] > 1:
        target("GET /outages per run", max(case["ours"]["get_outages_per_run"]), 1)
        target("ours / ideal", ratios["ours_over_ideal"], TARGET_VS_IDEAL)
    if name == "startup":
        target("outagesync --help (s)", case["ours"]["median_s"], TARGET_STARTUP_S)
    return found


def format_table(cases: list[dict[str, Any]]) -> str:
    head = (
        f"{'case':<16}{'outages':>10}{'ours s':>9}{'floor s':>9}{'plain s':>10}{'ours/floor':>11}"
        f"{'plain/ours':>11}{'outages/s':>11}{'RSS MB':>8}{'RSS/body':>9}{'CLI s':>7}"
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
            f"{ratios['rss_over_body']:>9.2f}{case['cli']['process_s']:>7.2f}  {requests}"
        )
    notes = [case["plain"]["extrapolated"] for case in cases if case.get("plain", {}).get("extrapolated")]
    lines += [f"* plain: {note}" for note in notes]
    lines.append(
        "CLI s: one run of `outagesync sync SITE... --json`, start-up, report storage and JSON included"
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
            sign = ">=" if target["target"].startswith("plain") else "<="
            verdict = "met" if target["met"] else "NOT MET"
            lines.append(
                f"{case['name']:<16}{target['target']:<24}{target['value']:>9.3g} {sign} "
                f"{target['limit']:<6g}{verdict}"
            )
    return "\n".join(lines)


def plot(cases: list[dict[str, Any]], path: Path) -> None:
    """Time and peak RSS against the number of outages: ours, the floor and the plain script."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = sorted(
        (c for c in cases if c["name"] != "startup" and c["devices"] == 8 and c["sites"] == 1),
        key=lambda c: c["outages"],
    )
    many_devices = [c for c in cases if c["name"] == "1m-10k-devices"]
    fig, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.5))
    styles = {"ours": ("tab:blue", "o"), "floor": ("tab:gray", "s"), "plain": ("tab:red", "^")}
    for who, (color, marker) in styles.items():
        xs = [c["outages"] for c in series]
        times.plot(xs, [c[who]["median_s"] for c in series], marker=marker, color=color, label=who)
        memory.plot(
            xs, [c[who]["peak_rss_bytes"] / MB for c in series], marker=marker, color=color, label=who
        )
        for case in many_devices:
            times.scatter(
                [case["outages"]],
                [case[who]["median_s"]],
                marker=marker,
                facecolors="none",
                edgecolors=color,
                s=90,
            )
    if many_devices:
        times.scatter(
            [], [], marker="o", facecolors="none", edgecolors="black", label="1M, 10,000 devices (hollow)"
        )
    if series:
        xs = [c["outages"] for c in series]
        limit = [TARGET_RSS_VS_BODY * c["outages_body_bytes"] / MB for c in series]
        memory.plot(xs, limit, linestyle="--", color="tab:green", label="2.5 x /outages body")
    for axis, title, unit in ((times, "wall time (median)", "seconds"), (memory, "peak RSS", "MB")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("outages in GET /outages (8 devices, one site)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_table(cases: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, for docs/performance.md."""
    rows = [
        "| case | outages | ours s | floor s | plain s | ours / floor | plain / ours | peak RSS MB (x body) "
        "| CLI s | requests (ours, one run) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for case in cases:
        if case["name"] == "startup":
            continue
        ours, ratios = case["ours"], case["ratios"]
        plain = f"{case['plain']['median_s']:.2f}" + (" *" if case["plain"].get("extrapolated") else "")
        requests = ", ".join(f"{endpoint}: {count}" for endpoint, count in ours["requests"].items())
        times = f"{ours['median_s']:.2f} | {case['floor']['median_s']:.2f} | {plain}"
        speed = f"{ratios['ours_over_floor']:.2f} | {ratios['plain_over_ours']:.1f}"
        memory = f"{ours['peak_rss_bytes'] / MB:.0f} ({ratios['rss_over_body']:.2f})"
        rows.append(
            f"| {case['name']} | {case['outages']:,} | {times} | {speed} | {memory} "
            f"| {case['cli']['process_s']:.2f} | {requests} |"
        )
    return "\n".join(rows) + "\n"
