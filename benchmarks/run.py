"""The benchmark suite (`make bench`): outagesync against the floor and a plain script, on the sandbox.

Each case starts a sandbox (own process, 127.0.0.1) with a seeded synthetic dataset, runs outagesync once
to warm the sandbox up and record what it posts, then runs ours, the floor and the plain script in turn,
each in a fresh process (peak RSS per child), `--runs` times, and reports medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from measure import HERE, PYTHON, ChildRun, SandboxProcess, run_child, run_command, traffic_of
from results import format_table, format_targets, markdown_table, plot, targets_of

ROOT = HERE.parent
CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    outages: int
    devices: int
    sites: int
    latency_ms: float = 0.0
    json_style: str = "compact"
    runs: int = 3
    plain_runs: int = 1  # the reference script is slow on large cases: it is not what the targets compare
    plain_sample: int = 1  # the plain script runs on 1/plain_sample of the outages (same devices and sites)
    plain_sites: int | None = None  # the plain script syncs only this many sites


CASES = {
    case.name: case
    for case in (
        Case("1k", 1_000, 8, 1, runs=7, plain_runs=3),
        Case("100k-10k-devices", 100_000, 10_000, 1, runs=5, plain_sample=10),
        Case("1m", 1_000_000, 8, 1),
        Case("1m-spaced", 1_000_000, 8, 1, json_style="spaced"),
        Case("1m-indented", 1_000_000, 8, 1, json_style="indented"),
        # the plain script scans 10,000 devices per outage: run it on 1% of the outages, scale x100
        Case("1m-10k-devices", 1_000_000, 10_000, 1, plain_sample=100),
        # the plain script fetches /outages again per site: run it on 10 sites, scale x100
        Case("1000-sites", 100_000, 10_000, 1_000, latency_ms=10, plain_sites=10),
    )
}
STARTUP = "startup"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    names = [*CASES, STARTUP]
    parser.add_argument("--case", action="append", choices=names, help="run only this case (repeatable)")
    parser.add_argument("--runs", type=int, help="runs per program and case (default: per case)")
    parser.add_argument("--quick", action="store_true", help="one run of each: a smoke test, noisy")
    parser.add_argument(
        "--json", type=Path, default=HERE / "results" / "latest.json", help="results (and a .md table beside)"
    )
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "performance.png", help="PNG plot")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    started = time.perf_counter()
    results = []
    for name in args.case or names:
        _say(f"== {name}")
        result = measure_startup(runs or 7) if name == STARTUP else measure_case(CASES[name], runs)
        result["targets"] = targets_of(result)
        results.append(result)
    duration_s = time.perf_counter() - started
    document = {"meta": _meta(duration_s, runs), "cases": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    args.json.with_suffix(".md").write_text(markdown_table(results))
    plot(results, args.plot)
    print(format_table(results))
    print()
    print(format_targets(results))
    print(f"\ntotal {duration_s:.0f} s; wrote {args.json} and {args.plot}")


def measure_case(case: Case, runs: int | None) -> dict[str, Any]:
    """ours (the installed `outagesync sync`), the floor and the plain script, each a whole process from
    start-up to exit, interleaved against one sandbox."""
    runs = runs or case.runs
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess(
            outages=case.outages,
            devices=case.devices,
            sites=case.sites,
            latency_ms=case.latency_ms,
            json_style=case.json_style,
        ) as sandbox,
    ):
        sites = sandbox.site_ids
        payloads = Path(tmp) / "payloads.bin"
        _say(f"   sandbox ready ({sandbox.outages_body_bytes / 1e6:.0f} MB /outages); warm-up run")
        env = {**sandbox.env(), "OUTAGESYNC_DATABASE_URL": f"sqlite:///{Path(tmp) / 'reports.db'}"}
        ours_args = [str(Path(PYTHON).parent / "outagesync"), "sync", *sites, f"--concurrency={CONCURRENCY}"]
        run_command(ours_args, env)  # untimed: warms the sandbox's caches and the .pyc files
        save_payloads(payloads, {site_id: sandbox.accepted_body(site_id) for site_id in sites})
        programs = {
            "ours": ours_args,
            "floor": [PYTHON, str(HERE / "floor.py"), str(payloads), f"--concurrency={CONCURRENCY}"],
        }
        measured: dict[str, list[tuple[ChildRun, dict[str, Any]]]] = {"ours": [], "floor": [], "plain": []}
        for run in range(runs):
            for who, args in programs.items():
                measured[who].append(_run_logged(sandbox, args, env, command=who == "ours"))
                last = measured[who][-1][0]
                mb = last.peak_rss_bytes / 2**20
                _say(f"   run {run + 1}/{runs} {who}: {last.process_s:.2f} s, {mb:.0f} MB")
        plain_sites = sites[: case.plain_sites] if case.plain_sites else sites
        plain_args = [PYTHON, str(HERE / "plain_script.py"), *plain_sites]
        if case.plain_sample == 1:
            for run in range(case.plain_runs):
                measured["plain"].append(_run_logged(sandbox, plain_args, env))
                _say(f"   run {run + 1}/{case.plain_runs} plain: {measured['plain'][-1][0].process_s:.2f} s")
    if case.plain_sample > 1:
        sample = case.outages // case.plain_sample
        with SandboxProcess(
            outages=sample, devices=case.devices, sites=case.sites, json_style=case.json_style
        ) as sampled:
            for run in range(case.plain_runs):
                measured["plain"].append(_run_logged(sampled, plain_args, sampled.env()))
                process_s = measured["plain"][-1][0].process_s
                _say(f"   run {run + 1}/{case.plain_runs} plain on {sample:,} outages: {process_s:.2f} s")
    result: dict[str, Any] = {
        "name": case.name,
        "outages": case.outages,
        "devices": case.devices,
        "sites": case.sites,
        "latency_ms": case.latency_ms,
        "json_style": case.json_style,
        "concurrency": CONCURRENCY,
        "outages_body_bytes": sandbox.outages_body_bytes,
        "runs": runs,
        **{who: _summary(case, runs_) for who, runs_ in measured.items()},
    }
    result["plain"].update(_plain_scaling(case))
    result["ratios"] = _ratios(result)
    return result


def save_payloads(path: Path, bodies: dict[str, bytes]) -> None:
    """What the floor posts: a JSON header {site id: length}, then the bodies (floor.load_payloads)."""
    with path.open("wb") as file:
        file.write(json.dumps({site: len(body) for site, body in bodies.items()}).encode() + b"\n")
        for body in bodies.values():
            file.write(body)


def _run_logged(
    sandbox: SandboxProcess, args: list[str], env: dict[str, str], *, command: bool = False
) -> tuple[ChildRun, dict[str, Any]]:
    """Run a child against the sandbox; also what the sandbox saw of it (its request log grows per run)."""
    before = len(sandbox.request_log())
    run = run_command(args, env) if command else run_child(args, env)
    traffic = traffic_of(sandbox.request_log()[before:])
    if traffic.errors:
        raise RuntimeError(f"{args[1]}: {traffic.errors} request(s) were not answered 200: {traffic}")
    return run, {"requests": traffic.requests, "server_ms": traffic.server_ms}


def _summary(case: Case, measured: list[tuple[ChildRun, dict[str, Any]]]) -> dict[str, Any]:
    runs = [run for run, _ in measured]
    median_s = statistics.median(run.process_s for run in runs)  # start-up to exit, for all three
    last = measured[-1][1]
    return {
        "median_s": median_s,
        "runs_s": [round(run.process_s, 4) for run in runs],
        "work_median_s": statistics.median(run.work_s for run in runs),
        "cpu_median_s": statistics.median(run.cpu_s for run in runs),
        "peak_rss_bytes": max(run.peak_rss_bytes for run in runs),
        "outages_per_s": case.outages / median_s,
        "requests": last["requests"],
        "server_ms": last["server_ms"],
        "get_outages_per_run": [traffic["requests"].get("GET /outages", 0) for _, traffic in measured],
    }


def _plain_scaling(case: Case) -> dict[str, Any]:
    """Scale a capped plain-script time up to the whole case, linearly, and say so."""
    factor = float(case.plain_sample)
    note = ""
    if case.plain_sample > 1:
        note = (
            f"measured on 1/{case.plain_sample} of the outages ({case.outages // case.plain_sample:,}, "
            f"same {case.devices:,} devices), time x{case.plain_sample} "
            "(its device scan is linear in outages)"
        )
    if case.plain_sites:
        factor = case.sites / case.plain_sites
        note = (
            f"measured on {case.plain_sites} of the {case.sites:,} sites, time x{factor:g} "
            "(it works site by site)"
        )
    if not note:
        return {}
    return {"scale": factor, "measured_median_s": None, "extrapolated": note}


def _ratios(result: dict[str, Any]) -> dict[str, float]:
    plain = result["plain"]
    if "scale" in plain:
        plain["measured_median_s"] = plain["median_s"]
        plain["median_s"] *= plain["scale"]
        plain["outages_per_s"] = result["outages"] / plain["median_s"]
    ours_s = result["ours"]["median_s"]
    requests = sum(result["ours"]["requests"].values())
    ratios = {
        "ours_over_floor": ours_s / result["floor"]["median_s"],
        "plain_over_ours": plain["median_s"] / ours_s,
        "rss_over_body": result["ours"]["peak_rss_bytes"] / result["outages_body_bytes"],
    }
    if result["latency_ms"]:
        ideal_s = requests / result["concurrency"] * result["latency_ms"] / 1000
        ratios["ideal_s"] = ideal_s
        ratios["ours_over_ideal"] = ours_s / ideal_s
    return ratios


def measure_startup(runs: int) -> dict[str, Any]:
    """`outagesync --help` in a fresh process, against a bare interpreter; median wall time of each."""
    commands = {"ours": [str(Path(PYTHON).parent / "outagesync"), "--help"], "floor": [PYTHON, "-c", "pass"]}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # see SandboxProcess.env
    result: dict[str, Any] = {"name": STARTUP, "outages": 0, "devices": 0, "sites": 0, "runs": runs}
    for who, args in commands.items():
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)  # untimed: writes the .pyc files
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)
            times.append(time.perf_counter() - started)
        result[who] = {"median_s": statistics.median(times), "runs_s": [round(t, 4) for t in times]}
        _say(f"   {' '.join(args[-2:])}: {result[who]['median_s']:.3f} s")
    result["ratios"] = {}
    return result


def _meta(duration_s: float, runs: int | None) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {platform.processor() or '?'}",
        "cpus": len(os.sched_getaffinity(0)),
        "runs": runs,
        "duration_s": round(duration_s, 1),
    }


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
