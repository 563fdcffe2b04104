"""Runs one sandbox with a synthetic dataset in its own process, for the benchmarks (never measured itself).

Prints one JSON line (url, key, body size, site ids) once it accepts requests, then serves until its
stdin closes, so it never outlives the harness. No request logging: the log would cost the server CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from outagesync.sandbox import Latency, Sandbox, generate_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outages", type=int, required=True)
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--sites", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--json-style", default="compact", help="how GET /outages is written (see sandbox)")
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = generate_dataset(args.outages, args.devices, args.sites, args.seed)
    generated_s = time.perf_counter() - started
    faults = [Latency(args.latency_ms)] if args.latency_ms else []
    with Sandbox(dataset, faults=faults, json_style=args.json_style) as sandbox:
        ready = {
            "url": sandbox.url,
            "api_key": sandbox.api_key,
            "outages_body_bytes": len(sandbox.dataset.outages_body),
            "site_ids": list(dataset.sites),
            "generated_s": round(generated_s, 3),
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # returns at EOF: the harness closed the pipe or exited


if __name__ == "__main__":
    main()
