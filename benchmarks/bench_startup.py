"""Start-up time of the `outagesync` command with telemetry off: `--help`, `sync --help`, `--version`.

Each command runs `--runs` times in a fresh process; the median wall time and the median CPU time (user +
system of the child: less disturbed by other load on the machine) are reported. With `--compare REV`, the
same commands run from a git worktree of REV too, interleaved run by run, so both see the same machine.
Telemetry variables are removed from the environment: this measures the cost of telemetry being off.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (("--help",), ("sync", "--help"), ("--version",))
TELEMETRY = ("OTEL_", "SENTRY_", "ROLLBAR_", "OUTAGESYNC_PUSHGATEWAY", "OUTAGESYNC_LOG_FORMAT")


def _env(source: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(TELEMETRY)}
    env["PYTHONPATH"] = str(source)  # this tree's code, before the installed one
    return env


def _once(source: Path, args: tuple[str, ...]) -> tuple[float, float]:
    """(wall s, CPU s) of one `outagesync ARGS` from `source`."""
    code = "import sys; from outagesync.entrypoints.cli import main; sys.argv[0] = 'outagesync'; main()"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], env=_env(source), capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(sources: dict[str, Path], runs: int) -> dict[str, dict[str, dict[str, float]]]:
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {
        name: {" ".join(args): [] for args in COMMANDS} for name in sources
    }
    for source in sources.values():  # warm the file cache and the .pyc files first
        for args in COMMANDS:
            _once(source, args)
    for _ in range(runs):
        for args in COMMANDS:
            for name, source in sources.items():
                samples[name][" ".join(args)].append(_once(source, args))
    return {
        name: {
            command: {
                "wall_ms": round(statistics.median(w for w, _ in values) * 1000, 1),
                "cpu_ms": round(statistics.median(c for _, c in values) * 1000, 1),
            }
            for command, values in by_command.items()
        }
        for name, by_command in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare", metavar="REV", help="also measure this git revision (a worktree of it)")
    parser.add_argument("--json", type=Path, help="write the results here")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        sources = {"this tree": ROOT / "src"}
        if options.compare:
            tree = Path(scratch) / "compare"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), options.compare],
                check=True,
            )
            sources = {options.compare: tree / "src", **sources}
        try:
            results = measure(sources, options.runs)
        finally:
            if options.compare:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True
                )
    print(f"median of {options.runs} runs (wall ms / CPU ms)")
    print("| command | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for args in COMMANDS:
        command = " ".join(args)
        cells = [f"{r[command]['wall_ms']:.0f} / {r[command]['cpu_ms']:.0f}" for r in results.values()]
        print(f"| `outagesync {command}` | " + " | ".join(cells) + " |")
    if options.json:
        options.json.write_text(json.dumps({"runs": options.runs, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
